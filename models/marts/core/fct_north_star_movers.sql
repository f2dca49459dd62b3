{#-
    The entities that moved the North Star most, per grain and period: the top N each way
    (var northstar__top_movers, default 10) by their contribution to its change, with the
    lifecycle component they fall in and their segment values, so an analyst can open a
    concrete account. The contributions are those the lifecycle decomposition sums
    (fct_north_star_decomposition): the entity's numerator for an additive North Star, its
    share numerator / denominator for a quotient. Empty when the North Star is not a sum
    over entities (northstar_decompositions).
-#}
{%- set spec = northstar_spec() -%}
{%- set north_star = spec.metrics[0] -%}
{%- set facts = northstar_decompositions(north_star) -%}
{%- set top = var('northstar__top_movers', 10) -%}
{%- set double = northstar_type_double() -%}
{%- if top is not integer or top < 1 -%}
    {{ exceptions.raise_compiler_error(
        'var northstar__top_movers must be a positive integer (got: ' ~ top ~ ')'
    ) }}
{%- endif -%}
{#- `plan=free, country=US`: literal and column pieces for dbt.concat -#}
{%- set labels = [] -%}
{%- for segment in spec.segments -%}
{%- set piece = ["'" ~ segment.name ~ "='", 'entities.segment_' ~ segment.name] -%}
{%- do labels.extend(([] if loop.first else ["', '"]) + piece) -%}
{%- endfor %}

with

entity_changes as (

    select * from {{ ref('int_north_star_entity_changes') }}

),

entities as (

    select * from {{ ref('int_entities') }}

),

totals as (

    select * from {{ ref('fct_metric_values') }}
    where
        metric_name = {{ northstar_literal(north_star.name) }}
        and segment_name = 'all'

),

periods as (

    select
        grain,
        period_start,
        is_complete_period,
        {%- if facts.ratio_like %}
        {{ northstar_divide('1', 'denominator') }} as current_scale,
        {{ northstar_divide('1', 'lag(denominator) over (partition by grain order by period_start)') }}
            as previous_scale
        {%- else %}
        1.0 as current_scale,
        1.0 as previous_scale
        {%- endif %}

    from totals

),

contributions as (

    select
        entity_changes.grain,
        entity_changes.period_start,
        entity_changes.entity_id,
        entity_changes.lifecycle_component,
        entity_changes.previous_numerator,
        entity_changes.current_numerator,
        periods.is_complete_period,
        entity_changes.current_numerator * periods.current_scale
        - entity_changes.previous_numerator * periods.previous_scale as contribution

    from entity_changes

    inner join periods
        on
            entity_changes.grain = periods.grain
            and entity_changes.period_start = periods.period_start

),

ranked as (

    select
        *,
        case when contribution > 0 then 'up' else 'down' end as direction,
        row_number() over (
            partition by grain, period_start, contribution > 0
            order by abs(contribution) desc, entity_id
        ) as mover_rank

    from contributions

    -- an entity whose contribution did not change moved nothing (and a quotient with no
    -- denominator has no contributions)
    where contribution != 0

),

final as (

    select
        {{ northstar_literal(north_star.name) }} as metric_name,
        ranked.grain,
        ranked.period_start,
        ranked.direction,
        cast(ranked.mover_rank as integer) as mover_rank,
        ranked.entity_id,
        ranked.lifecycle_component,
        {% if labels -%}
        {{ dbt.concat(labels) }}
        {%- else -%}
        cast(null as {{ dbt.type_string() }})
        {%- endif %} as segments,
        cast(ranked.previous_numerator as {{ double }}) as previous_numerator,
        cast(ranked.current_numerator as {{ double }}) as current_numerator,
        cast(ranked.contribution as {{ double }}) as contribution,
        ranked.is_complete_period

    from ranked

    inner join entities
        on ranked.entity_id = entities.entity_id

    where ranked.mover_rank <= {{ top }}

)

select * from final
