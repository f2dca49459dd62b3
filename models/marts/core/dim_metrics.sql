{#-
    The metric catalog, one row per metric, generated from the spec (vars.northstar),
    then the built-in diagnostic metrics (role diagnostic, northstar_spec_diagnostics).
    `target` is the target at the primary grain; `status_grains` lists the grains whose
    periods get an ok/warn/breach status from the thresholds.
-#}
{%- set spec = northstar_spec() -%}
{%- set string = dbt.type_string() -%}
{%- set double = northstar_type_double() -%}

with

catalog as (
    {%- for metric in spec.metrics + spec.diagnostics %}

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
            {{ northstar_literal(metric.targets.get(spec.primary_grain)) }} as {{ double }}
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
        {{ metric.sort_order }} as sort_order
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select * from catalog

)

select * from final
