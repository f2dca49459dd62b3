-- The floor of a weekly North Star build: one scan of the raw events, the accept rules of
-- staging for the rows and columns the North Star reads, one deduplication on event_id, one
-- count per ISO week. scripts/bench_scale.py runs it on the same files as the build and asserts
-- it equals marts.rpt_north_star on every week, so it is a lower bound on the same answer.
--
-- Placeholders (filled by bench_scale.py): {raw_events} a read_parquet() path or glob,
-- {as_of} and {start_date} timestamps, {max_future_hours}, {nsm_events} a SQL list of
-- normalized event names.
-- The rules mirror models/staging/northstar_raw/stg_northstar_raw__events_parsed.sql and
-- macros/staging/northstar_parse.sql. As a floor it does only what this answer needs:
-- - rows are kept by event name first (a rejected or unknown name is never the North Star's);
-- - deduplication counts distinct event_ids per week: the copies of an event share its
--   occurrence (they differ in received_at only), so which copy staging keeps does not move
--   the count, and the equality check would catch a feed where it did.

with

raw as (

    select event_id, event_name, occurred_at, account_id, properties
    from read_parquet({raw_events})

),

named as (

    select
        trim(event_id) as event_id,
        trim(occurred_at) as occurred_text,
        trim(account_id) as account_id,
        properties
    from raw
    where
        -- most names are written as declared: skip the normalization for them
        event_name in ({nsm_events})
        or regexp_replace(lower(trim(event_name)), '[\s\-]+', '_', 'g') in ({nsm_events})

),

parsed as (

    select
        event_id,
        account_id,
        properties,
        case
            -- the common ISO form with Z first: a plain cast, no pattern matching
            when occurred_text similar to '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9:.]+Z'
                then try_cast(occurred_text as timestamp)
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
        end as occurred_at
    from named
    where
        -- ids: present, not a placeholder, at most 256 characters
        event_id is not null
        and lower(event_id) not in ('', 'null', 'undefined', 'none', 'nan')
        and length(event_id) <= 256
        and account_id is not null
        and lower(account_id) not in ('', 'null', 'undefined', 'none', 'nan')
        and length(account_id) <= 256

)

select
    cast(date_trunc('week', occurred_at) as date) as period_start,
    count(distinct event_id) as value
from parsed
where
    occurred_at <= timestamp '{as_of}' + interval {max_future_hours} hour
    and occurred_at >= timestamp '{start_date}'
    and (
        lower(trim(properties)) in ('', 'null')
        or properties is null
        or coalesce(left(trim(properties), 1) = '{{' and json_valid(trim(properties)), false)
    )
group by 1
order by 1
