{#- Every catalog metric has values at every grain, and every value belongs to a catalog
    metric with the same role. Returns the mismatches. -#}
{%- set spec = northstar_spec() -%}

with

metric_values as (

    select * from {{ ref('fct_metric_values') }}

),

metrics as (

    select * from {{ ref('dim_metrics') }}

),

present as (

    select distinct
        metric_name,
        role,
        grain

    from metric_values

),

expected as (
    {%- for grain in spec.grains %}
    select
        metric_name,
        role,
        '{{ grain }}' as grain
    from metrics
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

final as (

    select
        expected.role as catalog_role,
        present.role as values_role,
        coalesce(expected.metric_name, present.metric_name) as metric_name,
        coalesce(expected.grain, present.grain) as grain

    from expected

    full outer join present
        on
            expected.metric_name = present.metric_name
            and expected.grain = present.grain

    where
        expected.metric_name is null
        or present.metric_name is null
        or expected.role <> present.role

)

select * from final
