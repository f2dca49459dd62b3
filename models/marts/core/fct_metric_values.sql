{#-
    The public metric table: one row per metric, grain, period and segment.

    - previous_value is the previous period of the same series (the spine has no gaps);
    - change_abs / change_pct are null for an incomplete period, so a partial week is
      never silently compared with a full one;
    - target: the spec's target for the grain, else previous_value * (1 + growth rate);
    - status: ok | warn | breach from the thresholds and direction, for the metric's
      status grains; none when there are no thresholds there or the value is unknown;
    - is_complete_period: the period has ended (for activation, also its N-day window).
-#}
{%- set spec = northstar_spec() -%}

with

metric_values as (

    select * from {{ ref('int_metric_values') }}
    union all
    -- the built-in diagnostic metrics (lifecycle counts), in the same columns
    select * from {{ ref('int_diagnostic_metric_values') }}

),

spine as (

    select * from {{ ref('int_period_spine') }}

),

metrics as (

    select * from {{ ref('dim_metrics') }}

),

metric_grains as (
    {%- for metric in spec.metrics + spec.diagnostics %}
    {%- set outer = loop %}
    {%- for grain in spec.grains %}

    select
        {{ northstar_literal(metric.name) }} as metric_name,
        {{ northstar_literal(grain) }} as grain,
        cast(
            {{ northstar_literal(metric.targets.get(grain)) }} as {{ northstar_type_double() }}
        ) as grain_target,
        {{ northstar_literal(grain in metric.status_grains) }} as has_status,
        {{ metric.completion_lag_days }} as completion_lag_days
    {{ 'union all' if not (outer.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}

),

joined as (

    select
        metric_values.metric_name,
        metrics.role,
        metric_values.grain,
        metric_values.period_start,
        spine.period_end,
        metric_values.segment_name,
        metric_values.segment_value,
        metric_values.value,
        metric_values.numerator,
        metric_values.denominator,
        lag(metric_values.value) over (
            partition by
                metric_values.metric_name,
                metric_values.grain,
                metric_values.segment_name,
                metric_values.segment_value
            order by metric_values.period_start
        ) as previous_value,
        metric_grains.grain_target,
        metrics.target_growth_rate,
        metrics.direction,
        case when metric_grains.has_status then metrics.warn_threshold end as warn_threshold,
        case when metric_grains.has_status then metrics.breach_threshold end as breach_threshold,
        spine.is_complete_period
        and cast(
            {{ dbt.dateadd('day', 'metric_grains.completion_lag_days', 'spine.period_end') }}
            as {{ dbt.type_timestamp() }}
        ) <= spine.as_of_at as is_complete_period,
        metrics.definition_version

    from metric_values

    inner join metrics
        on metric_values.metric_name = metrics.metric_name

    inner join metric_grains
        on
            metric_values.metric_name = metric_grains.metric_name
            and metric_values.grain = metric_grains.grain

    inner join spine
        on
            metric_values.grain = spine.grain
            and metric_values.period_start = spine.period_start

),

targeted as (

    select
        *,
        coalesce(
            grain_target,
            previous_value * (1 + target_growth_rate)
        ) as target

    from joined

),

final as (

    select
        metric_name,
        role,
        grain,
        period_start,
        period_end,
        segment_name,
        segment_value,
        value,
        numerator,
        denominator,
        previous_value,
        case when is_complete_period then value - previous_value end as change_abs,
        case
            when is_complete_period
                then {{ northstar_divide('value - previous_value', 'abs(previous_value)') }}
        end as change_pct,
        target,
        value - target as gap_to_target,
        case
            when value is null or (warn_threshold is null and breach_threshold is null)
                then 'none'
            when direction = 'lower_is_better' and value >= breach_threshold then 'breach'
            when direction = 'lower_is_better' and value >= warn_threshold then 'warn'
            when direction = 'higher_is_better' and value <= breach_threshold then 'breach'
            when direction = 'higher_is_better' and value <= warn_threshold then 'warn'
            else 'ok'
        end as status,
        is_complete_period,
        definition_version

    from targeted

)

select * from final
