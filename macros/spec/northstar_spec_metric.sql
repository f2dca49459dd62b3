{#-
    One metric of the spec, validated and normalized (called by `northstar_spec()`).

    Kinds and what they count per period (docs/spec.md has the full menu):
      count, sum, entities, new_entities       one additive measure
      mean                                      sum of a property / events carrying it
      ratio                                     numerator measure / denominator measure
      engagement                                median or mean qualifying events per active entity
      percentile                                a percentile of a numeric property over events
      activation, retention, resurrection, churn   lifecycle shares of cohorts / active entities

    A measure is {kind: count|sum|entities|active_entities|new_entities, events, property,
    where: {property, op, value}, min_events, min_distinct_users, min_distinct_events,
    min_active_days}. min_active_days (frequency) is a positive integer: the distinct UTC
    days of the period with a matching event.

    Every metric, whatever its role, needs `name`, `kind` and `owner` (a non-blank string:
    the team or person accountable for it); `definition_version`, when given, is a
    positive integer (default 1).

    Derived facts in the result (what fct_metric_values holds for the metric):
      is_additive       the value is one additive measure (count, sum, entities, new_entities)
      is_ratio          values are shares in [0, 1]: a lifecycle kind, or unit ratio
      has_numerator     rows carry a numerator (not percentiles, not median engagement)
      has_denominator   rows carry a denominator (every kind but the additive ones)
      may_be_negative   a property's mean or percentile: the gate sets no lower bound
      completion_lag_days  days after a period ends before its value is final (activation:
                        within_days, since its cohort needs that long; else 0)
-#}
{% macro northstar_spec_metric(role, field, entry, context) %}
    {%- if entry is none or entry is not mapping -%}
        {{ northstar_spec_error(field, 'must be a mapping with at least name and kind', entry) }}
    {%- endif -%}
    {%- set name = entry.get('name') -%}
    {%- if name is none or name is not string or not modules.re.match('^[a-z][a-z0-9_]{0,62}$', name) -%}
        {{ northstar_spec_error(field ~ '.name', 'must be a lowercase identifier (letters, digits, _)', name) }}
    {%- endif -%}
    {%- set kinds = ['count', 'sum', 'entities', 'new_entities', 'mean', 'ratio', 'engagement', 'percentile', 'activation', 'retention', 'resurrection', 'churn'] -%}
    {%- set kind = entry.get('kind') -%}
    {%- if kind not in kinds -%}
        {{ northstar_spec_error(field ~ '.kind', 'must be one of ' ~ kinds | join(', '), kind) }}
    {%- endif -%}
    {%- set owner = entry.get('owner') -%}
    {%- if owner is not string or owner | trim == '' -%}
        {{ northstar_spec_error(field ~ '.owner', 'metric ' ~ name ~ ' needs an owner: the team or person accountable for it', owner) }}
    {%- endif -%}
    {%- set definition_version = entry.get('definition_version', 1) -%}
    {%- if definition_version is not integer or definition_version < 1 -%}
        {{ northstar_spec_error(field ~ '.definition_version', 'metric ' ~ name ~ ': must be a positive integer (1, 2, ...)', definition_version) }}
    {%- endif -%}
    {%- set taxonomy = context.taxonomy -%}

    {%- set metric = {
        'name': name,
        'field': field,
        'role': role,
        'kind': kind,
        'label': entry.get('label', name),
        'description': entry.get('description', ''),
        'owner': owner,
        'unit': entry.get('unit', 'ratio' if kind in ['activation', 'retention', 'resurrection', 'churn'] else none),
        'definition_version': definition_version | string,
        'parent_metric': entry.get('parent', none if role == 'north_star' else context.north_star),
        'numerator': none,
        'denominator': none,
    } -%}

    {#- the measures behind the metric -#}
    {%- if kind in ['count', 'sum', 'entities', 'new_entities'] -%}
        {%- do metric.update({'numerator': northstar_spec_measure(field, entry, taxonomy)}) -%}
    {%- elif kind == 'mean' -%}
        {#- the mean over events that carry the property: sum / count of non-null values -#}
        {%- set total = northstar_spec_measure(field, {'kind': 'sum', 'events': entry.get('events'), 'property': entry.get('property'), 'where': entry.get('where')}, taxonomy) -%}
        {%- do metric.update({'numerator': total, 'denominator': {'kind': 'count', 'events': total.events, 'property': total.property, 'where': total.where}}) -%}
    {%- elif kind == 'ratio' -%}
        {%- for side in ['numerator', 'denominator'] -%}
            {%- if entry.get(side) is not mapping -%}
                {{ northstar_spec_error(field ~ '.' ~ side, 'a ratio needs a numerator and a denominator measure', entry.get(side)) }}
            {%- endif -%}
            {%- do metric.update({side: northstar_spec_measure(field ~ '.' ~ side, entry[side], taxonomy)}) -%}
        {%- endfor -%}
    {%- elif kind == 'engagement' -%}
        {%- do metric.update({'numerator': northstar_spec_measure(field, {'kind': 'count', 'events': entry.get('events'), 'where': entry.get('where')}, taxonomy)}) -%}
        {%- set aggregate = entry.get('aggregate', 'median') -%}
        {%- if aggregate not in ['median', 'mean'] -%}
            {{ northstar_spec_error(field ~ '.aggregate', 'must be median or mean', aggregate) }}
        {%- endif -%}
        {%- do metric.update({'aggregate': aggregate}) -%}
    {%- elif kind == 'percentile' -%}
        {{ northstar_spec_check_events(field ~ '.events', entry.get('events'), taxonomy) }}
        {{ northstar_spec_check_property(field ~ '.property', entry.events, entry.get('property'), taxonomy) }}
        {{ northstar_spec_check_number(field ~ '.percentile', entry.get('percentile')) }}
        {%- if entry.percentile <= 0 or entry.percentile >= 1 -%}
            {{ northstar_spec_error(field ~ '.percentile', 'must be a fraction strictly between 0 and 1 (0.95 for p95)', entry.percentile) }}
        {%- endif -%}
        {%- do metric.update({'events': entry.events, 'property': entry.property, 'percentile': entry.percentile, 'where': northstar_spec_where(field, entry.get('where'), entry.events, taxonomy)}) -%}
    {%- elif kind == 'activation' -%}
        {{ northstar_spec_check_number(field ~ '.within_days', entry.get('within_days'), 1) }}
        {%- do metric.update({'within_days': entry.within_days}) -%}
    {%- elif kind == 'retention' -%}
        {{ northstar_spec_check_number(field ~ '.periods_after', entry.get('periods_after'), 1) }}
        {%- do metric.update({'periods_after': entry.periods_after}) -%}
    {%- endif -%}

    {#- direction, thresholds, targets -#}
    {%- set direction = entry.get('direction') -%}
    {%- if role == 'guardrail' and direction is none -%}
        {{ northstar_spec_error(field ~ '.direction', 'a guardrail needs a direction: lower_is_better or higher_is_better', direction) }}
    {%- endif -%}
    {%- set direction = direction or 'higher_is_better' -%}
    {%- if direction not in ['higher_is_better', 'lower_is_better'] -%}
        {{ northstar_spec_error(field ~ '.direction', 'must be higher_is_better or lower_is_better', direction) }}
    {%- endif -%}
    {%- set warn = entry.get('warn') -%}
    {%- set breach = entry.get('breach') -%}
    {%- if role == 'guardrail' and (warn is none or breach is none) -%}
        {{ northstar_spec_error(field, 'a guardrail needs warn and breach thresholds', {'warn': warn, 'breach': breach}) }}
    {%- endif -%}
    {%- if warn is not none -%}{{ northstar_spec_check_number(field ~ '.warn', warn) }}{%- endif -%}
    {%- if breach is not none -%}{{ northstar_spec_check_number(field ~ '.breach', breach) }}{%- endif -%}
    {%- if warn is not none and breach is not none -%}
        {%- if direction == 'lower_is_better' and warn >= breach -%}
            {{ northstar_spec_error(field ~ '.warn', 'must be below the breach threshold ' ~ breach ~ ' when lower_is_better', warn) }}
        {%- elif direction == 'higher_is_better' and warn <= breach -%}
            {{ northstar_spec_error(field ~ '.warn', 'must be above the breach threshold ' ~ breach ~ ' when higher_is_better', warn) }}
        {%- endif -%}
    {%- endif -%}
    {%- set status_grains = entry.get('status_grains', [context.primary_grain]) -%}
    {%- for grain in status_grains -%}
        {%- if grain not in context.grains -%}
            {{ northstar_spec_error(field ~ '.status_grains', 'must list configured grains (' ~ context.grains | join(', ') ~ ')', grain) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set targets = entry.get('targets') -%}
    {%- if targets is none -%}
        {%- set targets = {} -%}
    {%- elif targets is not mapping -%}
        {{ northstar_spec_error(field ~ '.targets', 'must be a mapping of configured grains (' ~ context.grains | join(', ') ~ ') to target values, e.g. {week: 60000}', targets) }}
    {%- endif -%}
    {%- for grain, value in targets.items() -%}
        {%- if grain not in context.grains -%}
            {{ northstar_spec_error(field ~ '.targets', 'keys must be configured grains (' ~ context.grains | join(', ') ~ ')', grain) }}
        {%- endif -%}
        {{ northstar_spec_check_number(field ~ '.targets.' ~ grain, value) }}
    {%- endfor -%}
    {%- set growth = entry.get('target_growth_rate') -%}
    {%- if growth is not none -%}
        {{ northstar_spec_check_number(field ~ '.target_growth_rate', growth, -1) }}
    {%- endif -%}

    {%- do metric.update({
        'direction': direction,
        'warn': warn,
        'breach': breach,
        'status_grains': status_grains,
        'targets': targets,
        'target_growth_rate': growth,
    }) -%}
    {#- Facts derived from the kind, here so that every reader (models, and Python through
        northstar_spec_json) takes them from one place instead of re-deriving them. -#}
    {%- set additive = kind in ['count', 'sum', 'entities', 'new_entities'] -%}
    {%- do metric.update({
        'is_additive': additive,
        'is_ratio': kind in ['activation', 'retention', 'resurrection', 'churn'] or metric.unit == 'ratio',
        'has_numerator': kind != 'percentile' and metric.get('aggregate') != 'median',
        'has_denominator': not additive,
        'may_be_negative': kind in ['mean', 'percentile'],
        'completion_lag_days': metric.within_days if kind == 'activation' else 0,
    }) -%}
    {{ return(metric) }}
{% endmacro %}


{% macro northstar_spec_measure(field, entry, taxonomy) %}
    {%- set kind = entry.get('kind') -%}
    {%- if kind not in ['count', 'sum', 'entities', 'active_entities', 'new_entities'] -%}
        {{ northstar_spec_error(field ~ '.kind', 'a measure is count, sum, entities, active_entities or new_entities', kind) }}
    {%- endif -%}
    {%- if kind in ['active_entities', 'new_entities'] -%}
        {{ return({'kind': kind, 'events': none, 'property': none, 'where': none}) }}
    {%- endif -%}
    {{ northstar_spec_check_events(field ~ '.events', entry.get('events'), taxonomy) }}
    {%- set measure = {
        'kind': kind,
        'events': entry.events,
        'property': entry.get('property'),
        'where': northstar_spec_where(field, entry.get('where'), entry.events, taxonomy),
    } -%}
    {%- if kind == 'sum' -%}
        {{ northstar_spec_check_property(field ~ '.property', entry.events, entry.get('property'), taxonomy) }}
    {%- endif -%}
    {%- if kind == 'entities' -%}
        {%- for option in ['min_events', 'min_distinct_users', 'min_distinct_events'] -%}
            {{ northstar_spec_check_number(field ~ '.' ~ option, entry.get(option, 1), 1) }}
            {%- do measure.update({option: entry.get(option, 1)}) -%}
        {%- endfor -%}
        {#- a number of days: a whole number, unlike the counts above (kept as they were) -#}
        {%- set min_active_days = entry.get('min_active_days', 1) -%}
        {%- if min_active_days is not integer or min_active_days < 1 -%}
            {{ northstar_spec_error(field ~ '.min_active_days', 'must be a positive integer (1, 2, ...): the distinct UTC days of the period with a matching event', min_active_days) }}
        {%- endif -%}
        {%- do measure.update({'min_active_days': min_active_days}) -%}
    {%- endif -%}
    {{ return(measure) }}
{% endmacro %}


{% macro northstar_spec_where(field, where, events, taxonomy) %}
    {%- if where is none -%}{{ return(none) }}{%- endif -%}
    {%- set ops = ['=', '!=', '>', '>=', '<', '<=', 'in', 'not_in'] -%}
    {%- if where is not mapping or where.get('op') not in ops -%}
        {{ northstar_spec_error(field ~ '.where', 'must be {property, op, value} with op one of ' ~ ops | join(' '), where) }}
    {%- endif -%}
    {{ northstar_spec_check_property(field ~ '.where.property', events, where.get('property'), taxonomy, numeric=false) }}
    {%- set numeric = taxonomy[events[0]][where.property] == 'number' -%}
    {%- set values = where.get('value') if where.op in ['in', 'not_in'] else [where.get('value')] -%}
    {%- if values is none or values is string or values | length == 0 -%}
        {{ northstar_spec_error(field ~ '.where.value', 'in / not_in need a list of values', where.get('value')) }}
    {%- endif -%}
    {%- for value in values -%}
        {%- if numeric and (value is none or value is string or value is not number) -%}
            {{ northstar_spec_error(field ~ '.where.value', 'must be a number: ' ~ where.property ~ ' is numeric', value) }}
        {%- elif not numeric and value is not string -%}
            {{ northstar_spec_error(field ~ '.where.value', 'must be a string: ' ~ where.property ~ ' is a string property', value) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'property': where.property, 'op': where.op, 'values': values, 'numeric': numeric}) }}
{% endmacro %}
