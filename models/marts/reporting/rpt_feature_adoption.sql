{#-
    Feature adoption per grain and period: for each activity event (the spec's
    activity_events, the features), the entities that used it, out of the period's active
    entities, beside the North Star's value. Where the North Star is a count or a sum of
    events, north_star_share is the part of it those events of the feature make up
    (events outside the North Star's, and a North Star of another kind: null). Every
    feature has a row in every period (no use is 0, not a missing row); a period not over
    is flagged and its values are null, as in the other grids.

    A table: one pass over the event-name table for the features' rows, grouped per period.
-#}
{%- set spec = northstar_spec() -%}
{%- set north_star = spec.metrics | selectattr('role', 'equalto', 'north_star') | first -%}
{%- set share_column = north_star.name ~ '__numerator'
    if north_star.is_additive and northstar_measure_adds_over_events(north_star.numerator)
    else none -%}
{%- set share_events = [] -%}
{%- for event in (north_star.numerator.events if share_column else []) -%}
{%- do share_events.append(northstar_literal(event)) -%}
{%- endfor %}

with

event_days as (

    select * from {{ ref('int_entity_event_daily') }}
    where {{ northstar_events_sql(spec.activity_events) }}

),

entity_periods as (

    select * from {{ ref('int_entity_periods') }}
    where is_active

),

spine as (

    select * from {{ ref('int_period_spine') }}

),

metric_values as (

    select * from {{ ref('fct_metric_values') }}
    where
        role = 'north_star'
        and segment_name = 'all'

),

features as (
    {% for event in spec.activity_events %}
    select {{ northstar_literal(event) }} as feature{{ ' union all' if not loop.last }}
    {%- endfor %}
),
{%- if share_column %}

north_star_days as (

    select
        activity_date,
        sum({{ share_column }}) as north_star_part

    from {{ ref('int_entity_activity_daily') }}

    group by 1

),
{%- endif %}

entity_feature_periods as (
    {% for grain in spec.grains %}
    select
        '{{ grain }}' as grain,
        {{ northstar_period_start(grain, 'activity_date') }} as period_start,
        event_name as feature,
        entity_id,
        {%- if share_column %}
        sum({{ share_column }}) as north_star_part
        {%- else %}
        0 as north_star_part
        {%- endif %}

    from event_days

    group by 1, 2, 3, 4
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

adoption as (

    select
        grain,
        period_start,
        feature,
        count(*) as adopters,
        sum(north_star_part) as north_star_part

    from entity_feature_periods

    group by 1, 2, 3

),

active as (

    select
        grain,
        period_start,
        count(*) as active_entities

    from entity_periods

    group by 1, 2

),
{%- if share_column %}

north_star_totals as (
    {% for grain in spec.grains %}
    select
        '{{ grain }}' as grain,
        {{ northstar_period_start(grain, 'activity_date') }} as period_start,
        sum(north_star_part) as north_star_part

    from north_star_days

    group by 1, 2
    {{ 'union all' if not loop.last }}
    {% endfor %}
),
{%- endif %}

cells as (

    select
        spine.grain,
        spine.period_start,
        features.feature,
        spine.is_complete_period,
        coalesce(adoption.adopters, 0) as adopters,
        coalesce(active.active_entities, 0) as active_entities,
        metric_values.value as north_star_value,
        {%- if share_column %}
        case
            when features.feature in ({{ share_events | join(', ') }})
                then {{ northstar_divide(
                    'coalesce(adoption.north_star_part, 0)', 'north_star_totals.north_star_part') }}
        end as north_star_share
        {%- else %}
        cast(null as {{ northstar_type_double() }}) as north_star_share
        {%- endif %}

    from spine

    cross join features

    left join adoption
        on
            spine.grain = adoption.grain
            and spine.period_start = adoption.period_start
            and features.feature = adoption.feature

    left join active
        on
            spine.grain = active.grain
            and spine.period_start = active.period_start

    left join metric_values
        on
            spine.grain = metric_values.grain
            and spine.period_start = metric_values.period_start
    {%- if share_column %}

    left join north_star_totals
        on
            spine.grain = north_star_totals.grain
            and spine.period_start = north_star_totals.period_start
    {%- endif %}

),

final as (

    select
        grain,
        period_start,
        feature,
        cast(case when is_complete_period then adopters end as {{ dbt.type_bigint() }})
            as adopters,
        cast(
            case when is_complete_period then active_entities end as {{ dbt.type_bigint() }}
        ) as active_entities,
        case
            when is_complete_period then {{ northstar_divide('adopters', 'active_entities') }}
        end as adoption_rate,
        case when is_complete_period then north_star_value end as north_star_value,
        case when is_complete_period then north_star_share end as north_star_share,
        is_complete_period

    from cells

)

select * from final
