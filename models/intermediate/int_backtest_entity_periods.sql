{#-
    The backtest's grid: one row per entity and period of the primary grain, from the
    period the entity was first seen to the last period of the spine (inactive periods
    included, so "active k periods later" and "MRR held k periods later" are a lookup).

      period_index        1, 2, ... over the spine, so that k periods later is index + k
      is_active           an activity event in the period
      revenue_held        the running total of backtest.revenue gained minus lost (MRR
                          held at the period's end); null without backtest.revenue
      <candidate>__value  the candidate's value for the entity: numerator / denominator
                          (null when the denominator is 0), or the numerator alone
-#}
{%- set spec = northstar_spec() -%}
{%- set grain = spec.primary_grain -%}
{%- set double = northstar_type_double() -%}
{%- set has_revenue = spec.backtest.revenue is not none -%}

with

spine as (

    select * from {{ ref('int_period_spine') }}
    where grain = '{{ grain }}'

),

entity_periods as (

    select * from {{ ref('int_entity_periods') }}
    where grain = '{{ grain }}'

),

entities as (

    select * from {{ ref('int_entities') }}

),

indexed_spine as (

    select
        period_start,
        is_complete_period,
        row_number() over (order by period_start) as period_index

    from spine

),

grid as (

    select
        entities.entity_id,
        indexed_spine.period_start,
        indexed_spine.period_index,
        indexed_spine.is_complete_period

    from entities

    inner join indexed_spine
        on
            indexed_spine.period_start
            >= {{ northstar_period_start(grain, 'entities.first_seen_at') }}

),

final as (

    select
        grid.entity_id,
        grid.period_start,
        grid.period_index,
        grid.is_complete_period,
        coalesce(entity_periods.is_active, false) as is_active,
        {%- if has_revenue %}
        sum(
            coalesce(cast(entity_periods.backtest_revenue_gained__numerator as {{ double }}), 0)
            - coalesce(cast(entity_periods.backtest_revenue_lost__numerator as {{ double }}), 0)
        ) over (
            partition by grid.entity_id
            order by grid.period_index
            rows between unbounded preceding and current row
        ) as revenue_held,
        {%- else %}
        cast(null as {{ double }}) as revenue_held,
        {%- endif %}
        {%- for candidate in spec.candidates %}
        {%- set numerator = 'cast(entity_periods.' ~ candidate.name
            ~ '__numerator as ' ~ double ~ ')' %}
        {%- if candidate.has_denominator %}
        {{ northstar_divide(numerator, 'entity_periods.' ~ candidate.name ~ '__denominator') }}
        {%- else %}
        coalesce({{ numerator }}, 0)
        {%- endif %} as {{ candidate.name }}__value,
        {%- endfor %}
        entity_periods.entity_id is not null as has_events

    from grid

    left join entity_periods
        on
            grid.entity_id = entity_periods.entity_id
            and grid.period_start = entity_periods.period_start

)

select * from final
