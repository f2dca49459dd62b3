{#- The identity of fct_north_star_decomposition: the components of each decomposition
    add up to change_abs (within 1e-9 of the change's size: floating point only), and every
    North Star row with a change has each decomposition its kind allows (so a missing
    group cannot pass for a sum that holds). Returns the groups that fail. -#}
{%- set spec = northstar_spec() -%}
{%- set north_star = spec.metrics[0] -%}
{%- set facts = northstar_decompositions(north_star) -%}
{%- set per_segment = [] -%}
{%- for name in ['breadth_depth', 'lifecycle', 'numerator_denominator'] if facts[name] -%}
{%- do per_segment.append(name) -%}
{%- endfor -%}
{%- set on_total = per_segment | length + (spec.segments | length if facts.segment else 0) -%}

with

decomposition as (

    select * from {{ ref('fct_north_star_decomposition') }}

),

metric_values as (

    select * from {{ ref('fct_metric_values') }}
    where metric_name = {{ northstar_literal(north_star.name) }}

),

sums as (

    select
        grain,
        period_start,
        segment_name,
        segment_value,
        decomposition,
        breakdown,
        max(change_abs) as change_abs,
        sum(contribution) as contributions

    from decomposition

    group by 1, 2, 3, 4, 5, 6

),

not_adding_up as (

    select
        grain,
        period_start,
        segment_name,
        segment_value,
        decomposition,
        breakdown,
        'components do not add up to change_abs' as failure

    from sums

    where
        abs(contributions - change_abs)
        > 1e-9 * (1 + abs(change_abs) + abs(contributions))

),

expected as (

    select
        grain,
        period_start,
        segment_name,
        segment_value,
        case
            when segment_name = 'all' then {{ on_total }} else {{ per_segment | length }}
        end as decompositions

    from metric_values

    where value is not null and previous_value is not null

),

found as (

    select
        grain,
        period_start,
        segment_name,
        segment_value,
        count(*) as decompositions

    from sums

    group by 1, 2, 3, 4

),

missing as (

    select
        expected.grain,
        expected.period_start,
        expected.segment_name,
        expected.segment_value,
        cast(null as {{ dbt.type_string() }}) as decomposition,
        cast(null as {{ dbt.type_string() }}) as breakdown,
        'decompositions missing or extra' as failure

    from expected

    left join found
        on
            expected.grain = found.grain
            and expected.period_start = found.period_start
            and expected.segment_name = found.segment_name
            and expected.segment_value = found.segment_value

    where coalesce(found.decompositions, 0) != expected.decompositions

)

select * from not_adding_up
union all
select * from missing
