-- The floor of a weekly North Star build: one scan of the raw events, the accept rules of
-- staging for the columns the North Star reads, one deduplication on event_id, one count per
-- ISO week. scripts/bench_scale.py runs it on the same files as the build and asserts it equals
-- marts.rpt_north_star on every week, so it is a real lower bound, not a different number.
--
-- Placeholders (filled by bench_scale.py): {raw_events} a read_parquet() path or glob,
-- {as_of} and {start_date} timestamps, {max_future_hours}, {known_events} and {nsm_events}
-- SQL lists of normalized event names.
-- The rules mirror models/staging/northstar_raw/stg_northstar_raw__events_parsed.sql and
-- macros/staging/northstar_parse.sql; columns no weekly count needs (user, session, platform,
-- country, received_at apart from picking the first copy) are not read beyond that.

with

raw as (

    select event_id, event_name, occurred_at, received_at, account_id, properties
    from read_parquet({raw_events})

),

cleaned as (

    select
        -- trimmed; blank and placeholder values are missing
        case
            when lower(trim(event_id)) in ('', 'null', 'undefined', 'none', 'nan') then null
            else trim(event_id)
        end as event_id,
        nullif(
            regexp_replace(
                lower(
                    case
                        when lower(trim(event_name)) in ('', 'null', 'undefined', 'none', 'nan')
                            then null
                        else trim(event_name)
                    end
                ),
                '[\s\-]+', '_', 'g'
            ),
            ''
        ) as event_name,
        case
            when lower(trim(occurred_at)) in ('', 'null', 'undefined', 'none', 'nan') then null
            else trim(occurred_at)
        end as occurred_text,
        case
            when lower(trim(received_at)) in ('', 'null', 'undefined', 'none', 'nan') then null
            else trim(received_at)
        end as received_text,
        case
            when lower(trim(account_id)) in ('', 'null', 'undefined', 'none', 'nan') then null
            else trim(account_id)
        end as account_id,
        case
            when lower(trim(properties)) in ('', 'null') then '{{}}'
            else coalesce(trim(properties), '{{}}')
        end as properties
    from raw

),

parsed as (

    select
        event_id,
        event_name,
        account_id,
        properties,
        case
            when regexp_full_match(occurred_text, '[0-9]{{1,11}}')
                then timezone('UTC', to_timestamp(cast(occurred_text as bigint)))
            when regexp_full_match(occurred_text, '[0-9]{{12,14}}')
                then epoch_ms(cast(occurred_text as bigint))
            when regexp_full_match(occurred_text, '[0-9]{{1,11}}\.[0-9]+')
                then timezone('UTC', to_timestamp(cast(occurred_text as double)))
            when regexp_matches(
                upper(occurred_text),
                '[0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\.[0-9]*)?)? *[A-Z+-][A-Z0-9_/:+-]*$'
            )
                then timezone('UTC', try_cast(upper(occurred_text) as timestamptz))
            else try_cast(upper(occurred_text) as timestamp)
        end as occurred_at,
        case
            when regexp_matches(
                upper(received_text),
                '[0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\.[0-9]*)?)? *[A-Z+-][A-Z0-9_/:+-]*$'
            )
                then timezone('UTC', try_cast(upper(received_text) as timestamptz))
            else try_cast(upper(received_text) as timestamp)
        end as received_at
    from cleaned

),

accepted as (

    select event_id, event_name, occurred_at, received_at
    from parsed
    where
        event_id is not null
        and length(event_id) <= 256
        and event_name in ({known_events})
        and occurred_at is not null
        and occurred_at <= timestamp '{as_of}' + interval {max_future_hours} hour
        and occurred_at >= timestamp '{start_date}'
        and account_id is not null
        and length(account_id) <= 256
        and coalesce(left(properties, 1) = '{{' and json_valid(properties), false)

),

-- the copy that arrived first wins (staging's rule); a hash aggregate, no sort
deduplicated as (

    select
        event_id,
        arg_min(event_name, (received_at is null, received_at, occurred_at)) as event_name,
        arg_min(occurred_at, (received_at is null, received_at, occurred_at)) as occurred_at
    from accepted
    group by event_id

)

select
    cast(date_trunc('week', occurred_at) as date) as period_start,
    count(*) as value
from deduplicated
where event_name in ({nsm_events})
group by 1
order by 1
