{#-
    The entities an incremental run of int_entity_first_events recomputes from their whole
    history (docs/incremental.md): those whose stored first event (for some segment) is a
    copy that no longer counts as it did. Its event_id has copies in the new loads, and the
    kept copy on the touched days is not on the same entity, instant and value. An entity
    loses events only this way, so an entity left with none is among them: the pre-hook
    deletes their stored rows, and the model inserts the rows of those that still have
    events.
-#}


{#- The displaced entity ids (text, sorted): few, usually none. Empty on a run that is not
    incremental or for a spec with no first-event segment. -#}
{% macro northstar_first_events_displaced(plan) -%}
    {%- set segments = northstar_spec().segments
        | selectattr('source', 'equalto', 'first_event') | list -%}
    {%- if plan.mode != 'incremental' or segments | length == 0 -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set duplicated = northstar_incremental_filter(plan, 'stored.first_event_id', 'event_ids') -%}
    {%- if duplicated == '1 = 0' -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set segment_values = [] -%}
    {%- for segment in segments -%}
        {%- do segment_values.append("when '" ~ segment.name ~ "' then kept." ~ segment.name) -%}
    {%- endfor -%}
    {%- set query -%}
        select distinct stored.entity_id
        from {{ this }} as stored
        where
            {{ duplicated }}
            and not exists (
                select 1
                from {{ ref('stg_events') }} as kept
                where
                    {{ northstar_incremental_filter(plan, 'kept.event_date', 'days') }}
                    and kept.event_id = stored.first_event_id
                    and kept.entity_id = stored.entity_id
                    and kept.occurred_at = stored.first_occurred_at
                    and case stored.segment_name {{ segment_values | join(' ') }} end
                    = stored.segment_value
            )
        order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}


{#- pre_hook of int_entity_first_events: delete the displaced entities' stored rows. The
    model's delete+insert replaces only the entities it writes rows for, and an entity whose
    every event moved to another has none: its stale first would stay, and win the merge
    if the entity came back. -#}
{% macro northstar_first_events_pre_hook() -%}
    {%- if not execute or target.type != 'duckdb' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set displaced = northstar_first_events_displaced(northstar_incremental_plan()) -%}
    {%- if displaced | length > 0 -%}
        {%- set literals = [] -%}
        {%- for entity_id in displaced -%}
            {%- do literals.append(northstar_sql_string(entity_id)) -%}
        {%- endfor -%}
        delete from {{ this }} where entity_id in ({{ literals | join(', ') }})
    {%- endif -%}
{%- endmacro %}
