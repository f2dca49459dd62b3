{{
    config(
        materialized='table',
        tags=['northstar_reads_raw_events'],
    )
}}

{#-
    Every raw event row, once: its raw text, the typed values parsed from it, and its fate.
    row_status is 'accepted' (the row stg_events keeps), 'duplicate' (an accepted row whose
    event_id was already taken by a better copy) or 'rejected' (reject_reason says why).
    stg_events, stg_events_duplicates and stg_events_rejected are slices of this model.
-#}

{%- set spec = var('northstar', {}) -%}
{%- set entity_id = spec.get('entity', 'account') ~ '_id' -%}
{%- set known_events = [] -%}
{%- for name in spec.get('events', {}) -%}
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

with

source as (

    {{ northstar_select_raw('events') }}

),

numbered as (

    select
        *,
        row_number() over (order by raw_file, raw_file_row_number) as raw_row_id
    from source

),

cleaned as (

    select
        *,
        {{ northstar_clean_text('raw_event_id') }} as event_id,
        {{ northstar_normalize_event_name('raw_event_name') }} as event_name,
        {{ northstar_clean_text('raw_occurred_at') }} as occurred_at_text,
        {{ northstar_clean_text('raw_received_at') }} as received_at_text,
        {{ northstar_clean_text('raw_user_id') }} as user_id,
        {{ northstar_clean_text('raw_account_id') }} as account_id,
        {{ northstar_clean_text('raw_session_id') }} as session_id,
        {{ northstar_clean_text('raw_platform') }} as platform,
        {{ northstar_clean_text('raw_country') }} as country,
        {#- No properties (SQL null, blank, JSON null) means an empty object. #}
        case
            when lower({{ northstar_trim('raw_properties') }}) in ('', 'null') then '{}'
            else coalesce({{ northstar_trim('raw_properties') }}, '{}')
        end as properties
    from numbered

),

parsed as (

    select
        *,
        {{ northstar_parse_timestamp_utc('occurred_at_text') }} as occurred_at,
        {{ northstar_parse_timestamp_utc('received_at_text') }} as received_at,
        {{ northstar_is_json_object('properties') }} as is_properties_json_object
    from cleaned

),

classified as (

    select
        *,
        {{ entity_id }} as entity_id,
        {#- One reason per row: the first that fails, in this (documented) order. #}
        case
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
            when not is_properties_json_object then 'properties_not_json_object'
        end as reject_reason
    from parsed

),

accepted_ranked as (

    select
        *,
        {#- The copy that arrived first wins; then the earliest occurrence; then file order. #}
        row_number() over (
            partition by event_id
            order by received_at asc nulls last, occurred_at asc, raw_row_id asc
        ) as event_id_rank
    from classified
    where reject_reason is null

),

final as (

    select
        raw_row_id,
        raw_file,
        raw_file_row_number,
        {% for name in raw_columns %}
            raw_{{ name }},
        {% endfor %}
        case when event_id_rank = 1 then 'accepted' else 'duplicate' end as row_status,
        reject_reason,
        event_id_rank,
        event_id,
        event_name,
        occurred_at,
        received_at,
        cast(occurred_at as date) as occurred_date,
        cast(received_at as date) as received_date,
        cast(occurred_at as date) as event_date,
        user_id,
        account_id,
        entity_id,
        session_id,
        platform,
        country,
        properties,
        coalesce(
            received_at > {{ dbt.dateadd('hour', late_arrival_hours, 'occurred_at') }}, false
        ) as is_late_arrival
    from accepted_ranked

    union all

    select
        raw_row_id,
        raw_file,
        raw_file_row_number,
        {% for name in raw_columns %}
            raw_{{ name }},
        {% endfor %}
        'rejected' as row_status,
        reject_reason,
        cast(null as {{ dbt.type_bigint() }}) as event_id_rank,
        event_id,
        event_name,
        occurred_at,
        received_at,
        cast(occurred_at as date) as occurred_date,
        cast(received_at as date) as received_date,
        {#- Rejected rows count on the day they occurred, else the day they arrived. #}
        coalesce(cast(occurred_at as date), cast(received_at as date)) as event_date,
        user_id,
        account_id,
        entity_id,
        session_id,
        platform,
        country,
        properties,
        false as is_late_arrival
    from classified
    where reject_reason is not null

)

select * from final
