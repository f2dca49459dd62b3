{#- The quality mart's days run from the first to the last day with accepted events: a
    reject dated 1970 or 2099 is counted inside that range, never as a day of its own.
    Returns the days outside it. The range is read from the mart itself (accepted_rows
    comes from stg_events) so that the mart is this test's only parent: selecting staging
    alone does not pull it in. -#}

with

quality as (

    select * from {{ ref('fct_event_quality_daily') }}

),

accepted_days as (

    select
        min(event_date) as first_day,
        max(event_date) as last_day
    from quality
    where accepted_rows > 0

),

final as (

    select
        quality.event_date,
        quality.raw_rows,
        quality.rejected_rows,
        accepted_days.first_day,
        accepted_days.last_day
    from quality
    cross join accepted_days
    where
        quality.event_date < accepted_days.first_day
        or quality.event_date > accepted_days.last_day

)

select * from final
