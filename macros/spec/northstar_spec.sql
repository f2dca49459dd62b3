{#-
    The North Star spec, validated and normalized.

    Every model that needs the spec calls `northstar_spec()`; it reads
    `var('northstar')` (dbt_project.yml, or `--vars`), checks it, fills defaults and
    returns one dict:

        entity, entity_column, grains, primary_grain, segments, activity_events,
        events, aha, metrics (north star first, then inputs, guardrails, outputs)

    A configuration error raises at parse time with the field path and the value, e.g.
    `northstar.inputs: expected 3 to 5 input metrics, got 6`.
-#}
{% macro northstar_spec() %}
    {%- set raw = var('northstar', none) -%}
    {%- if raw is none or raw is not mapping -%}
        {{ northstar_spec_error('northstar', 'the North Star spec is missing (dbt_project.yml vars.northstar)', raw) }}
    {%- endif -%}

    {%- set entity = raw.get('entity', 'account') -%}
    {%- if entity not in ['account', 'user'] -%}
        {{ northstar_spec_error('northstar.entity', "must be 'account' or 'user'", entity) }}
    {%- endif -%}

    {%- set grains = raw.get('grains', ['day', 'week', 'month']) -%}
    {%- if grains is string or grains | length == 0 -%}
        {{ northstar_spec_error('northstar.grains', 'must be a non-empty list of day, week, month', grains) }}
    {%- endif -%}
    {%- for grain in grains -%}
        {%- if grain not in ['day', 'week', 'month'] -%}
            {{ northstar_spec_error('northstar.grains[' ~ loop.index0 ~ ']', 'must be day, week or month', grain) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set primary_grain = raw.get('primary_grain', 'week' if 'week' in grains else grains[0]) -%}
    {%- if primary_grain not in grains -%}
        {{ northstar_spec_error('northstar.primary_grain', 'must be one of the grains ' ~ grains | join(', '), primary_grain) }}
    {%- endif -%}

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

    {%- set segments = [] -%}
    {%- set segment_names = [] -%}
    {%- for segment in raw.get('segments', []) or [] -%}
        {%- set field = 'northstar.segments[' ~ loop.index0 ~ ']' -%}
        {%- if segment is string -%}{%- set segment = {'name': segment, 'source': 'entity'} -%}{%- endif -%}
        {%- if segment.get('name') is none or not modules.re.match('^[a-z][a-z0-9_]*$', segment.get('name')) -%}
            {{ northstar_spec_error(field ~ '.name', 'must be a lowercase identifier', segment.get('name')) }}
        {%- endif -%}
        {%- if segment.name in segment_names or segment.name == 'all' -%}
            {{ northstar_spec_error(field ~ '.name', 'is used twice (or is the reserved name all)', segment.name) }}
        {%- endif -%}
        {%- set source = segment.get('source', 'entity') -%}
        {%- if source not in ['entity', 'first_event'] -%}
            {{ northstar_spec_error(field ~ '.source', 'must be entity (a column of the accounts/users table) or first_event', source) }}
        {%- endif -%}
        {%- if source == 'first_event' and segment.name not in ['platform', 'country'] -%}
            {{ northstar_spec_error(field ~ '.name', 'unknown segment: events carry only platform and country', segment.name) }}
        {%- endif -%}
        {%- do segment_names.append(segment.name) -%}
        {%- do segments.append({'name': segment.name, 'source': source}) -%}
    {%- endfor -%}

    {%- set activity_events = raw.get('activity_events', taxonomy.keys() | list) -%}
    {{ northstar_spec_check_events('northstar.activity_events', activity_events, taxonomy) }}

    {%- set aha = raw.get('aha') -%}
    {%- if aha is none -%}
        {{ northstar_spec_error('northstar.aha', 'declare the aha moment: {events, threshold, window_days}', aha) }}
    {%- endif -%}
    {{ northstar_spec_check_events('northstar.aha.events', aha.get('events'), taxonomy) }}
    {{ northstar_spec_check_number('northstar.aha.threshold', aha.get('threshold'), 1) }}
    {{ northstar_spec_check_number('northstar.aha.window_days', aha.get('window_days'), 1) }}

    {%- set inputs = raw.get('inputs', []) or [] -%}
    {%- if inputs | length < 3 or inputs | length > 5 -%}
        {{ northstar_spec_error('northstar.inputs', 'expected 3 to 5 input metrics, got ' ~ inputs | length, inputs | map(attribute='name') | list) }}
    {%- endif -%}
    {%- if raw.get('north_star') is none -%}
        {{ northstar_spec_error('northstar.north_star', 'declare the North Star Metric', none) }}
    {%- endif -%}

    {%- set entries = [('north_star', 'northstar.north_star', raw.north_star)] -%}
    {%- for role, key in [('input', 'inputs'), ('guardrail', 'guardrails'), ('output', 'outputs')] -%}
        {%- for entry in raw.get(key, []) or [] -%}
            {%- do entries.append((role, 'northstar.' ~ key ~ '[' ~ loop.index0 ~ ']', entry)) -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- set context = {'taxonomy': taxonomy, 'grains': grains, 'primary_grain': primary_grain, 'north_star': raw.north_star.get('name')} -%}
    {%- set metrics = [] -%}
    {%- set metric_names = [] -%}
    {%- set metric_fields = {} -%}
    {%- for role, field, entry in entries -%}
        {%- set metric = northstar_spec_metric(role, field, entry, context) -%}
        {%- if metric.name in metric_fields -%}
            {{ northstar_spec_error(field ~ '.name', 'metric names must be unique across the North Star, inputs, guardrails and outputs: already used by ' ~ metric_fields[metric.name], metric.name) }}
        {%- endif -%}
        {%- do metric_names.append(metric.name) -%}
        {%- do metric_fields.update({metric.name: field}) -%}
        {%- do metric.update({'sort_order': loop.index}) -%}
        {%- do metrics.append(metric) -%}
    {%- endfor -%}
    {%- for metric in metrics -%}
        {%- if metric.parent_metric is not none and metric.parent_metric not in metric_names -%}
            {{ northstar_spec_error(metric.field ~ '.parent', 'unknown parent metric', metric.parent_metric) }}
        {%- endif -%}
    {%- endfor -%}

    {{ return({
        'entity': entity,
        'entity_column': entity ~ '_id',
        'grains': grains,
        'primary_grain': primary_grain,
        'segments': segments,
        'activity_events': activity_events,
        'events': taxonomy,
        'aha': {'events': aha.events, 'threshold': aha.threshold, 'window_days': aha.window_days},
        'metrics': metrics,
    }) }}
{% endmacro %}


{% macro northstar_spec_error(field, problem, value) %}
    {{ exceptions.raise_compiler_error('northstar spec: ' ~ field ~ ': ' ~ problem ~ ' (got: ' ~ tojson(value) ~ ')') }}
{% endmacro %}


{% macro northstar_spec_check_events(field, names, taxonomy) %}
    {%- if names is none or names is string or names | length == 0 -%}
        {{ northstar_spec_error(field, 'must be a non-empty list of event names', names) }}
    {%- endif -%}
    {%- for name in names -%}
        {%- if name not in taxonomy -%}
            {{ northstar_spec_error(field, 'unknown event ' ~ tojson(name) ~ '; declared events: ' ~ taxonomy.keys() | sort | join(', '), name) }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}


{% macro northstar_spec_check_number(field, value, minimum=none, maximum=none) %}
    {%- if value is none or value is string or value is boolean or value is not number -%}
        {{ northstar_spec_error(field, 'must be a number', value) }}
    {%- endif -%}
    {%- if minimum is not none and value < minimum -%}
        {{ northstar_spec_error(field, 'must be at least ' ~ minimum, value) }}
    {%- endif -%}
    {%- if maximum is not none and value > maximum -%}
        {{ northstar_spec_error(field, 'must be at most ' ~ maximum, value) }}
    {%- endif -%}
{% endmacro %}


{% macro northstar_spec_check_property(field, events, property, taxonomy, numeric=true) %}
    {%- if property is none -%}
        {{ northstar_spec_error(field, 'name the property', property) }}
    {%- endif -%}
    {%- for event_name in events -%}
        {%- set declared = taxonomy[event_name] -%}
        {%- if property not in declared -%}
            {{ northstar_spec_error(field, 'unknown property of event ' ~ event_name ~ '; declared: ' ~ (declared.keys() | sort | join(', ') or 'none'), property) }}
        {%- endif -%}
        {%- if numeric and declared[property] != 'number' -%}
            {{ northstar_spec_error(field, 'property ' ~ property ~ ' of ' ~ event_name ~ ' must be declared as number', property) }}
        {%- endif -%}
    {%- endfor -%}
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
