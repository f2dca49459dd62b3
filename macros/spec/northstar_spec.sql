{#-
    The North Star spec, validated and normalized.

    Every model that needs the spec calls `northstar_spec()`; it reads
    `var('northstar')` (dbt_project.yml, or `--vars`), checks it, fills defaults and
    returns one dict:

        entity, entity_column, grains, primary_grain, segments, activity_events,
        events, aha, metrics (north star first, then inputs, guardrails, outputs, team
        metrics), diagnostics (the built-in lifecycle metrics: northstar_spec_diagnostics),
        lint (the anti-pattern warnings: northstar_spec_lint)

    A configuration error raises at parse time with the field path and the value, e.g.
    `northstar.inputs: expected 3 to 5 input metrics, got 6`.
-#}
{% macro northstar_spec() %}
    {%- set raw = var('northstar', none) -%}
    {#- Normalizing takes tens of milliseconds of Jinja, and dbt calls this from about 60
        models and tests when it parses the project and from about 30 when it runs them (a
        third of a full parse went here). So the result is kept in dbt's `graph`, one dict
        shared by every node's context, and reused for the same raw spec in the same
        invocation: a unit test's overridden spec is another raw spec, and the parse-time
        dict is saved with dbt's partial-parse state, so an entry from an earlier
        invocation (perhaps of older macros) is never read. Callers treat the returned dict
        as read-only. -#}
    {%- set cached = graph.get('northstar_spec_cache') -%}
    {%- if cached is not none and cached.invocation_id == invocation_id and cached.raw == raw -%}
        {{ return(cached.spec) }}
    {%- endif -%}
    {%- if raw is not mapping -%}
        {{ northstar_spec_error('northstar', 'the North Star spec is missing (dbt_project.yml vars.northstar)', raw) }}
    {%- endif -%}

    {#- The top-level keys, in northstar_spec_fields rows (macros/spec/northstar_spec_rules.sql);
        those whose default or choices depend on another key come after it. -#}
    {%- set all_grains = ['day', 'week', 'month'] -%}
    {%- set spec = northstar_spec_fields('northstar', raw, [
        {'key': 'entity', 'rule': 'one_of', 'choices': ['account', 'user'], 'default': 'account'},
        {'key': 'grains', 'rule': 'list', 'min_length': 1, 'default': all_grains,
            'each': {'rule': 'one_of', 'choices': all_grains}},
    ], {}) -%}
    {%- set grains = spec.grains -%}

    {%- set events = raw.get('events') -%}
    {%- if events is none or events is not mapping or events | length == 0 -%}
        {{ northstar_spec_error('northstar.events', 'declare the event taxonomy: a mapping of event name to {properties: {name: string|number}}', events) }}
    {%- endif -%}
    {%- set taxonomy = {} -%}
    {%- for event_name, event in events.items() -%}
        {%- set properties = (event or {}).get('properties', {}) or {} -%}
        {%- for property, property_type in properties.items() -%}
            {%- if property_type not in ['string', 'number'] -%}
                {{ northstar_spec_error('northstar.events.' ~ event_name ~ '.properties.' ~ property, 'type must be string or number', property_type) }}
            {%- endif -%}
        {%- endfor -%}
        {%- do taxonomy.update({event_name: properties}) -%}
    {%- endfor -%}

    {%- do spec.update(northstar_spec_fields('northstar', raw, [
        {'key': 'primary_grain', 'rule': 'one_of', 'choices': grains,
            'default': 'week' if 'week' in grains else grains[0],
            'problem': 'must be one of the grains ' ~ grains | join(', ')},
        {'key': 'segments', 'rule': 'list', 'optional': true, 'default': [], 'each': {
            'rule': 'record', 'shorthand': 'name', 'problem': 'must be a segment name or {name, source}', 'fields': [
                {'key': 'name', 'rule': 'identifier', 'pattern': '^[a-z][a-z0-9_]*$'},
                {'key': 'source', 'rule': 'one_of', 'choices': ['entity', 'first_event'], 'default': 'entity',
                    'problem': 'must be entity (a column of the accounts/users table) or first_event'},
            ]}},
        {'key': 'activity_events', 'rule': 'events', 'default': taxonomy.keys() | list},
        {'key': 'aha', 'rule': 'record', 'problem': 'declare the aha moment: {events, threshold, window_days}', 'fields': [
            {'key': 'events', 'rule': 'events'},
            {'key': 'threshold', 'rule': 'number', 'minimum': 1},
            {'key': 'window_days', 'rule': 'number', 'minimum': 1},
        ]},
    ], {'taxonomy': taxonomy})) -%}
    {%- for segment in spec.segments -%}
        {%- set field = 'northstar.segments[' ~ loop.index0 ~ '].name' -%}
        {%- if segment.name in (spec.segments[:loop.index0] | map(attribute='name')) or segment.name == 'all' -%}
            {{ northstar_spec_error(field, 'is used twice (or is the reserved name all)', segment.name) }}
        {%- endif -%}
        {%- if segment.source == 'first_event' and segment.name not in ['platform', 'country'] -%}
            {{ northstar_spec_error(field, 'unknown segment: events carry only platform and country', segment.name) }}
        {%- endif -%}
    {%- endfor -%}

    {%- set inputs = raw.get('inputs', []) or [] -%}
    {%- if inputs | length < 3 or inputs | length > 5 -%}
        {{ northstar_spec_error('northstar.inputs', 'expected 3 to 5 input metrics, got ' ~ inputs | length, inputs | map(attribute='name') | list) }}
    {%- endif -%}
    {%- if raw.get('north_star') is none -%}
        {{ northstar_spec_error('northstar.north_star', 'declare the North Star Metric', none) }}
    {%- endif -%}

    {%- set entries = [('north_star', 'northstar.north_star', raw.north_star)] -%}
    {%- for role, key in [('input', 'inputs'), ('guardrail', 'guardrails'), ('output', 'outputs'), ('team', 'team_metrics')] -%}
        {%- for entry in raw.get(key, []) or [] -%}
            {%- do entries.append((role, 'northstar.' ~ key ~ '[' ~ loop.index0 ~ ']', entry)) -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- set context = {
        'taxonomy': taxonomy,
        'grains': grains,
        'primary_grain': spec.primary_grain,
        'segment_names': spec.segments | map(attribute='name') | list,
        'north_star': raw.north_star.get('name'),
        'activity_events': spec.activity_events,
        'aha_events': spec.aha.events,
        'metric_kinds': northstar_spec_metric_kinds(),
        'measure_kinds': northstar_spec_measure_kinds(),
    } -%}
    {%- set diagnostics = northstar_spec_diagnostics(spec.entity, entries | length) -%}
    {%- set reserved = diagnostics | map(attribute='name') | list -%}
    {%- set metrics = [] -%}
    {%- set metric_fields = {} -%}
    {%- for role, field, entry in entries -%}
        {%- set metric = northstar_spec_metric(role, field, entry, context) -%}
        {%- if metric.name in metric_fields -%}
            {{ northstar_spec_error(field ~ '.name', 'metric names must be unique across the North Star, inputs, guardrails and outputs: already used by ' ~ metric_fields[metric.name], metric.name) }}
        {%- endif -%}
        {%- if metric.name in reserved -%}
            {{ northstar_spec_error(field ~ '.name', 'is the name of a built-in diagnostic metric (' ~ reserved | join(', ') ~ '; docs/spec.md, "Diagnostic metrics"): choose another name', metric.name) }}
        {%- endif -%}
        {%- do metric_fields.update({metric.name: field}) -%}
        {%- do metric.update({'sort_order': loop.index}) -%}
        {%- do metrics.append(metric) -%}
    {%- endfor -%}
    {#- parents checked, tree_depth set (macros/spec/northstar_spec_tree.sql) -#}
    {%- do northstar_spec_tree(metrics) -%}

    {%- set normalized = {
        'entity': spec.entity,
        'entity_column': spec.entity ~ '_id',
        'grains': grains,
        'primary_grain': spec.primary_grain,
        'segments': spec.segments,
        'activity_events': spec.activity_events,
        'events': taxonomy,
        'aha': spec.aha,
        'metrics': metrics,
        'diagnostics': diagnostics,
        'lint': northstar_spec_lint(raw, metrics, context),
    } -%}
    {#- candidates and backtest settings: macros/spec/northstar_spec_candidates.sql -#}
    {%- do normalized.update(northstar_spec_candidates(raw, metrics, context)) -%}
    {%- do graph.update({'northstar_spec_cache': {
        'invocation_id': invocation_id, 'raw': raw, 'spec': normalized,
    }}) -%}
    {{ return(normalized) }}
{% endmacro %}


{% macro northstar_spec_error(field, problem, value) %}
    {{ exceptions.raise_compiler_error('northstar spec: ' ~ field ~ ': ' ~ problem ~ ' (got: ' ~ tojson(value) ~ ')') }}
{% endmacro %}


{#- northstar_check_entity_segments(segments: list of spec segments with source entity,
    relation: the staged accounts or users table). Fails the build, naming the segment and
    the columns there are, when a segment is not a column of the entity table. Runs only
    when dbt executes (the columns are read from the warehouse). -#}
{% macro northstar_check_entity_segments(segments, relation) %}
    {%- if execute and segments -%}
        {%- set available = adapter.get_columns_in_relation(relation)
            | map(attribute='name') | map('lower') | list -%}
        {%- for segment in segments if segment.name not in available -%}
            {{ northstar_spec_error(
                'northstar.segments', 'unknown segment: ' ~ relation.identifier
                ~ ' has no column ' ~ segment.name ~ ' (columns: ' ~ available | join(', ') ~ ')',
                segment.name
            ) }}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
