{#-
    Data quality of the raw events per day: how many raw rows there were, how many were
    accepted, dropped as duplicates or rejected (by reason), and the rates a guardrail can
    watch. A row's day is the day it occurred; for a rejected row without a parseable
    occurred_at, the day it was received; for one with neither, the row with a null
    event_date. raw_rows = accepted_rows + duplicate_rows + rejected_rows on every row.
-#}

{%- set float_type = dbt.type_float() %}

with

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

{#- One stream, so rows without a date group together without a null-safe join. #}
all_rows as (

    select
        event_date,
        'raw' as row_source,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        false as is_late_arrival
    from parsed

    union all

    select
        event_date,
        'accepted' as row_source,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        is_late_arrival
    from accepted

    union all

    select
        event_date,
        'duplicate' as row_source,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        false as is_late_arrival
    from duplicates

    union all

    select
        event_date,
        'rejected' as row_source,
        reject_reason,
        false as is_late_arrival
    from rejected

),

daily as (

    select
        event_date,
        sum(case when row_source = 'raw' then 1 else 0 end) as raw_rows,
        sum(case when row_source = 'accepted' then 1 else 0 end) as accepted_rows,
        sum(case when row_source = 'duplicate' then 1 else 0 end) as duplicate_rows,
        sum(case when row_source = 'rejected' then 1 else 0 end) as rejected_rows,
        {% for reason in northstar_reject_reasons() %}
        sum(
            case when reject_reason = '{{ reason }}' then 1 else 0 end
        ) as rejected_{{ reason }},
        {% endfor %}
        sum(
            case when row_source = 'accepted' and is_late_arrival then 1 else 0 end
        ) as late_arrival_rows
    from all_rows
    group by 1

),

final as (

    select
        *,
        cast(rejected_rows as {{ float_type }}) / nullif(raw_rows, 0) as reject_rate,
        cast(duplicate_rows as {{ float_type }}) / nullif(raw_rows, 0) as duplicate_rate,
        cast(late_arrival_rows as {{ float_type }}) / nullif(accepted_rows, 0) as late_arrival_rate,
        raw_rows = accepted_rows + duplicate_rows + rejected_rows as is_reconciled
    from daily

)

select * from final
