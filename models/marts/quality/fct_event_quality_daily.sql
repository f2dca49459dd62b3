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

{%- set double = northstar_type_double() %}
{#- DuckDB sums integers into a 128-bit HUGEINT, which the contract and many BI drivers
    do not take. -#}
{%- set bigint = dbt.type_bigint() %}
{%- set lookback_days = var('northstar__lookback_days', 3) | int %}

with

raw_rows as (

    select * from {{ ref('int_raw_rows_daily') }}

),

duplicates as (

    select * from {{ ref('stg_events_duplicates') }}

),

{#- A duplicate copy moves one row from accepted to duplicate. #}
moves as (

    select
        'accepted' as row_source,
        -1 as row_count

    union all

    select
        'duplicate' as row_source,
        1 as row_count

),

{#- Counted rows, not rows: each stream carries row_count. The accepted rows are the
    staged rows without a reject reason less the copies that lost the tie-break (the
    duplicates, a small table), so the events themselves are not read again. #}
all_rows as (

    select
        event_date,
        received_date,
        'raw' as row_source,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        false as is_late_arrival,
        raw_rows as row_count
    from raw_rows

    union all

    select
        event_date,
        received_date,
        case when reject_reason is null then 'accepted' else 'rejected' end as row_source,
        reject_reason,
        coalesce(is_late_arrival, false) as is_late_arrival,
        raw_rows as row_count
    from raw_rows

    union all

    select
        duplicates.event_date,
        cast(duplicates.received_at as date) as received_date,
        moves.row_source,
        cast(null as {{ dbt.type_string() }}) as reject_reason,
        duplicates.is_late_arrival,
        moves.row_count
    from duplicates
    cross join moves

),

flagged as (

    select
        *,
        row_source = 'accepted'
        and coalesce(
            {{ dbt.datediff('event_date', 'received_date', 'day') }}
            > {{ lookback_days }},
            false
        ) as is_beyond_lookback
    from all_rows

),

accepted_days as (

    select
        min(event_date) as first_day,
        max(event_date) as last_day
    from (
        select event_date
        from flagged
        where row_source = 'accepted'
        group by 1
        having sum(row_count) > 0
    ) as days_with_events

),

{#- Every stream moves a row the same way, so each day still reconciles. With no accepted
    row at all there is no range to keep to, and every row keeps its own day. #}
in_range as (

    select
        all_rows.row_source,
        all_rows.reject_reason,
        all_rows.is_late_arrival,
        all_rows.is_beyond_lookback,
        all_rows.row_count,
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
    from flagged as all_rows
    cross join accepted_days

),

daily as (

    select
        event_date,
        {%- for source in ['raw', 'accepted', 'duplicate', 'rejected'] %}
        cast(sum(
            case when row_source = '{{ source }}' then row_count else 0 end
        ) as {{ bigint }}) as {{ source }}_rows,
        {%- endfor %}
        {% for reason in northstar_reject_reasons() %}
        cast(sum(
            case when reject_reason = '{{ reason }}' then row_count else 0 end
        ) as {{ bigint }}) as rejected_{{ reason }},
        {% endfor %}
        cast(sum(
            case when row_source = 'accepted' and is_late_arrival then row_count else 0 end
        ) as {{ bigint }}) as late_arrival_rows,
        cast(sum(
            case when row_source = 'accepted' and is_beyond_lookback then row_count else 0 end
        ) as {{ bigint }}) as beyond_lookback_rows,
        cast(sum(
            case when row_source = 'raw' and is_out_of_range then row_count else 0 end
        ) as {{ bigint }}) as out_of_range_rows
    from in_range
    group by 1

),

final as (

    select
        *,
        cast(rejected_rows as {{ double }}) / nullif(raw_rows, 0) as reject_rate,
        cast(duplicate_rows as {{ double }}) / nullif(raw_rows, 0) as duplicate_rate,
        cast(late_arrival_rows as {{ double }}) / nullif(accepted_rows, 0) as late_arrival_rate,
        raw_rows = accepted_rows + duplicate_rows + rejected_rows as is_reconciled
    from daily

)

select * from final
