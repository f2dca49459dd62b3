{#-
    Data quality of the raw events per day: how many raw rows there were, how many were
    accepted, dropped as duplicates or rejected (by reason), and the rates a guardrail can
    watch. raw_rows = accepted_rows + duplicate_rows + rejected_rows on every row.

    A row's day is the day it occurred; for a rejected row without a parseable
    occurred_at, the day it was received; for one with neither, the row with a null
    event_date. The days are those of the accepted events, first to last: a rejected row
    dated outside them (1970, 2099) would otherwise be a day of its own with a reject rate
    of 1.0 and stretch every chart over decades. Such a row counts on the day it was
    received when that is inside the range (the feed delivered it that day), else on the
    nearest end of the range; it keeps its reject reason, and out_of_range_rows says how
    many rows a day holds that way. Totals are unchanged, so raw = accepted + duplicates
    + rejected still holds per row and in total.
-#}

{%- set float_type = dbt.type_float() %}
{%- set lookback_days = var('northstar__lookback_days', 3) | int %}

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

accepted_days as (

    select
        min(event_date) as first_day,
        max(event_date) as last_day
    from accepted

),

{#- One stream, so rows without a date group together without a null-safe join. #}
all_rows as (

    select
        event_date,
        cast(received_at as date) as received_date,
        'raw' as row_source,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        false as is_late_arrival,
        false as is_beyond_lookback
    from parsed

    union all

    select
        event_date,
        cast(received_at as date) as received_date,
        'accepted' as row_source,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        is_late_arrival,
        coalesce(
            {{ dbt.datediff('event_date', 'cast(received_at as date)', 'day') }}
            > {{ lookback_days }},
            false
        ) as is_beyond_lookback
    from accepted

    union all

    select
        event_date,
        cast(received_at as date) as received_date,
        'duplicate' as row_source,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        false as is_late_arrival,
        false as is_beyond_lookback
    from duplicates

    union all

    select
        event_date,
        received_date,
        'rejected' as row_source,
        reject_reason,
        false as is_late_arrival,
        false as is_beyond_lookback
    from rejected

),

{#- Every stream moves a row the same way, so each day still reconciles. With no accepted
    row at all there is no range to keep to, and every row keeps its own day. #}
in_range as (

    select
        all_rows.row_source,
        all_rows.reject_reason,
        all_rows.is_late_arrival,
        all_rows.is_beyond_lookback,
        case
            when
                all_rows.event_date is null
                or accepted_days.first_day is null
                or all_rows.event_date between accepted_days.first_day and accepted_days.last_day
                then all_rows.event_date
            when all_rows.received_date between accepted_days.first_day and accepted_days.last_day
                then all_rows.received_date
            when all_rows.event_date < accepted_days.first_day then accepted_days.first_day
            else accepted_days.last_day
        end as event_date,
        all_rows.event_date is not null
        and accepted_days.first_day is not null
        and all_rows.event_date
        not between accepted_days.first_day and accepted_days.last_day as is_out_of_range
    from all_rows
    cross join accepted_days

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
        ) as late_arrival_rows,
        sum(
            case when row_source = 'accepted' and is_beyond_lookback then 1 else 0 end
        ) as beyond_lookback_rows,
        sum(
            case when row_source = 'raw' and is_out_of_range then 1 else 0 end
        ) as out_of_range_rows
    from in_range
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
