{#-
    The built-in diagnostic metrics (northstar_spec_diagnostics: active, new, returning,
    resurrected and dormant entities, the growth quick ratio) for every grain, period and
    segment, in int_metric_values' columns: fct_metric_values adds them to the spec's
    metrics and gives them previous values, changes and completeness by the same rules.
    Each is a sum of lifecycle counts, or a quotient of two (null when the denominator is
    0), on int_lifecycle_periods' zero-filled spine.
-#}
{%- set spec = northstar_spec() -%}
{%- set double = northstar_type_double() -%}

with

lifecycle as (

    select * from {{ ref('int_lifecycle_periods') }}

),

diagnostic_values as (
    {%- for metric in spec.diagnostics %}
    {%- set numerator = '(' ~ metric.counts.numerator | join(' + ') ~ ')' %}
    {%- if metric.counts.denominator %}
    {%- set denominator = '(' ~ metric.counts.denominator | join(' + ') ~ ')' %}
    {%- set value = northstar_divide(numerator, denominator) %}
    {%- else %}
    {%- set denominator, value = 'null', numerator %}
    {%- endif %}

    select
        {{ northstar_literal(metric.name) }} as metric_name,
        grain,
        period_start,
        segment_name,
        segment_value,
        cast({{ numerator }} as {{ double }}) as numerator,
        cast({{ denominator }} as {{ double }}) as denominator,
        cast({{ value }} as {{ double }}) as value

    from lifecycle
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select * from diagnostic_values

)

select * from final
