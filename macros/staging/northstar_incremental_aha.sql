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
    and deletes the stored entities no longer seen at all. The plan, the load keys and the
    filter that reads these keys (northstar_incremental_filter: `aha_entities`, `aha_days`)
    are northstar_incremental.sql's.
-#}


{#- {'aha_entities': the entity ids a run deletes and recomputes, 'aha_days': the days (text)
    their windows span}, looked up once per plan, before the pre-hook deletes anything, so
    the pre-hook and the model read the same constants. -#}
{% macro northstar_aha_keys(plan) -%}
    {%- if 'aha' in plan -%}
        {{ return(plan.aha) }}
    {%- endif -%}
    {%- set spec = northstar_spec() -%}
    {%- set window_days = spec.aha.window_days -%}
    {%- set entity_column = spec.entity ~ '_id' -%}
    {%- set entities = ref('int_entities') -%}
    {%- set activity = ref('int_entity_activity_daily') -%}
    {%- set duplicates = northstar_upstream_relation('stg_events_duplicates') -%}
    {%- set window_end = northstar_timestamp_add('day', window_days, 'entities.first_seen_at') -%}
    {%- set recomputed -%}
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
            and activity.activity_date <= cast({{ window_end }} as date)

        union

        select {{ entity_column }}
        from {{ duplicates }}
        where
            {{ entity_column }} is not null
            and {{ northstar_incremental_filter(plan, 'event_id', 'event_ids') }}
            and ({{ entity_column }} <> kept_entity_id or event_date <> kept_event_date)

        union

        select stored.entity_id
        from {{ this }} as stored
        left join {{ entities }} as entities
            on stored.entity_id = entities.entity_id
        where entities.entity_id is null
    {%- endset -%}
    {%- set ids = run_query(recomputed ~ ' order by 1').columns[0].values() | list -%}
    {%- set days = [] -%}
    {%- if ids | length > 0 -%}
        {%- set literals = [] -%}
        {%- for entity_id in ids -%}
            {%- do literals.append(northstar_sql_string(entity_id)) -%}
        {%- endfor -%}
        {%- set query -%}
            select distinct cast(cast(days.day as date) as varchar)
            from {{ entities }} as entities,
                unnest(generate_series(
                    cast(cast(entities.first_seen_at as date) as timestamp),
                    cast(cast({{ window_end }} as date) as timestamp),
                    interval 1 day
                )) as days(day)
            where entities.entity_id in ({{ literals | join(', ') }})
            order by 1
        {%- endset -%}
        {%- set days = run_query(query).columns[0].values() | list -%}
    {%- endif -%}
    {%- do plan.update({'aha': {'aha_entities': ids, 'aha_days': days}}) -%}
    {{ return(plan.aha) }}
{%- endmacro %}
