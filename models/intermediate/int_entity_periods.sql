{#-
    One row per entity, grain and period in which the entity had any event, with its
    lifecycle state (PostHog's definitions) and its contribution to every metric:

      new           first seen this period (and active)
      returning     active this period and the previous one
      resurrecting  active now, not in the previous period, not new
    (dormant entities have no row here: int_lifecycle_periods counts them.)

    `<metric>__num` / `<metric>__den` hold the entity's share of each metric's numerator
    and denominator, so a metric for any segment is a plain sum over these rows.
-#}
{%- set spec = northstar_spec() -%}
{%- set measured = [] -%}
{%- for metric in spec.metrics -%}
{%- for side in ['numerator', 'denominator'] -%}
{%- if northstar_measure_has_column(metric[side]) -%}
{%- do measured.append((metric[side], metric.name ~ '__' ~ side)) -%}
{%- endif -%}
{%- endfor -%}
{%- endfor -%}

with

activity as (

    select * from {{ ref('int_entity_activity_daily') }}

),

entities as (

    select * from {{ ref('int_entities') }}

),
{% for grain in spec.grains %}
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
{% endfor %}
periods as (
    {% for grain in spec.grains %}
    select
        *,
        {{ northstar_period_shift(grain, -1, 'period_start') }} as previous_period_start,
        {{ dbt.datediff('first_seen_period', 'period_start', grain) }}
            as periods_since_first_seen

    from by_{{ grain }}
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
        {%- for metric in spec.metrics %}
        {%- for side, suffix in [('numerator', 'num'), ('denominator', 'den')] %}
        {%- if metric[side] is not none %}
        {{ northstar_measure_value(metric[side], metric.name ~ '__' ~ side) | indent(8) }}
            as {{ metric.name }}__{{ suffix }},
        {%- endif %}
        {%- endfor %}
        {%- endfor %}
        periods_since_first_seen = 0 as is_in_first_period

    from lifecycle

)

select * from final
