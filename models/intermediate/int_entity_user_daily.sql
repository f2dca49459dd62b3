{#-
    One row per entity, user and day with an event of an `entities` measure that needs
    distinct users (min_distinct_users > 1, e.g. Slack's 3+ senders), with a 0/1 column per
    such measure. The only user grain the metrics need: int_entity_periods counts a period's
    distinct users from it. Without such a measure in the spec the table is empty and the
    events are not read.
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('activity_date', 'days') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
{%- set plan = northstar_incremental_plan() %}
{%- set spec = northstar_spec() -%}
{%- set user_measures = [] -%}
{%- for measure, column in northstar_measured_columns(spec) -%}
{%- if northstar_measure_needs(measure, 'users') -%}
{%- do user_measures.append((measure, column)) -%}
{%- endif -%}
{%- endfor -%}
{%- set matches = [] -%}
{%- for measure, column in user_measures -%}
{%- do matches.append('(' ~ northstar_measure_event_sql(measure) ~ ') > 0') -%}
{%- endfor -%}

with

events as (

    select * from {{ ref('stg_events') }}
    where {{ northstar_incremental_filter(plan, 'event_date', 'days') }}

),

final as (

    select
        entity_id,
        user_id,
        event_date as activity_date,
        {%- for measure, column in user_measures %}
        max({{ northstar_measure_event_sql(measure) }}) as {{ column }},
        {%- endfor %}
        count(*) as event_count

    from events

    where
        user_id is not null
        and ({{ matches | join(' or ') if matches else 'false' }})

    group by 1, 2, 3

)

select * from final
