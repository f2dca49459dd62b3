{#-
    The keys of int_aha_moments' incremental runs (docs/incremental.md). An entity's aha
    moment reads only its own events within its window (first seen + window_days), so a run
    recomputes the entities whose result a new load can have changed:
      - new entities, and those whose first event moved (first_seen_at differs from the
        stored row's);
      - entities with activity on a day the loads touched, inside their window;
      - the entities of the copies of the loads' duplicated event_ids counted on another
        day or entity than the kept copy: a copy that now loses the tie-break leaves its
        entity's day, which may then have no activity left to find it by. (A copy on the
        kept copy's day and entity leaves that day active: the touched day finds it.)
    The plan and the load keys are northstar_incremental.sql's.
-#}


{#- SQL selecting the entity_id of every entity this run recomputes. -#}
{% macro northstar_aha_recomputed_sql(plan) -%}
    {%- set spec = northstar_spec() -%}
    {%- set window_days = spec.aha.window_days -%}
    {%- set entity_column = spec.entity ~ '_id' -%}
    {%- set entities = ref('int_entities') -%}
    {%- set activity = ref('int_entity_activity_daily') -%}
    {%- set duplicates = northstar_upstream_relation('stg_events_duplicates') -%}
    select entities.entity_id
    from {{ entities }} as entities
    left join {{ this }} as stored
        on entities.entity_id = stored.entity_id
    where stored.entity_id is null or stored.first_seen_at <> entities.first_seen_at

    union

    select activity.entity_id
    from {{ activity }} as activity
    inner join {{ entities }} as entities
        on activity.entity_id = entities.entity_id
    where
        {{ northstar_incremental_filter(plan, 'activity.activity_date', 'days') }}
        and activity.activity_date
        <= cast({{ northstar_timestamp_add('day', window_days, 'entities.first_seen_at') }} as date)

    union

    select {{ entity_column }} as entity_id
    from {{ duplicates }}
    where
        {{ entity_column }} is not null
        and {{ northstar_incremental_filter(plan, 'event_id', 'event_ids') }}
        and (
            {{ entity_column }} <> kept_entity_id
            or event_date <> kept_event_date
        )
{%- endmacro %}


{#- The days whose events the recomputed entities' windows can read, as date literals
    (a scan filtered by constants skips the row groups of other days). -#}
{% macro northstar_aha_read_days(plan) -%}
    {%- set window_days = northstar_spec().aha.window_days -%}
    {%- set entities = ref('int_entities') -%}
    {%- if 'aha_days' not in plan -%}
        {%- set query -%}
            with recomputed as (
                {{ northstar_aha_recomputed_sql(plan) }}
            ),
            windows as (
                select
                    cast(entities.first_seen_at as date) as first_day,
                    cast({{ northstar_timestamp_add('day', window_days, 'entities.first_seen_at') }}
                        as date) as last_day
                from {{ entities }} as entities
                where entities.entity_id in (select entity_id from recomputed)
            )
            select distinct cast(cast(day as date) as varchar)
            from windows,
                unnest(generate_series(
                    cast(first_day as timestamp), cast(last_day as timestamp), interval 1 day
                )) as days(day)
            order by 1
        {%- endset -%}
        {%- do plan.update({'aha_days': run_query(query).columns[0].values() | list}) -%}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for day in plan.aha_days -%}
        {%- do literals.append("cast('" ~ day ~ "' as date)") -%}
    {%- endfor -%}
    {{ return(literals) }}
{%- endmacro %}


{#- pre_hook of int_aha_moments: remove the entities this run recomputes, and those no
    longer seen at all. -#}
{% macro northstar_aha_pre_hook() -%}
    {%- if not execute or target.type != 'duckdb' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set plan = northstar_incremental_plan() -%}
    {%- set entities = ref('int_entities') -%}
    {{ log('northstar: ' ~ model.name ~ ': ' ~ plan.mode ~ ' (' ~ plan.reason ~ ')', info=true) }}
    {%- if plan.mode == 'rebuild' -%}
        delete from {{ this }}
    {%- elif plan.mode == 'incremental' -%}
        delete from {{ this }}
        where
            entity_id in (
                {{ northstar_aha_recomputed_sql(plan) }}
            )
            or entity_id not in (select entity_id from {{ entities }})
    {%- endif -%}
{%- endmacro %}
