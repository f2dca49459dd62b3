{#-
    Which exact decompositions of its change a metric allows (docs/decomposition.md), from
    its normalized facts alone, so that int_north_star_entity_changes, fct_north_star_decomposition
    and fct_north_star_movers agree on it:

      entity_level           each entity's numerator (and denominator) is known per period,
                             so the value is a sum over entities: lifecycle, top movers
      ratio_like             value = numerator / denominator (else value = numerator)
      breadth_depth          value = active entities x value per active entity: additive only
      lifecycle              the entity-level kinds
      numerator_denominator  the change of a quotient split between its two sums
      segment                every kind whose segments add up: a sum, or a quotient of sums

    A median or a percentile is none of these: no split of its change is exact.
-#}
{% macro northstar_decompositions(metric) %}
    {#- a median engagement has measures but no numerator to sum; a percentile has neither -#}
    {%- set entity_level = metric.has_numerator and metric.numerator is not none -%}
    {%- set summable = metric.has_numerator -%}
    {{ return({
        'entity_level': entity_level,
        'ratio_like': not metric.is_additive,
        'breadth_depth': metric.is_additive,
        'lifecycle': entity_level,
        'numerator_denominator': summable and metric.has_denominator,
        'segment': summable,
    }) }}
{% endmacro %}


{#- The entity's numerator and denominator of the metric in int_entity_periods: what the
    metric sums over entities (engagement counts only active entities). -#}
{% macro northstar_entity_parts(metric) %}
    {%- set m = metric.name -%}
    {%- if metric.kind == 'engagement' -%}
        {{ return((
            'case when is_active then coalesce(' ~ m ~ '__numerator, 0) else 0 end',
            'case when is_active then 1 else 0 end',
        )) }}
    {%- elif metric.denominator is not none -%}
        {{ return(('coalesce(' ~ m ~ '__numerator, 0)', 'coalesce(' ~ m ~ '__denominator, 0)')) }}
    {%- else -%}
        {{ return(('coalesce(' ~ m ~ '__numerator, 0)', '0')) }}
    {%- endif -%}
{% endmacro %}
