{#-
    Accepted rows that lost the tie-break to another copy of the same event_id: the first
    received wins, then the earliest occurrence, then file order (raw_row_id).

    Found without ranking every row: a hash aggregate over the accepted event_ids finds
    the few that occur more than once, and only their copies are ranked. Each import CTE
    is read once, so the engine streams it instead of materializing it.

    Incremental on DuckDB: a run ranks again only the copies of the event_ids that its new
    raw files brought, across every load (a copy may land days after the first).
-#}

{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('event_id', 'event_ids') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
{%- set plan = northstar_incremental_plan() %}
{%- set entity_column = northstar_spec().entity ~ '_id' %}

with

accepted_ids as (

    select event_id
    from {{ ref('stg_northstar_raw__events_classified') }}
    where
        reject_reason is null
        and {{ northstar_incremental_filter(plan, 'event_id', 'event_ids') }}

),

accepted as (

    select
        raw_row_id,
        raw_file,
        raw_file_row_number,
        event_id,
        event_name,
        occurred_at,
        received_at,
        event_date,
        user_id,
        account_id,
        properties,
        is_late_arrival
    from {{ ref('stg_northstar_raw__events_classified') }}
    where
        reject_reason is null
        and {{ northstar_incremental_filter(plan, 'event_id', 'event_ids') }}

),

duplicated_ids as (

    select event_id
    from accepted_ids
    group by 1
    having count(*) > 1

),

copies as (

    select accepted.*
    from accepted
    inner join duplicated_ids
        on accepted.event_id = duplicated_ids.event_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by received_at asc nulls last, occurred_at asc, raw_row_id asc
        ) as event_id_rank,
        first_value(raw_row_id) over by_rank as kept_raw_row_id,
        first_value(event_date) over by_rank as kept_event_date,
        first_value({{ entity_column }}) over by_rank as kept_entity_id
    from copies
    window by_rank as (
        partition by event_id
        order by received_at asc nulls last, occurred_at asc, raw_row_id asc
        rows between unbounded preceding and unbounded following
    )

),

final as (

    select
        raw_row_id,
        raw_file,
        raw_file_row_number,
        event_id,
        kept_raw_row_id,
        {#- Where the kept copy counts: a copy counted elsewhere (another day or entity)
            moved its event there when it won (int_aha_moments' incremental keys). #}
        kept_event_date,
        kept_entity_id,
        event_id_rank,
        event_name,
        occurred_at,
        received_at,
        event_date,
        user_id,
        account_id,
        properties,
        is_late_arrival
    from ranked
    where event_id_rank > 1

)

select * from final
