{#-
    The cohort x age retention matrix, one row per cell: of the entities first seen in a
    cohort period (int_entities.first_seen_at, the metrics' "new"), how many are active
    (an activity event) `age` periods later. Every grain of the spec but day gets
    cohorts (weekly and monthly at the defaults). Every cell from age 0 to the current
    period is present; a cell whose period is not over (int_period_spine, the metrics'
    completeness) is flagged and its counts are null, so a partial period never reads as
    a drop to zero. Cohort periods in which nobody was first seen have no rows.

    A table over the incremental entity-period table: it is cohorts x ages (about 500 rows
    for 30 weeks) and one pass over int_entity_periods' active week and month rows, so
    recomputing it costs less than tracking which cells a load touched.
-#}
{%- set spec = northstar_spec() -%}
{%- set cohort_grains = spec.grains | reject('equalto', 'day') | list -%}
{%- if not cohort_grains -%}
{%- do exceptions.raise_compiler_error(
    'rpt_cohort_retention: northstar.grains has no grain above day (got: '
    ~ spec.grains | join(', ') ~ '): add week or month for cohorts') -%}
{%- endif %}

with

entities as (

    select * from {{ ref('int_entities') }}

),

entity_periods as (

    select * from {{ ref('int_entity_periods') }}
    where
        is_active
        and grain in ({% for grain in cohort_grains %}'{{ grain }}'{{ ', ' if not loop.last }}{% endfor %})

),

spine as (

    select * from {{ ref('int_period_spine') }}

),

cohorts as (
    {% for grain in cohort_grains %}
    select
        '{{ grain }}' as cohort_grain,
        {{ northstar_period_start(grain, 'first_seen_at') }} as cohort_start,
        count(*) as entities_in_cohort

    from entities

    group by 1, 2
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

retained as (

    select
        grain as cohort_grain,
        first_seen_period as cohort_start,
        period_start,
        count(*) as retained_entities

    from entity_periods

    group by 1, 2, 3

),

cells as (

    select
        cohorts.cohort_grain,
        cohorts.cohort_start,
        case cohorts.cohort_grain
            {%- for grain in cohort_grains %}
            when '{{ grain }}'
                then {{ dbt.datediff('cohorts.cohort_start', 'spine.period_start', grain) }}
            {%- endfor %}
        end as age,
        spine.period_start,
        cohorts.entities_in_cohort,
        spine.is_complete_period as is_complete,
        coalesce(retained.retained_entities, 0) as retained_entities

    from cohorts

    inner join spine
        on
            cohorts.cohort_grain = spine.grain
            and cohorts.cohort_start <= spine.period_start

    left join retained
        on
            cohorts.cohort_grain = retained.cohort_grain
            and cohorts.cohort_start = retained.cohort_start
            and spine.period_start = retained.period_start

),

final as (

    select
        cohort_grain,
        cohort_start,
        cast(age as {{ dbt.type_int() }}) as age,
        period_start,
        cast(entities_in_cohort as {{ dbt.type_bigint() }}) as entities_in_cohort,
        cast(
            case when is_complete then retained_entities end as {{ dbt.type_bigint() }}
        ) as retained_entities,
        case
            when is_complete
                then {{ northstar_divide('retained_entities', 'entities_in_cohort') }}
        end as retention_rate,
        is_complete

    from cells

)

select * from final
