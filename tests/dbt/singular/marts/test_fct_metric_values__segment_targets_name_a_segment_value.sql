{#- Every per-segment target of the spec names a segment value the metric has rows for.
    The segment's name is checked when dbt parses the spec; its value is data (a plan, a
    country), so a value no row carries (a typo, or a plan not launched yet) can only be
    seen here. A warning, not an error: a target set ahead of a launch must not stop the
    build. Returns the targets that land on no row. -#}
{{ config(severity='warn') }}
{%- set spec = northstar_spec() -%}
{%- set targets = [] -%}
{%- for metric in spec.metrics -%}
{%- for target in metric.targets if target.segment_name != 'all' -%}
{%- do targets.append((metric.name, target)) -%}
{%- endfor -%}
{%- endfor -%}

with

metric_values as (

    select * from {{ ref('fct_metric_values') }}

),

segment_targets as (
    {%- for metric_name, target in targets %}

    select
        {{ northstar_literal(metric_name) }} as metric_name,
        {{ northstar_literal(target.grain) }} as grain,
        {{ northstar_literal(target.segment_name) }} as segment_name,
        {{ northstar_literal(target.segment_value) }} as segment_value
    {{ 'union all' if not loop.last }}
    {%- else %}

    select
        cast(null as {{ dbt.type_string() }}) as metric_name,
        cast(null as {{ dbt.type_string() }}) as grain,
        cast(null as {{ dbt.type_string() }}) as segment_name,
        cast(null as {{ dbt.type_string() }}) as segment_value
    where 1 = 0
    {%- endfor %}

),

final as (

    select
        segment_targets.metric_name,
        segment_targets.grain,
        segment_targets.segment_name,
        segment_targets.segment_value

    from segment_targets

    where not exists (
        select metric_values.metric_name
        from metric_values
        where
            metric_values.metric_name = segment_targets.metric_name
            and metric_values.grain = segment_targets.grain
            and metric_values.segment_name = segment_targets.segment_name
            and metric_values.segment_value = segment_targets.segment_value
    )

)

select * from final
