{#-
    The metric catalog, one row per metric, generated from the spec (vars.northstar),
    then the built-in diagnostic metrics (role diagnostic, northstar_spec_diagnostics).
    `target` is the total's target at the primary grain (a time-bound target's goal, due by
    `target_deadline`); `status_grains` lists the grains whose periods get an
    ok/warn/breach status from the thresholds. `tree_depth` is the metric's level in the
    tree (0 the North Star, 1 under it, 2 a team metric under an input; null for the
    diagnostics, which are not in the tree).
-#}
{%- set spec = northstar_spec() -%}
{%- set string = dbt.type_string() -%}
{%- set double = northstar_type_double() -%}

with

catalog as (
    {%- for metric in spec.metrics + spec.diagnostics %}
    {%- set total = metric.targets | selectattr('grain', 'equalto', spec.primary_grain)
        | selectattr('segment_name', 'equalto', 'all') | list %}
    {%- set none_given = {'kind': none, 'value': none, 'goal_value': none, 'deadline': none} %}
    {%- set total = total[0] if total else none_given %}

    select
        {{ northstar_literal(metric.name) }} as metric_name,
        {{ northstar_literal(metric.label) }} as label,
        {{ northstar_literal(metric.role) }} as role,
        cast({{ northstar_literal(metric.parent_metric) }} as {{ string }}) as parent_metric,
        cast({{ northstar_literal(metric.owner) }} as {{ string }}) as owner,
        {{ northstar_literal(metric.description | trim) }} as description,
        cast({{ northstar_literal(metric.unit) }} as {{ string }}) as unit,
        {{ northstar_literal(metric.direction) }} as direction,
        cast(
            {{ northstar_literal(total.goal_value if total.kind == 'time_bound' else total.value) }}
            as {{ double }}
        ) as target,
        cast(
            {{ northstar_literal(metric.target_growth_rate) }} as {{ double }}
        ) as target_growth_rate,
        cast({{ northstar_literal(metric.warn) }} as {{ double }}) as warn_threshold,
        cast({{ northstar_literal(metric.breach) }} as {{ double }}) as breach_threshold,
        {{ northstar_literal(metric.definition_version) }} as definition_version,
        {{ northstar_literal(metric.kind) }} as kind,
        {{ northstar_literal(metric.is_additive) }} as is_additive,
        {{ northstar_literal(metric.status_grains | join(',')) }} as status_grains,
        {{ metric.sort_order }} as sort_order,
        cast({{ northstar_literal(
            total.kind or ('growth' if metric.target_growth_rate is not none else none)
        ) }} as {{ string }}) as target_kind,
        cast({{ northstar_literal(total.deadline) }} as date) as target_deadline,
        cast(
            {{ northstar_literal(metric.get('tree_depth')) }} as {{ dbt.type_int() }}
        ) as tree_depth
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

backtest as (

    -- the backtest's leading rule, for the North Star (docs/backtest.md)
    select * from {{ ref('rpt_north_star_backtest_candidates') }}
    where is_north_star

),

final as (

    select
        catalog.*,
        -- null for every other metric, and for a North Star with no value per entity
        backtest.status as leading_status

    from catalog

    left join backtest
        on catalog.metric_name = backtest.candidate_name

)

select * from final
