{#-
    For every entity and `source: first_event` segment, the value on the entity's first
    event that carries one (first by occurred_at, then event_id), with that event's
    occurred_at and event_id; a null value (no event carries one) when an entity has
    events but none with the segment. int_entities pivots it.

    Incremental on DuckDB (docs/incremental.md): a first event can only change for an
    entity with an event on a day the new loads touched (a new entity, or an event earlier
    than its stored first), or whose stored first event lost the tie-break to a copy that
    differs from it. A run merges the stored rows of the entities with events on the
    touched days with those days' firsts (the earlier wins), recomputes the displaced ones
    from their whole history, and rewrites those entities' rows (delete+insert on
    entity_id). One row per entity and segment, null values included, so an entity's
    rows are rewritten whole. The pre-hook deletes the displaced entities' rows first: one
    whose every event moved to another entity has no row, as in a full build.
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='entity_id',
        on_schema_change='sync_all_columns',
        pre_hook=[
            "{{ northstar_incremental_pre_hook('entity_id', none) }}",
            "{{ northstar_first_events_pre_hook() }}",
        ],
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
-- depends_on: {{ ref('stg_events') }}
{#- (a spec with no first-event segment reads no event, but the incremental plan reads the
    staged events' loads: they must be built first) #}
{%- set plan = northstar_incremental_plan() %}
{%- set segments = northstar_spec().segments
    | selectattr('source', 'equalto', 'first_event') | list %}
{%- set order_by = ['occurred_at', 'event_id'] %}

{#- Recomputed from their whole history, their stored rows deleted by the pre-hook
    (northstar_incremental_first_events.sql). -#}
{%- set displaced = [] %}
{%- for entity_id in northstar_first_events_displaced(plan) %}
{%- do displaced.append(northstar_sql_string(entity_id)) %}
{%- endfor %}

{#- The events whose firsts a run takes (one CTE each, `<name>_firsts`, one row per entity
    and segment): every event (a full build), or the touched days' (candidates) and the
    displaced entities' history. #}
{%- set wheres = {} %}
{%- if plan.mode != 'incremental' %}
{%- do wheres.update({'all': '1 = 1'}) %}
{%- else %}
{%- set touched = northstar_incremental_filter(plan, 'event_date', 'days') %}
{%- if displaced %}
{%- set touched = touched ~ ' and entity_id not in (' ~ displaced | join(', ') ~ ')' %}
{%- do wheres.update({'displaced': 'entity_id in (' ~ displaced | join(', ') ~ ')'}) %}
{%- endif %}
{%- do wheres.update({'touched': touched}) %}
{%- endif %}
{%- if segments | length == 0 %}

select
    cast(null as {{ dbt.type_string() }}) as entity_id,
    cast(null as {{ dbt.type_string() }}) as segment_name,
    cast(null as {{ dbt.type_string() }}) as segment_value,
    cast(null as {{ dbt.type_timestamp() }}) as first_occurred_at,
    cast(null as {{ dbt.type_string() }}) as first_event_id
where 1 = 0

{%- else %}

with
{%- for name, where in wheres.items() %}

{{ name }}_firsts as (
    {%- for segment in segments %}

    select
        entity_id,
        '{{ segment.name }}' as segment_name,
        {{ northstar_arg_min(segment.name, order_by) }} as segment_value,
        {{ northstar_arg_min(
            'case when ' ~ segment.name ~ ' is not null then occurred_at end', order_by
        ) }} as first_occurred_at,
        {{ northstar_arg_min(
            'case when ' ~ segment.name ~ ' is not null then event_id end', order_by
        ) }} as first_event_id
    from {{ ref('stg_events') }}
    where {{ where }}
    group by 1
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),
{%- endfor %}
{%- if plan.mode == 'incremental' %}

touched_entities as (

    select distinct entity_id
    from touched_firsts

),

stored as (

    select this_run.*
    from {{ this }} as this_run
    inner join touched_entities
        on this_run.entity_id = touched_entities.entity_id

),

candidates as (

    select * from touched_firsts
    union all
    select * from stored

),

ranked as (

    select
        *,
        row_number() over (
            partition by entity_id, segment_name
            order by first_occurred_at asc nulls last, first_event_id asc
        ) as first_rank
    from candidates

),

merged as (

    select
        entity_id,
        segment_name,
        segment_value,
        first_occurred_at,
        first_event_id
    from ranked
    where first_rank = 1
    {%- if displaced %}

    union all

    select * from displaced_firsts
    {%- endif %}

)

select * from merged
{%- else %}

final as (

    select * from all_firsts

)

select * from final
{%- endif %}
{%- endif %}
