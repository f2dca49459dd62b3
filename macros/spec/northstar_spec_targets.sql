{#-
    A metric's `targets`, validated and normalized (called by northstar_spec_metric).

    Two shapes (docs/spec.md, "Targets"):
      - a mapping of configured grains to numbers, {week: 60000}: the total's fixed target
        at each grain (the short form);
      - a list of targets, each {grain, segment, value} (a fixed target) or
        {grain, segment, baseline: {value, date}, goal: {value, by}} (a time-bound target:
        the straight line from the baseline to the goal, reached on the deadline `by`).
        grain defaults to the primary grain; segment, {name: value}, to the total.

    Normalized: a list, one entry per (grain, segment) in the order given, each
        {grain, segment_name, segment_value ('all'/'all' for the total), kind
         (fixed | time_bound), value (fixed), baseline_value, baseline_date, goal_value,
         deadline (time_bound; dates as 'YYYY-MM-DD')}.

    A fixed target of the total is never a segment's: a segment row has a fixed or
    time-bound target only when an entry names its segment (fct_metric_values).
-#}
{% macro northstar_spec_targets(field, targets, direction, context) %}
    {%- set grains = context.grains | join(', ') -%}
    {%- set segments = context.segment_names -%}
    {%- set shape = 'a list of targets, or a mapping of configured grains (' ~ grains
        ~ ') to target values, e.g. {week: 60000}' -%}
    {%- if targets is none -%}
        {{ return([]) }}
    {%- elif targets is mapping -%}
        {%- set by_grain = northstar_spec_fields(field, {'targets': targets}, [
            {'key': 'targets', 'rule': 'map', 'path': field, 'problem': 'must be ' ~ shape,
                'each_key': {'rule': 'one_of', 'choices': context.grains, 'problem': 'keys must be configured grains (' ~ grains ~ ')'},
                'each_value': {'rule': 'number'}},
        ], context).targets -%}
        {%- set entries = [] -%}
        {%- for grain in context.grains if grain in by_grain -%}
            {%- do entries.append({'grain': grain, 'segment': none, 'value': by_grain[grain], 'baseline': none, 'goal': none}) -%}
        {%- endfor -%}
    {%- elif targets is string or targets is not sequence -%}
        {{ northstar_spec_error(field, 'must be ' ~ shape, targets) }}
    {%- else -%}
        {%- set entries = northstar_spec_fields(field, {'targets': targets}, [
            {'key': 'targets', 'rule': 'list', 'path': field, 'each': {
                'rule': 'record', 'closed': true, 'problem': 'must be a target: {grain, segment, value} or {grain, segment, baseline, goal}', 'fields': [
                    {'key': 'grain', 'rule': 'one_of', 'choices': context.grains, 'default': context.primary_grain,
                        'problem': 'must be one of the configured grains (' ~ grains ~ ')'},
                    {'key': 'segment', 'rule': 'map', 'optional': true, 'default': none, 'min_length': 1, 'max_length': 1,
                        'problem': 'must be one segment and its value, e.g. {plan: business}',
                        'each_key': {'rule': 'one_of', 'choices': segments,
                            'problem': 'unknown segment; ' ~ ('segments: ' ~ segments | join(', ') if segments else 'the spec declares no segments')},
                        'each_value': {'rule': 'text',
                            'problem': "must be a segment value, a string (quote one YAML reads otherwise: 'NO', 'on', '1')"}},
                    {'key': 'value', 'rule': 'number', 'optional': true, 'default': none},
                    {'key': 'baseline', 'rule': 'record', 'closed': true, 'optional': true, 'default': none, 'fields': [
                        {'key': 'value', 'rule': 'number'},
                        {'key': 'date', 'rule': 'date'},
                    ]},
                    {'key': 'goal', 'rule': 'record', 'closed': true, 'optional': true, 'default': none, 'fields': [
                        {'key': 'value', 'rule': 'number'},
                        {'key': 'by', 'rule': 'date', 'problem': 'must be the deadline, a date YYYY-MM-DD'},
                    ]},
                ]}},
        ], context).targets -%}
    {%- endif -%}

    {%- set normalized = [] -%}
    {%- set seen = {} -%}
    {%- for entry in entries -%}
        {%- set path = field ~ '[' ~ loop.index0 ~ ']' -%}
        {%- set time_bound = entry.baseline is not none or entry.goal is not none -%}
        {%- if (entry.value is none) == (not time_bound) -%}
            {{ northstar_spec_error(path, 'give either value (a fixed target) or baseline {value, date} and goal {value, by} (a time-bound target)', targets[loop.index0]) }}
        {%- endif -%}
        {%- for part, keys in [('baseline', '{value, date}'), ('goal', '{value, by}')] if time_bound and entry[part] is none -%}
            {{ northstar_spec_error(path ~ '.' ~ part, 'a time-bound target needs both baseline {value, date} and goal {value, by}', none) }}
        {%- endfor -%}
        {%- if time_bound and entry.goal.by <= entry.baseline.date -%}
            {{ northstar_spec_error(path ~ '.goal.by', 'the deadline must be after the baseline date ' ~ entry.baseline.date, entry.goal.by) }}
        {%- endif -%}
        {%- if time_bound and direction == 'higher_is_better' and entry.goal.value < entry.baseline.value -%}
            {{ northstar_spec_error(path ~ '.goal.value', 'must be at or above the baseline value ' ~ entry.baseline.value ~ ' when higher_is_better', entry.goal.value) }}
        {%- elif time_bound and direction == 'lower_is_better' and entry.goal.value > entry.baseline.value -%}
            {{ northstar_spec_error(path ~ '.goal.value', 'must be at or below the baseline value ' ~ entry.baseline.value ~ ' when lower_is_better', entry.goal.value) }}
        {%- endif -%}

        {%- set segment_name, segment_value = (entry.segment.items() | list)[0] if entry.segment else ('all', 'all') -%}
        {%- set key = entry.grain ~ ', ' ~ ('the total' if segment_name == 'all' else segment_name ~ '=' ~ segment_value) -%}
        {%- if key in seen -%}
            {{ northstar_spec_error(path, 'a second target for ' ~ key ~ ' (the first is ' ~ seen[key] ~ ')', targets[loop.index0] if targets is not mapping else entry.value) }}
        {%- endif -%}
        {%- do seen.update({key: path}) -%}
        {%- do normalized.append({
            'grain': entry.grain,
            'segment_name': segment_name,
            'segment_value': segment_value,
            'kind': 'time_bound' if time_bound else 'fixed',
            'value': entry.value,
            'baseline_value': entry.baseline.value if time_bound else none,
            'baseline_date': entry.baseline.date if time_bound else none,
            'goal_value': entry.goal.value if time_bound else none,
            'deadline': entry.goal.by if time_bound else none,
        }) -%}
    {%- endfor -%}
    {{ return(normalized) }}
{% endmacro %}
