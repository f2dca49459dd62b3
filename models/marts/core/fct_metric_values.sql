{#-
    The public metric table: one row per metric, grain, period and segment.

    - previous_value is the previous period of the same series (the spine has no gaps);
    - change_abs / change_pct are null for an incomplete period, so a partial week is
      never silently compared with a full one;
    - target (docs/spec.md, "Targets"): the spec's target for the row's grain and segment
      ('all' is the total: a total's fixed target is never a segment's), fixed or on a
      time-bound path, else previous_value * (1 + target_growth_rate), the row's own
      growth; is_on_pace: a complete period at or beyond its target in the metric's
      direction;
    - status: ok | warn | breach from the thresholds and direction, for the metric's
      status grains; none when there are no thresholds there or the value is unknown;
    - is_complete_period: the period has ended (for activation, also its N-day window).
-#}
{%- set spec = northstar_spec() -%}
{%- set double = northstar_type_double() -%}
{%- set string = dbt.type_string() -%}

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
        {{ northstar_literal(grain in metric.status_grains) }} as has_status,
        {{ metric.completion_lag_days }} as completion_lag_days
    {{ 'union all' if not (outer.last and loop.last) }}
    {%- endfor %}
    {%- endfor %}

),

metric_targets as (
    {#- one row per target the spec gives: a metric, grain and segment ('all' the total) -#}
    {%- set targets = [] %}
    {%- for metric in spec.metrics %}
    {%- for target in metric.targets %}
    {%- do targets.append((metric.name, target)) %}
    {%- endfor %}
    {%- endfor %}
    {%- set none_given = {} %}
    {%- for key in ['grain', 'segment_name', 'segment_value', 'kind', 'value', 'baseline_value',
        'baseline_date', 'goal_value', 'deadline'] %}
    {%- do none_given.update({key: none}) %}
    {%- endfor %}
    {%- for metric_name, target in targets or [(none, none_given)] %}

    select
        cast({{ northstar_literal(metric_name) }} as {{ string }}) as metric_name,
        cast({{ northstar_literal(target.grain) }} as {{ string }}) as grain,
        cast({{ northstar_literal(target.segment_name) }} as {{ string }}) as segment_name,
        cast({{ northstar_literal(target.segment_value) }} as {{ string }}) as segment_value,
        cast({{ northstar_literal(target.kind) }} as {{ string }}) as target_kind,
        cast({{ northstar_literal(target.value) }} as {{ double }}) as fixed_target,
        cast({{ northstar_literal(target.baseline_value) }} as {{ double }}) as baseline_value,
        cast({{ northstar_literal(target.baseline_date) }} as date) as baseline_date,
        cast({{ northstar_literal(target.goal_value) }} as {{ double }}) as goal_value,
        cast({{ northstar_literal(target.deadline) }} as date) as deadline
    {{ 'where 1 = 0' if not targets }}
    {{ 'union all' if not loop.last }}
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

targets_joined as (

    select
        joined.*,
        metric_targets.target_kind as given_target_kind,
        metric_targets.fixed_target,
        metric_targets.baseline_value,
        metric_targets.baseline_date,
        metric_targets.goal_value,
        metric_targets.deadline,
        cast(
            {{ dbt.dateadd('day', -1, 'joined.period_end') }} as date
        ) as period_last_day

    from joined

    left join metric_targets
        on
            joined.metric_name = metric_targets.metric_name
            and joined.grain = metric_targets.grain
            and joined.segment_name = metric_targets.segment_name
            and joined.segment_value = metric_targets.segment_value

),

target_days as (

    {#- days from a time-bound target's baseline to the period's last day, and to its
        deadline -#}
    select
        *,
        cast(
            {{ dbt.datediff('baseline_date', 'period_last_day', 'day') }}
            as {{ double }}
        ) as days_elapsed,
        cast(
            {{ dbt.datediff('baseline_date', 'deadline', 'day') }}
            as {{ double }}
        ) as days_planned

    from targets_joined

),

targeted as (

    {#- A time-bound target is the straight line from (baseline_date, baseline_value) to
        (deadline, goal_value), read on the period's last day: none before the baseline,
        the goal from the deadline on. -#}
    select
        *,
        goal_value as target_goal,
        deadline as target_deadline,
        coalesce(
            given_target_kind,
            case when target_growth_rate is not null then 'growth' end
        ) as target_kind,
        case
            when given_target_kind = 'fixed' then fixed_target
            when given_target_kind = 'time_bound' and period_last_day < baseline_date then null
            when given_target_kind = 'time_bound' and period_last_day >= deadline then goal_value
            when given_target_kind = 'time_bound'
                then baseline_value + (goal_value - baseline_value) * days_elapsed / days_planned
            else previous_value * (1 + target_growth_rate)
        end as target

    from target_days

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
        target_kind,
        target_goal,
        target_deadline,
        case
            when not is_complete_period or value is null or target is null then null
            when direction = 'lower_is_better' then value <= target
            else value >= target
        end as is_on_pace,
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
