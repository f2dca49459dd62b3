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
    positive integer (default 1), and so is `accept_restatement` (default null: the
    definition_version whose restatement of the published history is acknowledged,
    docs/definition-versions.md; naming the version makes it lapse at the next bump).

    Derived facts in the result (what fct_metric_values holds for the metric):
      is_additive       the value is one additive measure (count, sum, entities, new_entities)
      is_ratio          values are shares in [0, 1]: a lifecycle kind, or unit ratio
      has_numerator     rows carry a numerator (not percentiles, not median engagement)
      has_denominator   rows carry a denominator (every kind but the additive ones)
      may_be_negative   a property's mean or percentile: the gate sets no lower bound
      completion_lag_days  days after a period ends before its value is final (activation:
                        within_days, since its cohort needs that long; else 0)
      reads_events      the events the value depends on: its measures' events, the activity
                        events for active and new entities and the lifecycle kinds, the aha
                        events for activation (the lint's unmovable_north_star)
      summed_properties the properties its sum measures total (the lint's revenue and
                        cumulative rules)
-#}
{#- Every metric kind, one row each (a new kind is a new row):
      measures     {numerator, denominator}: 'own' (the metric is itself that measure, of
                   its own kind: an additive value) or {kind, from: [the metric's keys it
                   is built from]}
      fields       its own settings, in northstar_spec_fields rows (copied into the metric)
      share        a lifecycle share of entities: unit ratio by default, always is_ratio
      has_numerator  false when rows carry no numerator (default true)
      may_be_negative  a property's value, which may be below 0
      completion_lag   the field holding the days a period waits for its cohort
      reads        beyond its measures' events, the events its value depends on: the
                   activity events ('activity': it counts which entities are active; a
                   share reads them anyway) and the aha events ('aha')
      entity_value what one entity's value in a period is, for the backtest: its
                   'numerator' alone, or the 'quotient' of its numerator and denominator;
                   absent when the kind has no value per entity (a share, a percentile) -#}
{% macro northstar_spec_metric_kinds() %}
    {%- set own = {'numerator': 'own'} -%}
    {{ return({
        'count': {'measures': own, 'entity_value': 'numerator'},
        'sum': {'measures': own, 'entity_value': 'numerator'},
        'entities': {'measures': own, 'entity_value': 'numerator'},
        'new_entities': {'measures': own},
        'mean': {
            'measures': {
                'numerator': {'kind': 'sum', 'from': ['events', 'property', 'where']},
                'denominator': {'kind': 'count', 'from': ['events', 'property', 'where']},
            },
            'may_be_negative': true,
            'entity_value': 'quotient',
        },
        'ratio': {'fields': [
            {'key': 'numerator', 'rule': 'measure', 'problem': 'a ratio needs a numerator and a denominator measure'},
            {'key': 'denominator', 'rule': 'measure', 'problem': 'a ratio needs a numerator and a denominator measure'},
        ], 'entity_value': 'quotient'},
        'engagement': {
            'measures': {'numerator': {'kind': 'count', 'from': ['events', 'where']}},
            'fields': [{'key': 'aggregate', 'rule': 'one_of', 'choices': ['median', 'mean'], 'default': 'median'}],
            'reads': ['activity'],
            'entity_value': 'numerator',
        },
        'percentile': {
            'fields': [
                {'key': 'events', 'rule': 'events'},
                {'key': 'property', 'rule': 'property'},
                {'key': 'percentile', 'rule': 'number', 'above': 0, 'below': 1,
                    'problem': 'must be a fraction strictly between 0 and 1 (0.95 for p95)'},
                {'key': 'where', 'rule': 'where', 'optional': true},
            ],
            'has_numerator': false,
            'may_be_negative': true,
        },
        'activation': {
            'fields': [{'key': 'within_days', 'rule': 'number', 'minimum': 1}],
            'share': true,
            'completion_lag': 'within_days',
            'reads': ['aha'],
        },
        'retention': {'fields': [{'key': 'periods_after', 'rule': 'number', 'minimum': 1}], 'share': true},
        'resurrection': {'share': true},
        'churn': {'share': true},
    }) }}
{% endmacro %}


{% macro northstar_spec_metric(role, field, entry, context) %}
    {%- if entry is none or entry is not mapping -%}
        {{ northstar_spec_error(field, 'must be a mapping with at least name and kind', entry) }}
    {%- endif -%}
    {%- set kinds = context.metric_kinds -%}
    {%- set checked = northstar_spec_fields(field, entry, [
        {'key': 'name', 'rule': 'identifier', 'pattern': '^[a-z][a-z0-9_]{0,62}$'},
        {'key': 'kind', 'rule': 'one_of', 'choices': kinds.keys() | list},
        {'key': 'owner', 'rule': 'text', 'problem': 'metric {metric} needs an owner: the team or person accountable for it'},
        {'key': 'definition_version', 'rule': 'positive_integer', 'default': 1, 'problem': 'metric {metric}: must be a positive integer (1, 2, ...)'},
    ], context) -%}
    {%- set name = checked.name -%}
    {%- set kind = checked.kind -%}
    {%- set row = kinds[kind] -%}

    {%- set metric = {
        'name': name,
        'field': field,
        'role': role,
        'kind': kind,
        'label': entry.get('label', name),
        'description': entry.get('description', ''),
        'owner': checked.owner,
        'unit': entry.get('unit', 'ratio' if row.get('share') else none),
        'definition_version': checked.definition_version | string,
        'parent_metric': entry.get('parent', none if role in ['north_star', 'team'] else context.north_star),
        'numerator': none,
        'denominator': none,
    } -%}

    {#- the measures behind the metric -#}
    {%- for side, source in row.get('measures', {}).items() -%}
        {%- set given = entry if source == 'own' else {'kind': source.kind} -%}
        {%- for key in ([] if source == 'own' else source.get('from', [])) if key in entry -%}
            {%- do given.update({key: entry[key]}) -%}
        {%- endfor -%}
        {%- do metric.update({side: northstar_spec_measure(field, given, context)}) -%}
    {%- endfor -%}

    {#- the kind's own settings, then direction, thresholds and targets: the guardrail's
        one-off rules first, the rows after, warn on the healthy side last -#}
    {%- if role == 'guardrail' and entry.get('direction') is none -%}
        {{ northstar_spec_error(field ~ '.direction', 'a guardrail needs a direction: lower_is_better or higher_is_better', none) }}
    {%- endif -%}
    {%- if role == 'guardrail' and (entry.get('warn') is none or entry.get('breach') is none) -%}
        {{ northstar_spec_error(field, 'a guardrail needs warn and breach thresholds', {'warn': entry.get('warn'), 'breach': entry.get('breach')}) }}
    {%- endif -%}
    {%- set grains = context.grains | join(', ') -%}
    {%- do metric.update(northstar_spec_fields(field, entry, row.get('fields', []) + [
        {'key': 'direction', 'rule': 'one_of', 'choices': ['higher_is_better', 'lower_is_better'], 'optional': true, 'default': 'higher_is_better'},
        {'key': 'warn', 'rule': 'number', 'optional': true},
        {'key': 'breach', 'rule': 'number', 'optional': true},
        {'key': 'status_grains', 'rule': 'list', 'default': [context.primary_grain],
            'each': {'rule': 'one_of', 'choices': context.grains, 'problem': 'must be one of the configured grains (' ~ grains ~ ')'}},
        {'key': 'target_growth_rate', 'rule': 'number', 'minimum': -1, 'optional': true},
        {'key': 'accept_restatement', 'rule': 'positive_integer', 'optional': true,
            'problem': 'must be the definition_version whose restatement is accepted (1, 2, ...)'},
    ], context)) -%}
    {%- set warn, breach = metric.warn, metric.breach -%}
    {%- if warn is not none and breach is not none -%}
        {%- if metric.direction == 'lower_is_better' and warn >= breach -%}
            {{ northstar_spec_error(field ~ '.warn', 'must be below the breach threshold ' ~ breach ~ ' when lower_is_better', warn) }}
        {%- elif metric.direction == 'higher_is_better' and warn <= breach -%}
            {{ northstar_spec_error(field ~ '.warn', 'must be above the breach threshold ' ~ breach ~ ' when higher_is_better', warn) }}
        {%- endif -%}
    {%- endif -%}
    {#- after direction: a time-bound goal must lie the better way from its baseline -#}
    {%- do metric.update({'targets': northstar_spec_targets(field ~ '.targets', entry.get('targets'), metric.direction, context)}) -%}

    {#- Facts derived from the kind, here so that every reader (models, and Python through
        northstar_spec_json) takes them from one place instead of re-deriving them. -#}
    {%- set additive = row.get('measures', {}).get('numerator') == 'own' -%}
    {%- do metric.update({
        'is_additive': additive,
        'is_ratio': row.get('share', false) or metric.unit == 'ratio',
        'has_numerator': row.get('has_numerator', true) and metric.get('aggregate') != 'median',
        'has_denominator': not additive,
        'may_be_negative': row.get('may_be_negative', false),
        'completion_lag_days': metric[row.completion_lag] if row.get('completion_lag') else 0,
        'entity_value': row.get('entity_value'),
    }) -%}
    {#- For the lint (northstar_spec_lint.sql): the events the value depends on (a measure
        of active or new entities depends on the activity events) and the properties it
        totals. -#}
    {%- set measures = [metric.numerator, metric.denominator] | reject('none') | list -%}
    {%- set reads = [] -%}
    {%- do reads.extend(metric.get('events') or []) -%}
    {%- for measure in measures -%}
        {%- do reads.extend(context.activity_events if measure.kind in ['active_entities', 'new_entities'] else measure.events) -%}
    {%- endfor -%}
    {%- for source in (['activity'] if row.get('share') else []) + row.get('reads', []) -%}
        {%- do reads.extend(context.activity_events if source == 'activity' else context.aha_events) -%}
    {%- endfor -%}
    {%- do metric.update({
        'reads_events': reads | unique | sort | list,
        'summed_properties': measures | selectattr('kind', 'equalto', 'sum') | map(attribute='property') | list,
    }) -%}
    {{ return(metric) }}
{% endmacro %}


{#- Every measure kind and the fields it reads, in northstar_spec_fields rows (a new kind
    is a new row); a measure has events, property and where, null where its kind has none.
    min_active_days is a number of days, so a whole number, unlike the minimums before it
    (kept as they were). -#}
{% macro northstar_spec_measure_kinds() %}
    {%- set events = {'key': 'events', 'rule': 'events'} -%}
    {%- set property = {'key': 'property'} -%}
    {%- set where = {'key': 'where', 'rule': 'where', 'optional': true} -%}
    {{ return({
        'count': [events, property, where],
        'sum': [events, {'key': 'property', 'rule': 'property'}, where],
        'entities': [
            events, property, where,
            {'key': 'min_events', 'rule': 'number', 'minimum': 1, 'default': 1},
            {'key': 'min_distinct_users', 'rule': 'number', 'minimum': 1, 'default': 1},
            {'key': 'min_distinct_events', 'rule': 'number', 'minimum': 1, 'default': 1},
            {'key': 'min_active_days', 'rule': 'positive_integer', 'default': 1,
                'problem': 'must be a positive integer (1, 2, ...): the distinct UTC days of the period with a matching event'},
        ],
        'active_entities': [],
        'new_entities': [],
    }) }}
{% endmacro %}


{% macro northstar_spec_measure(field, entry, context) %}
    {%- set kinds = context.measure_kinds -%}
    {%- set kind = entry.get('kind') -%}
    {%- if kind not in kinds -%}
        {%- do northstar_spec_fields(field, entry, [{'key': 'kind', 'rule': 'one_of', 'choices': kinds.keys() | list}], context) -%}
    {%- endif -%}
    {%- set measure = {'kind': kind, 'events': none, 'property': none, 'where': none} -%}
    {%- do measure.update(northstar_spec_fields(field, entry, kinds[kind], context)) -%}
    {{ return(measure) }}
{% endmacro %}


{% macro northstar_spec_where(field, where, events, taxonomy) %}
    {%- if where is none -%}{{ return(none) }}{%- endif -%}
    {%- set ops = ['=', '!=', '>', '>=', '<', '<=', 'in', 'not_in'] -%}
    {%- if where is not mapping or where.get('op') not in ops -%}
        {{ northstar_spec_error(field, 'must be {property, op, value} with op one of ' ~ ops | join(' '), where) }}
    {%- endif -%}
    {{ northstar_spec_check_property(field ~ '.property', events, where.get('property'), taxonomy, numeric=false) }}
    {%- set numeric = taxonomy[events[0]][where.property] == 'number' -%}
    {%- set values = where.get('value') if where.op in ['in', 'not_in'] else [where.get('value')] -%}
    {%- if values is none or values is string or values | length == 0 -%}
        {{ northstar_spec_error(field ~ '.value', 'in / not_in need a list of values', where.get('value')) }}
    {%- endif -%}
    {%- for value in values -%}
        {%- if numeric and (value is none or value is string or value is not number) -%}
            {{ northstar_spec_error(field ~ '.value', 'must be a number: ' ~ where.property ~ ' is numeric', value) }}
        {%- elif not numeric and value is not string -%}
            {{ northstar_spec_error(field ~ '.value', 'must be a string: ' ~ where.property ~ ' is a string property', value) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'property': where.property, 'op': where.op, 'values': values, 'numeric': numeric}) }}
{% endmacro %}
