{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_raw_events_pre_hook() }}",
        post_hook=[
            "{{ northstar_check_accepted_rows() }}",
            "{{ northstar_raw_events_post_hook() }}",
        ],
        tags=['northstar_reads_raw_events'],
    )
}}

{#-
    Every raw event row, once: its identity, the typed values parsed from it and, when it
    fails a check, its reject_reason. The one event-sized table of staging, written once:
    stg_events (a view) and stg_northstar_raw__events_parsed (a view) read it, the small
    tables stg_events_duplicates and stg_events_rejected are cut from it.

    Built for large inputs, so nothing here needs all rows at once: no window over the whole
    input (a global row_number() is a full sort that holds every row), and no deduplication
    (a per-event_id hash aggregate in stg_events_duplicates finds the few copies). Raw text
    is stored only for rejected rows, where it is the evidence.
-#}

{%- set spec = northstar_spec() -%}
{%- set entity_id = spec.entity_column -%}
{%- set known_events = [] -%}
{%- for name in spec.events -%}
{%- do known_events.append(northstar_normalize_event_name_value(name)) -%}
{%- endfor -%}
{%- set reject_unknown = var('northstar__reject_unknown_events', false)
    and known_events | length > 0 -%}
{%- set known_events_sql = "'" ~ known_events | join("', '") ~ "'" -%}
{%- set start_date = (var('northstar__start_date', '') or '') | string | trim -%}
{%- set future_limit = dbt.dateadd(
    'hour', var('northstar__max_future_hours', 24) | int, northstar_as_of_timestamp()
) -%}
{%- set late_arrival_hours = var('northstar__late_arrival_hours', 24) | int -%}
{%- set raw_columns = northstar_raw_contract('events').columns %}
{%- set max_row_chars = northstar_max_row_chars() %}
{#- What a row_too_long row keeps of each raw value: enough to recognise it; the whole row
    stays in its file (raw_file), and megabytes of text would follow it into the snapshot. #}
{%- set too_long_evidence_chars = 1024 %}
{%- set load = northstar_raw_events_load_plan() %}

with

source as (

    {{ northstar_select_raw('events', load.files) }}

),

{#- The files in the input, numbered in name order: raw_row_id is file number and row
    number in one bigint, so it needs no sort of the rows, only of the (few) file names.
    A second, separate read of the input: only the file name column, which Parquet
    readers answer without decoding the data. #}
files as (

    select
        raw_file_key,
        {{ load.file_offset }} + row_number() over (order by raw_file_key) as raw_file_ordinal
    from (
        select distinct coalesce(raw_file, '') as raw_file_key
        from ({{ northstar_select_raw('events', load.files) }}) as listed
    ) as distinct_files

),

numbered as (

    select
        source.*,
        {{ northstar_raw_row_id('files.raw_file_ordinal', 'source.raw_file_row_number') }}
            as raw_row_id
    from source
    inner join files
        on coalesce(source.raw_file, '') = files.raw_file_key

),

trimmed as (

    select
        {% for name in raw_columns %}
        {{ northstar_trim('raw_' ~ name) }} as {{ name }}_trimmed,
        {% endfor %}
        *
    from numbered

),

cleaned as (

    select
        raw_row_id,
        raw_file,
        raw_file_row_number,
        {% for name in raw_columns %}
        raw_{{ name }},
        {% endfor %}
        {% for name in raw_columns %}
        coalesce({{ dbt.length('raw_' ~ name) }}, 0)
        {%- if not loop.last %} + {% endif %}
        {% endfor %} as raw_row_chars,
        {{ northstar_null_if_placeholder('event_id_trimmed') }} as event_id,
        {{ northstar_normalize_event_name(
            northstar_null_if_placeholder('event_name_trimmed')
        ) }} as event_name,
        {{ northstar_null_if_placeholder('occurred_at_trimmed') }} as occurred_at_text,
        {{ northstar_null_if_placeholder('received_at_trimmed') }} as received_at_text,
        {{ northstar_null_if_placeholder('user_id_trimmed') }} as user_id,
        {{ northstar_null_if_placeholder('account_id_trimmed') }} as account_id,
        {{ northstar_null_if_placeholder('session_id_trimmed') }} as session_id,
        {{ northstar_null_if_placeholder('platform_trimmed') }} as platform,
        {{ northstar_null_if_placeholder('country_trimmed') }} as country,
        {#- No properties (SQL null, blank, JSON null) means an empty object. #}
        case
            when lower(properties_trimmed) in ('', 'null') then '{}'
            else coalesce(properties_trimmed, '{}')
        end as properties
    from trimmed
    {{ northstar_evaluation_fence() }}

),

parsed as (

    select
        *,
        {{ northstar_parse_timestamp_utc(
            'occurred_at_text', northstar_raw_timestamp_setting('events', 'occurred_at')
        ) }} as occurred_at,
        {{ northstar_parse_timestamp_utc(
            'received_at_text', northstar_raw_timestamp_setting('events', 'received_at')
        ) }} as received_at,
        {{ northstar_is_json_object('properties') }} as is_properties_json_object
    from cleaned
    {{ northstar_evaluation_fence() }}

),

classified as (

    select
        *,
        {#- One reason per row: the first that fails, in this (documented) order. #}
        case
            when raw_row_chars > {{ max_row_chars }} then 'row_too_long'
            when event_id is null then 'missing_event_id'
            when length(event_id) > 256 then 'invalid_event_id'
            when event_name is null then 'missing_event_name'
            {% if reject_unknown %}
            when event_name not in ({{ known_events_sql }}) then 'unknown_event_name'
            {% endif %}
            when occurred_at_text is null then 'missing_occurred_at'
            when occurred_at is null then 'unparseable_occurred_at'
            when occurred_at > {{ future_limit }} then 'occurred_in_future'
            {% if start_date != '' %}
            when occurred_at < {{ northstar_timestamp_literal(start_date) }}
                then 'before_start_date'
            {% endif %}
            when {{ entity_id }} is null then 'missing_entity_id'
            when length({{ entity_id }}) > 256 then 'invalid_entity_id'
            when not is_properties_json_object then 'properties_not_json_object'
        end as reject_reason
    from parsed
    {{ northstar_evaluation_fence() }}

),

final as (

    select
        raw_row_id,
        raw_file,
        raw_file_row_number,
        reject_reason,
        {#- Raw text only where it is the evidence: rejected rows. #}
        {% for name in raw_columns %}
        case
            when reject_reason = 'row_too_long'
                then substring(raw_{{ name }}, 1, {{ too_long_evidence_chars }})
            when reject_reason is not null then raw_{{ name }}
        end as raw_{{ name }},
        {% endfor %}
        event_id,
        event_name,
        occurred_at,
        received_at,
        {#- Two columns, so that event_date's row-group statistics span the accepted days
            only: an incremental run reads the days it touched with a filter on event_date,
            which skips every row group whose range holds none of them. In one column the
            rejected rows' dates (1970, 2032: the feed's defects) stretched every row
            group's range over decades, and every filtered scan read every row. -#}
        case when reject_reason is null then cast(occurred_at as date) end as event_date,
        {#- Rejected rows without an occurrence count on the day they arrived. #}
        case
            when reject_reason is not null
                then coalesce(cast(occurred_at as date), cast(received_at as date))
        end as rejected_event_date,
        user_id,
        account_id,
        session_id,
        platform,
        country,
        properties,
        coalesce(
            reject_reason is null
            and received_at
            > {{ northstar_timestamp_add('hour', late_arrival_hours, 'occurred_at') }},
            false
        ) as is_late_arrival,
        cast({{ northstar_load_id() }} as {{ dbt.type_bigint() }}) as _northstar_load_id
    from classified

)

select * from final
