{#-
    One row per entity, grain and period in which the entity had any event, with its
    lifecycle state (PostHog's definitions) and its contribution to every metric:

      new           first seen this period (and active)
      returning     active this period and the previous one
      resurrecting  active now, not in the previous period, not new
    (dormant entities have no row here: int_lifecycle_periods counts them.)

    `<metric>__numerator` / `<metric>__denominator` hold the entity's share of each metric's numerator
    and denominator, so a metric for any segment is a plain sum over these rows.

    Incremental on DuckDB: a run recomputes the periods holding a day its loads touched and
    the periods right after them (whose lifecycle looks back one period), reading those and
    the periods before them; and every row of an entity whose first-seen period moved
    (northstar_period_keys).
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('period_start', 'periods') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
{%- set spec = northstar_spec() -%}
{%- set plan = northstar_incremental_plan() -%}
{%- set keys = northstar_period_keys(plan) -%}
{%- set measured = northstar_measured_columns(spec) -%}
{%- set user_measures = [] -%}
{%- for measure, column in measured if northstar_measure_needs(measure, 'users') -%}
{%- do user_measures.append((measure, column)) -%}
{%- endfor -%}

with

activity as (

    select * from {{ ref('int_entity_activity_daily') }}
    where {{ northstar_period_filter(plan, keys, 'read', 'activity_date') }}

),

entities as (

    select * from {{ ref('int_entities') }}

),
{%- if user_measures %}

user_days as (

    select * from {{ ref('int_entity_user_daily') }}
    where {{ northstar_period_filter(plan, keys, 'read', 'activity_date') }}

),
{%- endif %}
{% for grain in spec.grains %}
{%- if user_measures %}
users_by_{{ grain }} as (

    select
        entity_id,
        {{ northstar_period_start(grain, 'activity_date') }} as period_start,
        {%- for measure, column in user_measures %}
        count(distinct case when {{ column }} > 0 then user_id end) as {{ column }}__users
        {{- ',' if not loop.last }}
        {%- endfor %}

    from user_days

    group by 1, 2

),
{% endif %}
by_{{ grain }} as (

    select
        activity.entity_id,
        '{{ grain }}' as grain,
        {{ northstar_period_start(grain, 'activity.activity_date') }} as period_start,
        sum(activity.event_count) as event_count,
        sum(activity.activity_event_count) as activity_event_count,
        {%- for measure, column in measured %}
        {{ northstar_measure_aggregates(measure, column) | indent(8) }},
        {%- endfor %}
        {{ northstar_period_start(grain, 'min(entities.first_seen_at)') }} as first_seen_period

    from activity

    inner join entities
        on activity.entity_id = entities.entity_id

    group by 1, 2, 3

),
{%- if user_measures %}

with_users_{{ grain }} as (

    select
        by_{{ grain }}.*,
        {%- for measure, column in user_measures %}
        coalesce(users_by_{{ grain }}.{{ column }}__users, 0) as {{ column }}__users
        {{- ',' if not loop.last }}
        {%- endfor %}

    from by_{{ grain }}

    left join users_by_{{ grain }}
        on
            by_{{ grain }}.entity_id = users_by_{{ grain }}.entity_id
            and by_{{ grain }}.period_start = users_by_{{ grain }}.period_start

),
{%- endif %}
{% endfor %}
periods as (
    {% for grain in spec.grains %}
    select
        *,
        {{ northstar_period_shift(grain, -1, 'period_start') }} as previous_period_start,
        {{ dbt.datediff('first_seen_period', 'period_start', grain) }}
            as periods_since_first_seen

    from {{ ('with_users_' if user_measures else 'by_') ~ grain }}
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

active_periods as (

    select
        entity_id,
        grain,
        period_start

    from periods

    where activity_event_count > 0

),

lifecycle as (

    select
        periods.*,
        periods.activity_event_count > 0 as is_active,
        periods.period_start = periods.first_seen_period as is_first_seen_period,
        active_periods.entity_id is not null as was_active_previous_period

    from periods

    left join active_periods
        on
            periods.entity_id = active_periods.entity_id
            and periods.grain = active_periods.grain
            and periods.previous_period_start = active_periods.period_start

),

final as (

    select
        entity_id,
        grain,
        period_start,
        first_seen_period,
        periods_since_first_seen,
        event_count,
        activity_event_count,
        is_active,
        is_first_seen_period,
        was_active_previous_period,
        case
            when not is_active then null
            when is_first_seen_period then 'new'
            when was_active_previous_period then 'returning'
            else 'resurrecting'
        end as lifecycle_state,
        {%- for metric in spec.metrics + spec.backtest_metrics %}
        {%- for side in ['numerator', 'denominator'] %}
        {%- if metric[side] is not none %}
        {{ northstar_measure_value(metric[side], metric.name ~ '__' ~ side) | indent(8) }}
            as {{ metric.name }}__{{ side }},
        {%- endif %}
        {%- endfor %}
        {%- endfor %}
        periods_since_first_seen = 0 as is_in_first_period

    from lifecycle
    where {{ northstar_incremental_filter(plan, 'period_start', 'periods') }}

)

select * from final
