{{ config(tags=['northstar_reads_raw_events']) }}

{#-
    The staging invariant: raw rows = accepted + duplicates + rejected, in total and per
    day. The total counts the raw input itself (files or source), not the parsed model, so
    a row lost while parsing fails this test too. Fails with one row per broken check.
-#}

with

raw_input as (

    select count(*) as raw_rows from {{ northstar_raw_from('events') }}

),

parsed as (

    select * from {{ ref('stg_northstar_raw__events_parsed') }}

),

accepted as (

    select * from {{ ref('stg_events') }}

),

duplicates as (

    select * from {{ ref('stg_events_duplicates') }}

),

rejected as (

    select * from {{ ref('stg_events_rejected') }}

),

all_rows as (

    select
        event_date,
        1 as parsed_rows,
        0 as split_rows
    from parsed

    union all

    select
        event_date,
        0 as parsed_rows,
        1 as split_rows
    from accepted

    union all

    select
        event_date,
        0 as parsed_rows,
        1 as split_rows
    from duplicates

    union all

    select
        event_date,
        0 as parsed_rows,
        1 as split_rows
    from rejected

),

per_day as (

    select
        'day' as check_level,
        event_date,
        sum(parsed_rows) as raw_rows,
        sum(split_rows) as accepted_duplicate_rejected_rows
    from all_rows
    group by 1, 2

),

all_rows_total as (

    select
        sum(parsed_rows) as parsed_rows,
        sum(split_rows) as split_rows
    from all_rows

),

{#- The raw input against the three models, and against the parsed model. #}
total as (

    select
        'total' as check_level,
        cast(null as date) as event_date,
        raw_input.raw_rows,
        all_rows_total.split_rows as accepted_duplicate_rejected_rows
    from raw_input
    cross join all_rows_total

),

parsed_total as (

    select
        'parsed_total' as check_level,
        cast(null as date) as event_date,
        raw_input.raw_rows,
        all_rows_total.parsed_rows as accepted_duplicate_rejected_rows
    from raw_input
    cross join all_rows_total

),

checks as (

    select * from per_day
    union all
    select * from total
    union all
    select * from parsed_total

)

select * from checks
where raw_rows != coalesce(accepted_duplicate_rejected_rows, 0)
