{#-
    post-hook of stg_northstar_raw__events_classified: stop the build when this load's raw
    rows are all rejected, or more of them than var northstar__max_reject_share (a
    fraction; default 1: only when none is accepted), with the count of each reject reason, the values that failed
    and the setting that decides each reason. Without it the metric models build empty and
    the first sign is a downstream test ("test_fct_metric_values__covers_every_metric FAIL
    12"), far from the cause (an old export against the default northstar__start_date, a
    date format read wrongly).

    Costs one `limit 1` query when any row is accepted (the scan stops at the first one),
    and one count of this load's rows when a share below 1 is configured.
    Raising here fails the model, so nothing downstream runs and the load is not recorded
    as staged (the next run reads the files again).
-#}
{% macro northstar_check_accepted_rows() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set this_load = '_northstar_load_id = ' ~ northstar_load_id() -%}
    {%- set accepted = run_query(
        'select 1 from ' ~ this ~ ' where ' ~ this_load ~ ' and reject_reason is null limit 1'
    ) -%}
    {%- set max_share = var('northstar__max_reject_share', 1) -%}
    {%- if max_share is not number or max_share is boolean or max_share < 0 or max_share > 1 -%}
        {{ exceptions.raise_compiler_error(
            "northstar__max_reject_share must be a fraction between 0 and 1 (0.2 = stop when more"
            ~ " than 20% of a load's rows are rejected), got '" ~ max_share ~ "'"
        ) }}
    {%- endif -%}
    {%- set share_note = '' -%}
    {%- if accepted.rows | length > 0 -%}
        {%- if max_share >= 1 -%}
            {{ return('') }}
        {%- endif -%}
        {%- set counts = run_query(
            'select count(*), count(reject_reason) from ' ~ this ~ ' where ' ~ this_load
        ).rows[0] -%}
        {%- if counts[1] <= max_share * counts[0] -%}
            {{ return('') }}
        {%- endif -%}
        {%- set share_note = '{:,}'.format(counts[1] | int) ~ ' of the ' ~ '{:,}'.format(counts[0] | int)
            ~ ' raw event rows of this load were rejected, more than var northstar__max_reject_share = '
            ~ max_share ~ ' of them (raise it, or fix the causes below)' -%}
    {%- endif -%}
    {%- set entity_column = northstar_spec().entity_column -%}
    {%- set evidence = {
        'missing_event_id': 'raw_event_id', 'invalid_event_id': 'raw_event_id',
        'missing_event_name': 'raw_event_name', 'unknown_event_name': 'raw_event_name',
        'missing_occurred_at': 'raw_occurred_at', 'unparseable_occurred_at': 'raw_occurred_at',
        'occurred_in_future': 'raw_occurred_at', 'before_start_date': 'raw_occurred_at',
        'missing_entity_id': 'raw_' ~ entity_column, 'invalid_entity_id': 'raw_' ~ entity_column,
        'properties_not_json_object': 'raw_properties',
    } -%}
    {%- set evidence_sql -%}
        case reject_reason
            {%- for reason, column in evidence.items() %}
            when '{{ reason }}' then substring({{ column }}, 1, 60)
            {%- endfor %}
        end
    {%- endset -%}
    {%- set by_reason = run_query(
        'select reject_reason, count(*), min(occurred_at), max(occurred_at), min('
        ~ evidence_sql ~ '), max(' ~ evidence_sql ~ ') from ' ~ this ~ ' where ' ~ this_load
        ~ ' group by reject_reason order by 2 desc, 1'
    ) -%}
    {%- if by_reason.rows | length == 0 -%}
        {#- No new rows in this load (an incremental run with no new files): nothing to judge. -#}
        {{ return('') }}
    {%- endif -%}
    {%- set lines = [] -%}
    {%- set total = [] -%}
    {%- for reason, rows, first_at, last_at, low, high in by_reason.rows if reason is not none -%}
        {%- do total.append(rows | int) -%}
        {%- set line = '  ' ~ reason ~ ': ' ~ '{:,}'.format(rows | int) ~ ' row(s)' -%}
        {%- if first_at is not none -%}
            {%- set line = line ~ ', occurred_at from ' ~ first_at ~ ' to ' ~ last_at -%}
        {%- endif -%}
        {%- if low is not none -%}
            {%- set line = line ~ ", values such as '" ~ low ~ "'"
                ~ (" and '" ~ high ~ "'" if high != low else '') -%}
        {%- endif -%}
        {%- do lines.append(line ~ '. ' ~ northstar_reject_reason_hint(reason, first_at)) -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "northstar: "
        ~ (share_note if share_note else "none of the " ~ '{:,}'.format(total | sum)
            ~ " raw event rows of this load was accepted; every metric would be empty")
        ~ ". Rows by reason (counted in stg_northstar_raw__events_classified.reject_reason):\n"
        ~ lines | join('\n')
        ~ "\nFix the settings named above and build again (docs/raw-event-contract.md)."
    ) }}
{%- endmacro %}


{#- The setting that decides a reject reason, and how to change it. -#}
{% macro northstar_reject_reason_hint(reason, first_at=none) -%}
    {%- set columns_var = 'var northstar__raw_event_columns' -%}
    {%- set entity_column = northstar_spec().entity_column -%}
    {%- set start_date = (var('northstar__start_date', '') or '') | string -%}
    {%- set hints = {
        'row_too_long': 'Raise var northstar__max_row_chars if such rows are real events.',
        'missing_event_id': 'Map event_id to your id column in ' ~ columns_var
            ~ ', or set event_id: null there to derive an id from each row.',
        'invalid_event_id': 'event_id is longer than 256 characters: map event_id to your id column in '
            ~ columns_var ~ '.',
        'missing_event_name': 'Map event_name in ' ~ columns_var
            ~ ' to a column, a constant ({value: order}) or an expression ({sql: ...}).',
        'unknown_event_name': 'Declare these names under vars.northstar.events, or set var'
            ~ ' northstar__reject_unknown_events: false.',
        'missing_occurred_at': 'Map occurred_at to your timestamp column in ' ~ columns_var ~ '.',
        'unparseable_occurred_at': "Give occurred_at's format in " ~ columns_var
            ~ ", e.g. occurred_at: {column: ..., format: '%d/%m/%Y %H:%M'} (or epoch_seconds,"
            ~ " epoch_milliseconds).",
        'occurred_in_future': 'They are after the reference time plus var northstar__max_future_hours:'
            ~ ' check var northstar__as_of (or NORTHSTAR_AS_OF) and the time zone of occurred_at.',
        'before_start_date': "They are before var northstar__start_date = '" ~ start_date
            ~ "' (dbt_project.yml or --vars): set it on or before "
            ~ (first_at | string)[:10] ~ ", or to '' for no limit.",
        'missing_entity_id': 'Map ' ~ entity_column ~ ' (the id of vars.northstar.entity) in '
            ~ columns_var ~ '.',
        'invalid_entity_id': entity_column ~ ' is longer than 256 characters: map it to your id'
            ~ ' column in ' ~ columns_var ~ '.',
        'properties_not_json_object': 'properties must hold a JSON object: map it to such a column,'
            ~ ' or build it from columns with properties: {columns: {...}} in ' ~ columns_var ~ '.',
    } -%}
    {{ return(hints.get(reason, '')) }}
{%- endmacro %}
