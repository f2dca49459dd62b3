{#-
    northstar_metric_columns(metric: normalized spec metric) -> (numerator, denominator,
    value) sql expressions over int_metric_values' `base` rows (one per grain, period and
    segment on the zero-filled spine). No activity means a count of 0, and a rate whose
    denominator is 0 is null (unknown), never a division by zero.
-#}
{% macro northstar_metric_columns(metric) %}
    {%- set m = metric.name -%}
    {%- set kind = metric.kind -%}
    {%- if kind == 'engagement' and metric.aggregate == 'median' -%}
        {{ return(('null', 'active_entities', m ~ '__value')) }}
    {%- elif kind == 'engagement' -%}
        {%- set num = 'coalesce(' ~ m ~ '__numerator, 0)' -%}
        {{ return((num, 'active_entities', northstar_divide(num, 'active_entities'))) }}
    {%- elif kind == 'percentile' -%}
        {{ return(('null', m ~ '__observations', m ~ '__value')) }}
    {%- elif kind == 'activation' -%}
        {%- set num = 'coalesce(' ~ m ~ '__numerator, 0)' -%}
        {{ return((num, 'first_seen_entities', northstar_divide(num, 'first_seen_entities'))) }}
    {%- elif kind == 'retention' -%}
        {%- set num = 'coalesce(' ~ m ~ '__numerator, 0)' -%}
        {{ return((num, m ~ '__cohort', northstar_divide(num, m ~ '__cohort'))) }}
    {%- elif kind == 'resurrection' -%}
        {{ return(('resurrecting_entities', 'dormant_pool_entities', northstar_divide('resurrecting_entities', 'dormant_pool_entities'))) }}
    {%- elif kind == 'churn' -%}
        {{ return(('dormant_entities', 'previous_active_entities', northstar_divide('dormant_entities', 'previous_active_entities'))) }}
    {%- elif metric.denominator is not none -%}
        {#- any other kind with two measures: their quotient (mean, ratio) -#}
        {%- set num = 'coalesce(' ~ m ~ '__numerator, 0)' -%}
        {%- set den = 'coalesce(' ~ m ~ '__denominator, 0)' -%}
        {{ return((num, den, northstar_divide(num, den))) }}
    {%- else -%}
        {#- one measure: the value is its total (count, sum, entities, new_entities) -#}
        {%- set num = 'coalesce(' ~ m ~ '__numerator, 0)' -%}
        {{ return((num, 'null', num)) }}
    {%- endif -%}
{% endmacro %}
