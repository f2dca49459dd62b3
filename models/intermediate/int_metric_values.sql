{#-
    Every metric of the spec for every grain, period and segment, on the zero-filled
    spine: numerator, denominator and value. One pass over entity-periods computes all
    entity-based metrics; lifecycle metrics come from int_lifecycle_periods; percentiles
    of event properties read the event-level values of int_metric_events.
-#}
{%- set spec = northstar_spec() -%}
{%- set percentile_metrics = spec.metrics | selectattr('kind', 'equalto', 'percentile') | list -%}
{#- the per-metric columns `grouped` computes, carried onto the spine by `base` -#}
{%- set grouped_columns = [] -%}
{%- for metric in spec.metrics -%}
{%- set is_median = metric.kind == 'engagement' and metric.aggregate == 'median' -%}
{%- if metric.kind not in ['percentile', 'resurrection', 'churn'] -%}
{%- do grouped_columns.append(metric.name ~ ('__value' if is_median else '__numerator')) -%}
{%- endif -%}
{%- if metric.denominator is not none -%}
{%- do grouped_columns.append(metric.name ~ '__denominator') -%}
{%- endif -%}
{%- endfor -%}

with

entity_periods as (

    select * from {{ ref('int_entity_periods') }}

),

entity_segments as (

    select * from {{ ref('int_entity_segments') }}

),

aha_moments as (

    select * from {{ ref('int_aha_moments') }}

),

lifecycle as (

    select * from {{ ref('int_lifecycle_periods') }}

),
{%- if percentile_metrics %}

metric_events as (

    select * from {{ ref('int_metric_events') }}

),
{%- endif %}

grouped as (

    select
        entity_periods.grain,
        entity_periods.period_start,
        entity_segments.segment_name,
        entity_segments.segment_value,
        {%- for metric in spec.metrics %}
        {%- set m = metric.name %}
        {%- if metric.kind == 'engagement' and metric.aggregate == 'median' %}
            {%- set active_only =
                'case when entity_periods.is_active then entity_periods.' ~ m ~ '__numerator end' %}
        {{ northstar_percentile(active_only, 0.5) }} as {{ m }}__value,
        {%- elif metric.kind == 'engagement' %}
        sum(
            case when entity_periods.is_active then entity_periods.{{ m }}__numerator else 0 end
        ) as {{ m }}__numerator,
        {#- any other kind with measures: their sums over the period's entities #}
        {%- elif metric.numerator is not none %}
        sum(entity_periods.{{ m }}__numerator) as {{ m }}__numerator,
        {%- if metric.denominator is not none %}
        sum(entity_periods.{{ m }}__denominator) as {{ m }}__denominator,
        {%- endif %}
        {%- elif metric.kind == 'activation' %}
        sum(
            case
                when
                    entity_periods.is_first_seen_period
                    and aha_moments.aha_reached_at
                    <= {{ northstar_timestamp_add(
                        'day', metric.within_days, 'aha_moments.first_seen_at'
                    ) }}
                    then 1
                else 0
            end
        ) as {{ m }}__numerator,
        {%- elif metric.kind == 'retention' %}
        sum(
            case
                when
                    entity_periods.is_active
                    and entity_periods.periods_since_first_seen = {{ metric.periods_after }}
                    then 1
                else 0
            end
        ) as {{ m }}__numerator,
        {%- endif %}
        {%- endfor %}
        count(*) as entity_period_rows

    from entity_periods

    inner join entity_segments
        on entity_periods.entity_id = entity_segments.entity_id

    left join aha_moments
        on entity_periods.entity_id = aha_moments.entity_id

    group by 1, 2, 3, 4

),
{%- for metric in percentile_metrics %}

{{ metric.name }}__events as (
    {%- for grain in spec.grains %}

    select
        '{{ grain }}' as grain,
        {{ northstar_period_start(grain, 'metric_events.occurred_at') }} as period_start,
        entity_segments.segment_name,
        entity_segments.segment_value,
        {%- set observed = 'metric_events.' ~ metric.name ~ '__value' %}
        {{ northstar_percentile(observed, metric.percentile) }} as percentile_value,
        count({{ observed }}) as observations

    from metric_events

    inner join entity_segments
        on metric_events.entity_id = entity_segments.entity_id

    where {{ observed }} is not null

    group by 1, 2, 3, 4
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),
{%- endfor %}

base as (

    select
        lifecycle.*,
        {%- for metric in spec.metrics %}
        {%- set m = metric.name %}
        {%- if metric.kind == 'retention' %}
        coalesce(lag(lifecycle.first_seen_entities, {{ metric.periods_after }}) over (
            partition by lifecycle.grain, lifecycle.segment_name, lifecycle.segment_value
            order by lifecycle.period_start
        ), 0) as {{ m }}__cohort,
        {%- endif %}
        {%- if metric.kind == 'percentile' %}
        {{ m }}__events.percentile_value as {{ m }}__value,
        coalesce({{ m }}__events.observations, 0) as {{ m }}__observations,
        {%- endif %}
        {%- endfor %}
        {%- for column in grouped_columns %}
        grouped.{{ column }},
        {%- endfor %}
        grouped.entity_period_rows

    from lifecycle

    left join grouped
        on
            lifecycle.grain = grouped.grain
            and lifecycle.period_start = grouped.period_start
            and lifecycle.segment_name = grouped.segment_name
            and lifecycle.segment_value = grouped.segment_value
    {%- for metric in percentile_metrics %}

    left join {{ metric.name }}__events
        on
            lifecycle.grain = {{ metric.name }}__events.grain
            and lifecycle.period_start = {{ metric.name }}__events.period_start
            and lifecycle.segment_name = {{ metric.name }}__events.segment_name
            and lifecycle.segment_value = {{ metric.name }}__events.segment_value
    {%- endfor %}

),

metric_values as (
    {%- for metric in spec.metrics %}
    {%- set m = metric.name %}
    {%- set num, den, value = northstar_metric_columns(metric) %}

    select
        '{{ m }}' as metric_name,
        grain,
        period_start,
        segment_name,
        segment_value,
        cast({{ num }} as {{ northstar_type_double() }}) as numerator,
        cast({{ den }} as {{ northstar_type_double() }}) as denominator,
        cast({{ value }} as {{ northstar_type_double() }}) as value

    from base
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select * from metric_values

)

select * from final
