{#- The discovery grid's row for the configured aha moment (its events, its threshold, its
    window) counts the same entities as the aha moment itself: among the entities whose
    retention window is over, as many eligible and as many reached as fct_aha_moments'
    has_reached_aha, counted here from fct_aha_moments and the day spine. At the default
    retention window (days 56 to 62) the retained counts on each side also match
    rpt_aha_retention. There must be exactly one configured row (none when the discovery
    window differs from the aha's, which then measures something else). Returns a row
    when anything differs. -#}
{%- set discovery = northstar_aha_discovery() -%}
{%- set week_8 = discovery.retention_start_day == 56 and discovery.retention_end_day == 62 -%}

with

aha_discovery as (

    select * from {{ ref('rpt_aha_discovery') }}

),

aha_moments as (

    select * from {{ ref('fct_aha_moments') }}

),

aha_retention as (

    select * from {{ ref('rpt_aha_retention') }}

),

days as (

    select * from {{ ref('int_day_spine') }}

),

as_of as (

    select max(as_of_at) as as_of_at from days

),

expected as (

    select
        count(*) as eligible_entities,
        coalesce(sum(case when aha_moments.has_reached_aha then 1 else 0 end), 0)
            as reached_entities

    from aha_moments

    cross join as_of

    where
        {{ dbt.dateadd(
            'day', discovery.retention_end_day + 1, 'cast(aha_moments.first_seen_at as date)'
        ) }}
        <= as_of.as_of_at

),

expected_retention as (

    select
        coalesce(
            sum(case when has_reached_aha then active_in_week_8 else 0 end), 0
        ) as retained_reached_entities,
        coalesce(
            sum(case when has_reached_aha then 0 else active_in_week_8 end), 0
        ) as retained_not_reached_entities

    from aha_retention

),

configured as (

    select
        count(*) as configured_rows,
        max(eligible_entities) as eligible_entities,
        max(reached_entities) as reached_entities,
        max(retained_reached_entities) as retained_reached_entities,
        max(retained_not_reached_entities) as retained_not_reached_entities

    from aha_discovery

    where is_configured

),

final as (

    select
        configured.configured_rows,
        configured.eligible_entities,
        expected.eligible_entities as expected_eligible_entities,
        configured.reached_entities,
        expected.reached_entities as expected_reached_entities,
        configured.retained_reached_entities,
        expected_retention.retained_reached_entities
            as expected_retained_reached_entities,
        configured.retained_not_reached_entities,
        expected_retention.retained_not_reached_entities
            as expected_retained_not_reached_entities

    from configured

    cross join expected

    cross join expected_retention

    where
        configured.configured_rows <> {{ 1 if discovery.is_configured else 0 }}
        {%- if discovery.is_configured %}
        or configured.eligible_entities <> expected.eligible_entities
        or configured.reached_entities <> expected.reached_entities
        {%- if week_8 %}
        or configured.retained_reached_entities
        <> expected_retention.retained_reached_entities
        or configured.retained_not_reached_entities
        <> expected_retention.retained_not_reached_entities
        {%- endif %}
        {%- endif %}

)

select * from final
