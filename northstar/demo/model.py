"""The product model behind the demo data, as DuckDB SQL.

Everything random comes from `hash(seed, key, salt)` mapped to [0, 1), never from `random()`:
a row's draws depend only on the seed and its own key, so the data is the same whatever the
thread count or the order DuckDB happens to process rows in. Numbers that shape the planted
truths are named constants here and documented in docs/demo-data.md; change both together.

Pipeline (each step one table in an in-memory DuckDB, for one chunk of teams at a time):
  teams       one row per account: latent fit, size, sign-up time, early messaging rate
  team_days   one row per team and 24h bucket after its first event (bucket k covers
              [created_at + k days, created_at + k+1 days)), so "within 14 days of the first
              event" is exactly buckets 0..13
  outcomes    messages in the first 14 days -> aha -> lifetime (churn), resurrection, paid plan
  users       users join over the first weeks while the team is alive
  day_counts  events per team-day and kind, expanded into one row per event (ev)
  ev          the clean events with their true timestamps and typed properties
  copies      every delivered copy (original, duplicate) with the UTC day it landed on
Then, per batch of landed days, the copies are formatted as the varchar feed, with malformed
twins of a few events (extra rows, so the clean truth is unchanged), one file per day.

Nothing here depends on where the data ends except what has happened (or landed) by then:
teams sign up per SIGNUP_DAYS period whatever the range, every draw is keyed by team, day and
event, and events are cut at the end only after they are simulated. So a longer range only
adds days, and the files of the days already written stay byte for byte the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from string import Template

DAY_MS = 86_400_000

# Planted truths (docs/demo-data.md, "Planted truths").
AHA_MESSAGES = 100  # message_sent ...
AHA_WINDOW_DAYS = 14  # ... within this many days of the team's first event
ACTIVATION_CHANGE_DATE = date(2026, 6, 1)  # onboarding change: teams created on/after it
BREACH_START = date(2026, 7, 13)  # two ISO weeks (Mon 13 Jul .. Sun 26 Jul) of incident
BREACH_END = date(2026, 7, 27)  # exclusive
WEEK8_START_DAY = 56  # "active in week 8" = a core event in [first + 56d, first + 63d)

# Defect rates (docs/demo-data.md, "Defects").
DUPLICATE_RATE = 0.005
LATE_RATE = 0.01
MALFORMED_RATE = 0.0005
# Tails that straddle an incremental run's lookback: a share of late arrivals comes 4-14 days
# late (a device offline for days), and a share of duplicates is a batch replayed 1-10 days
# later, so a consumer must resolve duplicates across batches and count very late events.
VERY_LATE_SHARE = 0.1
REPLAYED_DUPLICATE_SHARE = 0.1

# The world does not depend on how many days are generated, so a data set can grow by a day
# without changing the days it already holds: `accounts` teams sign up over every period of
# SIGNUP_DAYS (the default range), the first period after a launch-week beta cohort.
SIGNUP_DAYS = 213
# Malformed future timestamps are this far after the day they landed, so they stay in the
# future for any as-of within five years (appending days never turns one into a valid row).
FUTURE_MIN_DAYS = 1826

# Event name codes (ec) in the order of dbt_project.yml vars.northstar.events.
EVENT_NAMES = (
    "account_created",
    "user_signed_up",
    "session_started",
    "message_sent",
    "file_shared",
    "search_performed",
    "integration_added",
    "invite_sent",
    "support_ticket_created",
    "notification_unsubscribed",
    "message_reported",
    "nps_submitted",
    "api_request",
    "subscription_started",
    "subscription_cancelled",
)
CORE_EVENTS = (
    "message_sent",
    "file_shared",
    "search_performed",
    "integration_added",
    "invite_sent",
)

# Generation processes (pc) that are not event names: both map to an existing name.
PC_TICKET_INCIDENT = 15  # extra support tickets during the breach weeks
PC_JOIN_INVITE = 16  # the invite that precedes each user's sign-up

# Malformed kinds, in a repeating cycle: every kind appears once the data set holds at least
# one cycle of malformed rows (always: the count is max(rate * events, len(cycle))).
MALFORMED_CYCLE = (
    "missing_event_id",
    "missing_account_id",
    "missing_user_id",
    "unparseable_occurred_at",
    "future_occurred_at",
    "before_start_occurred_at",
    "properties_not_object",
    "unknown_event_name",
    "missing_event_id",
    "missing_account_id",
    "missing_user_id",
    "unparseable_occurred_at",
    "future_occurred_at",
    "before_start_occurred_at",
    "properties_not_object",
    "unknown_event_name",
    "nan_property",
    "nan_property",
    "oversized_event_id",
    "all_null",
)

# Kinds whose twin is made from a session_started event (see BAD).
MALFORMED_ON_SESSIONS = ("missing_user_id", "nan_property", "oversized_event_id")

COUNTRIES = {"US": 34, "GB": 10, "DE": 9, "IN": 8, "FR": 6, "BR": 6, "CA": 6, "AU": 4}
COUNTRIES |= {"NL": 4, "JP": 3, "ES": 3, "SE": 3, "PL": 2, "MX": 2}
INDUSTRIES = {"software": 30, "media": 10, "finance": 10, "healthcare": 8, "education": 10}
INDUSTRIES |= {"retail": 8, "manufacturing": 7, "nonprofit": 5, "consulting": 8, "government": 4}
PLATFORMS = {"web": 45, "desktop": 20, "ios": 20, "android": 15}
INTEGRATIONS = {"github": 25, "jira": 20, "google_drive": 20, "zoom": 15, "salesforce": 10}
INTEGRATIONS |= {"pagerduty": 5, "zapier": 5}
SEVERITY_NORMAL = {"low": 45, "normal": 40, "high": 12, "urgent": 3}
SEVERITY_INCIDENT = {"low": 10, "normal": 30, "high": 40, "urgent": 20}
# (minutes east of UTC, suffix) for occurred_at strings sent with a local offset.
OFFSETS = ((120, "+02:00"), (-300, "-05:00"), (330, "+05:30"), (540, "+09:00"))
OFFSETS += ((-480, "-08:00"), (60, "+01:00"), (0, "+00:00"), (-180, "-03:00"))


def _weighted(weights: dict[str, int]) -> str:
    """A SQL list literal where each value repeats by its weight; index it with a uniform draw."""
    items = [name for name, weight in weights.items() for _ in range(weight)]
    return "[" + ", ".join(f"'{item}'" for item in items) + "]"


def _strings(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Params:
    accounts: int
    days: int
    seed: int
    start_date: date
    signup_days: int = SIGNUP_DAYS

    def validate(self) -> None:
        # Bit budget of the event key: team 24 bits, day 14, process 5, index 20.
        if not 1 <= self.accounts < 2**24:
            raise ValueError(f"accounts must be between 1 and {2**24 - 1}, got {self.accounts}")
        if not 1 <= self.days < 2**14:
            raise ValueError(f"days must be between 1 and {2**14 - 1}, got {self.days}")
        if not 0 <= self.seed < 2**62:
            raise ValueError(f"seed must be a non-negative integer below 2**62, got {self.seed}")
        if not 1 <= self.signup_days < 2**14:
            raise ValueError(
                f"signup_days must be between 1 and {2**14 - 1}, got {self.signup_days}"
            )
        if self.teams_total >= 2**24:
            raise ValueError(
                f"{self.accounts} accounts per {self.signup_days} days over {self.days} days "
                f"is {self.teams_total} teams, more than the {2**24 - 1} an event key holds"
            )

    @property
    def teams_total(self) -> int:
        """Teams that may have signed up by the end: `accounts` per sign-up period."""
        return self.accounts * -(-self.days // self.signup_days)

    @property
    def start_ms(self) -> int:
        return _ms(self.start_date)

    @property
    def end_ms(self) -> int:
        """Exclusive end: midnight after the last day (start_date + days - 1)."""
        return self.start_ms + self.days * DAY_MS

    def substitutions(self) -> dict[str, str]:
        return {
            "seed": str(self.seed),
            "accounts": str(self.accounts),
            "signup_days": str(self.signup_days),
            "start_ms": str(self.start_ms),
            "end_ms": str(self.end_ms),
            # Events are simulated a day past the end, so a session that starts before the end
            # has the same start whatever comes after (its events may straddle midnight).
            "gen_end_ms": str(self.end_ms + DAY_MS),
            "days": str(self.days),
            "day_ms": f"{DAY_MS}::bigint",
            "change_ms": str(_ms(ACTIVATION_CHANGE_DATE)),
            "breach_start_ms": str(_ms(BREACH_START)),
            "breach_end_ms": str(_ms(BREACH_END)),
            "aha_messages": str(AHA_MESSAGES),
            "aha_days": str(AHA_WINDOW_DAYS),
            "dup_rate": repr(DUPLICATE_RATE),
            "late_rate": repr(LATE_RATE),
            "malformed_rate": repr(MALFORMED_RATE),
            "very_late_share": repr(VERY_LATE_SHARE),
            "replayed_dup_share": repr(REPLAYED_DUPLICATE_SHARE),
            "future_min_days": str(FUTURE_MIN_DAYS),
            "countries": _weighted(COUNTRIES),
            "industries": _weighted(INDUSTRIES),
            "platforms": _weighted(PLATFORMS),
            "platform_names": _strings(list(PLATFORMS)),
            "integrations": _weighted(INTEGRATIONS),
            "severity_normal": _weighted(SEVERITY_NORMAL),
            "severity_incident": _weighted(SEVERITY_INCIDENT),
            "offset_minutes": "[" + ", ".join(str(m) for m, _ in OFFSETS) + "]",
            "offset_suffixes": _strings([s for _, s in OFFSETS]),
            "event_names": _strings(EVENT_NAMES),
            "upper_names": _strings([n.upper() for n in EVENT_NAMES]),
            "title_names": _strings([n.replace("_", " ").title() for n in EVENT_NAMES]),
            "malformed_cycle": _strings(MALFORMED_CYCLE),
            "malformed_cycle_len": str(len(MALFORMED_CYCLE)),
            "session_kinds": "(" + ", ".join(f"'{k}'" for k in MALFORMED_ON_SESSIONS) + ")",
        }


# DuckDB's multi-argument hash() combines its arguments' hashes weakly (draws from consecutive
# keys come out correlated), so every key is hashed twice: hN(...) = hash(hash(...)), whose
# outer single-value hash is a full 64-bit finalizer. ud(h, salt) is uniform in [0, 1),
# nd(h, salt) standard normal (Box-Muller).
MACROS = """
create or replace macro h2(a, b) as hash(hash(a, b));
create or replace macro h3(a, b, c) as hash(hash(a, b, c));
create or replace macro h6(a, b, c, d, e, f) as hash(hash(a, b, c, d, e, f));
create or replace macro ud(h, salt) as
    (h2(h, salt) >> 11)::double / 9007199254740992.0;
create or replace macro nd(h, salt) as
    sqrt(-2.0 * ln(1.0 - ud(h, salt))) * cos(2.0 * pi() * ud(h, salt + 1000));
create or replace macro pick(choices, u) as
    choices[1 + floor(u * len(choices))::integer];
-- a version-4 UUID string from two 64-bit hashes
create or replace macro uuid_text(a, b) as (
    (((a & 18446744073709490175::ubigint) | 16384)::uhugeint << 64)
    | ((b & 4611686018427387903::ubigint) | 9223372036854775808::ubigint)::uhugeint
)::uuid::varchar;
"""

# Sign-ups spread over the whole range with mild growth (density rising ~25% over the range),
# after a launch-week cohort.
# r0 is the expected messages per day in the first 14 days; a team reaches the aha moment when
# its realised 14-day count is >= 100, so the split follows fit, team size and the onboarding
# change, plus noise: a real signal, not a label.
TEAMS = """
create table teams as
with base as (
    select i::integer as team_idx, h3(${seed}, 1, i) as h, i // ${accounts} as period
    from range(${team_lo}, ${team_hi}) as t(i)
),

drawn as (
    select
        team_idx,
        h,
        nd(h, 1) as fit,
        nd(h, 2) as rate_noise,
        -- 8% are beta teams that move over in launch week, so week 1 is not a handful;
        -- later periods repeat the growth curve without the beta
        case
            when period = 0 and ud(h, 9) < 0.08 then floor(least(7, ${signup_days}) * ud(h, 3))
            else period * ${signup_days}
                + least(${signup_days} - 1, floor(${signup_days} * pow(ud(h, 3), 0.8)))
        end::bigint as created_day,
        floor((6 + 14 * ud(h, 4)) * 3600)::bigint as created_tod_s,
        least(60, 2 + floor(exp(1.5 + 0.75 * nd(h, 5))))::integer as n_users,
        pick(${countries}, ud(h, 6)) as country,
        pick(${industries}, ud(h, 7)) as industry,
        0.6 + 0.9 * ud(h, 8) as join_speed
    from base
),

timed as (
    select
        *,
        ${start_ms} + created_day * ${day_ms} + created_tod_s * 1000 as created_ms,
        ${start_ms} + created_day * ${day_ms} >= ${change_ms} as is_post_change,
        7.0 * exp(
            -0.2 + 0.8 * fit + 0.5 * is_post_change::integer + 0.45 * rate_noise
            + 0.3 * (ln(n_users) - 1.9)
        ) as r0
    from drawn
)

select
    *,
    -- the first 14 buckets always, so the aha outcome does not depend on where the data ends
    greatest(${aha_days}, ceil((${gen_end_ms} - created_ms) / ${day_ms}::double))::integer
        as n_buckets
from timed
where created_ms < ${end_ms}
"""

TEAM_DAYS = """
create table team_days as
with expanded as (
    select team_idx, h, created_ms, r0, unnest(range(n_buckets)) as k
    from teams
),

bucketed as (
    select
        team_idx,
        k::integer as k,
        h2(h, 100000 + k) as hd,
        created_ms + k * ${day_ms} as day_ms,
        r0,
        -- the bucket's calendar weekday, taken at its midpoint
        case
            when isodow(epoch_ms(created_ms + k * ${day_ms} + ${day_ms} // 2)) >= 6 then 0.45
            else 1.15
        end as weekday_factor
    from expanded
)

select
    * exclude (r0),
    -- first-days ramp: the team is still setting up
    case
        when k >= ${aha_days} then 0
        else floor(
            r0 * weekday_factor * (case k when 0 then 0.5 when 1 then 0.8 else 1.0 end)
            * exp(0.35 * nd(hd, 1) - 0.06) + ud(hd, 2)
        )
    end::integer as early_messages
from bucketed
"""

# Lifetime (days from the first event) is exponential after the 14-day window, with a mean
# that depends on the aha moment (a step at 100 messages) and, less, on fit. Some churned
# teams come back for a while (resurrection). Aha teams convert to paid far more often.
OUTCOMES = """
create table outcomes as
with m14 as (
    select team_idx, sum(early_messages)::integer as messages_14d
    from team_days
    where k < ${aha_days}
    group by team_idx
),

life as (
    select
        t.*,
        m.messages_14d,
        m.messages_14d >= ${aha_messages} as planned_aha,
        ${aha_days} + (-ln(1.0 - ud(t.h, 20))) * (
            case
                when m.messages_14d >= ${aha_messages} then 300.0 * exp(0.4 * t.fit)
                else 46.0 * exp(0.3 * t.fit)
            end
        ) as churn_day,
        ud(t.h, 21) < 0.15 as resurrects,
        ud(t.h, 22) as u_res_start,
        ud(t.h, 23) as u_res_len,
        ud(t.h, 24) as u_conv,
        ud(t.h, 25) as u_conv_day,
        ud(t.h, 26) as u_plan,
        ud(t.h, 27) as u_cancel,
        ud(t.h, 28) as u_cancel_day
    from teams as t
    inner join m14 as m on t.team_idx = m.team_idx
)

select
    * exclude (resurrects, u_res_start, u_res_len, u_conv, u_conv_day, u_cancel, u_cancel_day),
    case when resurrects then churn_day + 14 + 42 * u_res_start end as res_start_day,
    case when resurrects then churn_day + 14 + 42 * u_res_start + 7 + 49 * u_res_len end
        as res_end_day,
    -- messages per day once onboarded
    r0 * (case when planned_aha then 0.75 else 0.55 end) as r1,
    u_conv < (case when planned_aha then 0.45 else 0.08 end) as converts,
    (case when planned_aha then 14 + floor(28 * u_conv_day) else 7 + floor(50 * u_conv_day) end)
        ::integer as conv_day,
    case when u_plan < (case when n_users >= 15 then 0.45 else 0.18 end) then 'business'
        else 'pro' end as paid_plan,
    case when u_cancel < 0.12 then 30 + floor(90 * u_cancel_day) end as voluntary_cancel_after
from life
"""

# Users join over the first weeks (monotone in j, so users 0..n-1 are the first n to join);
# nobody joins a team after it churned. User 0 created the team.
USERS = """
create table users as
with expanded as (
    select team_idx, h, created_ms, n_users, join_speed, churn_day, country,
        unnest(range(n_users)) as j
    from outcomes
),

timed as (
    select
        team_idx,
        j::integer as j,
        h2(h, 200000 + j) as hu,
        case when j = 0 then 0
            else floor(35 * join_speed * pow(j / n_users, 1.5))::integer end as join_day,
        -- whole seconds, so users.created_at equals the sign-up event in every format
        case when j = 0 then created_ms + 1000
            else created_ms + join_day * ${day_ms}
                + floor((0.001 + 0.998 * ud(hu, 1)) * 86400)::bigint * 1000 end as join_ms,
        churn_day,
        country as team_country
    from expanded
)

select
    team_idx,
    j,
    format('usr_{:06d}{:02d}', team_idx, j) as user_id,
    format('acc_{:06d}', team_idx) as account_id,
    hu,
    join_day,
    join_ms,
    -- the creator exists from the team's first instant (account_created is theirs)
    case when j = 0 then join_ms - 1000 else join_ms end as user_created_ms,
    case when ud(hu, 2) < 0.85 then team_country else pick(${countries}, ud(hu, 3)) end
        as country,
    pick(${platforms}, ud(hu, 4)) as platform
from timed
where join_day < churn_day
"""

# Per alive team-day, how many events of each process. "eligible" = users who joined before
# the bucket (user 0 alone on day 0), so every event's user already exists.
DAY_COUNTS = """
create table day_counts as
with joined as (
    select team_idx, join_day, count(*) as n
    from users
    group by team_idx, join_day
),

cumulative as (
    select
        team_idx,
        join_day,
        sum(n) over (partition by team_idx order by join_day) as n_joined
    from joined
),

days as (
    select
        d.*,
        o.planned_aha,
        o.r1,
        o.churn_day,
        coalesce(c.n_joined, 1)::integer as eligible_users,
        d.k < ${aha_days} or d.k < o.churn_day
            or (d.k >= o.res_start_day and d.k < o.res_end_day) as alive,
        d.k >= o.res_start_day as resurrected,
        -- overlap of the bucket with the incident window, as fractions of a day
        greatest(0, least(d.day_ms + ${day_ms}, ${breach_end_ms})
            - greatest(d.day_ms, ${breach_start_ms})) / ${day_ms}::double as incident_len,
        greatest(0, ${breach_start_ms} - d.day_ms) / ${day_ms}::double as incident_from
    from team_days as d
    inner join outcomes as o on d.team_idx = o.team_idx
    asof left join cumulative as c on d.team_idx = c.team_idx and d.k > c.join_day
    where d.day_ms < ${gen_end_ms}
),

counted as (
    select
        *,
        case
            when k < ${aha_days} then early_messages
            else floor(
                r1 * weekday_factor * (case when resurrected then 0.5 else 1.0 end)
                * exp(0.35 * nd(hd, 1) - 0.06) + ud(hd, 2)
            )
        end::integer as n3,
        floor(n3 * 0.06 + ud(hd, 4))::integer as n4,
        floor(n3 * 0.08 + 0.4 * weekday_factor + ud(hd, 5))::integer as n5,
        floor(
            (case when k >= 30 then 0.004 when planned_aha then 0.1 else 0.05 end) + ud(hd, 6)
        )::integer as n6,
        floor(0.01 + ud(hd, 7))::integer as n7,
        floor(0.01 + ud(hd, 8))::integer as n8,
        floor(0.004 + ud(hd, 9))::integer as n9,
        floor(n3 * 0.002 + ud(hd, 10))::integer as n10,
        floor(0.08 + ud(hd, 11))::integer as n11,
        floor(1.0 + n3 * 0.1 + ud(hd, 12))::integer as n12,
        floor(0.06 * incident_len + ud(hd, 13))::integer as n15
    from days
    where alive
)

unpivot (
    select team_idx, k, hd, day_ms, eligible_users, incident_from, incident_len,
        n3, n4, n5, n6, n7, n8, n9, n10, n11, n12, n15
    from counted
)
on n3, n4, n5, n6, n7, n8, n9, n10, n11, n12, n15
into name process value n
"""

# One row per event with its true time (epoch ms) and typed properties. Keys are unique:
# team << 39 | bucket << 25 | process << 20 | index.
EVENTS_BASE = """
create table ev_base as
with regular as (
    select
        team_idx,
        k,
        substr(process, 2)::integer as pc,
        day_ms,
        eligible_users,
        incident_from,
        incident_len,
        unnest(range(n)) as j
    from day_counts
    where n > 0
),

regular_timed as (
    select
        team_idx,
        k,
        pc,
        j::integer as j,
        (team_idx::bigint << 39) | (k::bigint << 25) | (pc::bigint << 20) | j as key,
        day_ms,
        day_ms + floor(${day_ms} * (
            case
                when pc = 15 then greatest(0.0005, incident_from + incident_len * ud(
                    h2(${seed}, key), 1))
                else 0.0005 + 0.9995 * ud(h2(${seed}, key), 1)
            end
        ))::bigint as ts_ms,
        -- a few power users send most events
        floor(pow(ud(h2(${seed}, key), 2), 1.6) * eligible_users)::integer as user_j
    from regular
),

lifecycle as (
    -- account_created by user 0 at the team's first instant, then each user's sign-up
    select team_idx, 0 as k, 0 as pc, 0 as j, created_ms as day_ms, created_ms as ts_ms,
        0 as user_j
    from outcomes
    union all
    select u.team_idx, u.join_day, 1, u.j, o.created_ms + u.join_day * ${day_ms}, u.join_ms, u.j
    from users as u inner join outcomes as o on u.team_idx = o.team_idx
    union all
    -- the invite that brought each user in, sent earlier the same day by an existing user
    select
        u.team_idx,
        u.join_day,
        ${pc_join_invite},
        u.j,
        o.created_ms + u.join_day * ${day_ms},
        o.created_ms + u.join_day * ${day_ms}
            + (u.join_ms - o.created_ms - u.join_day * ${day_ms}) // 2,
        floor(ud(u.hu, 5) * coalesce(d.eligible_users, 1))::integer
    from users as u
    inner join outcomes as o on u.team_idx = o.team_idx
    left join (select distinct team_idx, k, eligible_users from day_counts) as d
        on u.team_idx = d.team_idx and u.join_day = d.k
    where u.j > 0
),

subscription_start as (
    select
        o.*,
        o.created_ms + o.conv_day * ${day_ms}
            + floor((0.3 + 0.6 * ud(o.h, 30)) * ${day_ms})::bigint as start_ms,
        least(
            -- the moment the team goes quiet: just before its last alive bucket ends
            case when o.churn_day > o.conv_day + 1
                then o.created_ms + (floor(o.churn_day)::bigint + 1) * ${day_ms} - 60000 end,
            case when o.voluntary_cancel_after is not null
                and o.conv_day + o.voluntary_cancel_after < o.churn_day
                then o.created_ms + (o.conv_day + o.voluntary_cancel_after)::bigint * ${day_ms}
                    + floor(ud(o.h, 31) * ${day_ms})::bigint end
        ) as cancel_ms
    from outcomes as o
    where o.converts and o.conv_day < o.churn_day
),

subscription as (
    -- seats billed: the users who had joined when the plan started
    select s.*, count(*) as seats
    from subscription_start as s
    inner join users as u on s.team_idx = u.team_idx and u.join_ms < s.start_ms
    group by all
),

subscription_events as (
    select team_idx, conv_day as k, 13 as pc, 0 as j, start_ms as ts_ms, paid_plan, seats
    from subscription
    where start_ms < ${gen_end_ms}
    union all
    select team_idx, ((cancel_ms - created_ms) // ${day_ms})::integer, 14, 0, cancel_ms,
        paid_plan, seats
    from subscription
    where start_ms < ${gen_end_ms} and cancel_ms < ${gen_end_ms}
),

unioned as (
    select team_idx, k, pc, j, key, day_ms, ts_ms, user_j, null::varchar as paid_plan,
        null::bigint as seats
    from regular_timed
    where ts_ms < ${gen_end_ms}
    union all
    select team_idx, k, pc, j,
        (team_idx::bigint << 39) | (k::bigint << 25) | (pc::bigint << 20) | j,
        day_ms, ts_ms, user_j, null, null
    from lifecycle
    union all
    select s.team_idx, s.k, s.pc, s.j,
        (s.team_idx::bigint << 39) | (s.k::bigint << 25) | (s.pc::bigint << 20) | s.j,
        o.created_ms + s.k * ${day_ms}, s.ts_ms, 0, s.paid_plan, s.seats
    from subscription_events as s inner join outcomes as o on s.team_idx = o.team_idx
)

-- slot: which half of its bucket an event falls in (sessions below)
select *, (ts_ms - day_ms) // 43200000 as slot from unioned
"""

# Sessions: a user's events in the same 12-hour half of a bucket form one session, which
# starts 1-30 s before its first event. Server-side events (account_created, user_signed_up,
# api_request, subscriptions) carry no session.
SESSIONS = """
create table sessions as
with user_app as (
    select team_idx, k, user_j, day_ms, ts_ms, slot
    from ev_base
    where pc not in (0, 1, 12, 13, 14)
)

select
    team_idx,
    k,
    2 as pc,
    (user_j * 2 + slot)::integer as j,
    (team_idx::bigint << 39) | (k::bigint << 25) | (2::bigint << 20) | (user_j * 2 + slot) as key,
    day_ms,
    min(ts_ms) - 1000 - floor(29000 * ud(h6(${seed}, 2, team_idx, k, user_j, slot), 7))
        ::bigint as ts_ms,
    user_j,
    null::varchar as paid_plan,
    null::bigint as seats,
    slot
from user_app
group by team_idx, k, user_j, day_ms, slot
"""

EVENTS = """
create table ev as
with everything as (
    select * from ev_base
    union all by name
    select * from sessions
),

drawn as (
    select
        e.*,
        h2(${seed}, e.key) as he,
        case e.pc when ${pc_ticket_incident} then 8 when ${pc_join_invite} then 7 else e.pc end
            as ec,
        e.pc not in (0, 1, 12, 13, 14) as in_session,
        h6(${seed}, 2, e.team_idx, e.k, e.user_j, e.slot) as hs,
        e.ts_ms >= ${breach_start_ms} and e.ts_ms < ${breach_end_ms} as in_incident,
        o.planned_aha,
        o.fit
    from everything as e
    inner join outcomes as o on e.team_idx = o.team_idx
),

formatted as (
    select
        *,
        -- 0 ISO 'Z' with ms, 1 local offset with ms, 2 local offset without ms,
        -- 3 epoch seconds, 4 epoch milliseconds
        case
            when ud(he, 3) < 0.94 then 0
            when ud(he, 3) < 0.955 then 1
            when ud(he, 3) < 0.97 then 2
            when ud(he, 3) < 0.985 then 3
            else 4
        end::tinyint as ts_format,
        -- 0 as declared, 1 UPPER, 2 padded with spaces, 3 Title Case With Spaces
        case
            when ud(he, 4) < 0.98 then 0
            when ud(he, 4) < 0.987 then 1
            when ud(he, 4) < 0.994 then 2
            else 3
        end::tinyint as name_variant,
        1 + floor(ud(he, 5) * 8)::integer as offset_idx
    from drawn
)

select
    team_idx,
    k,
    pc,
    ec,
    key,
    he,
    -- second-precision formats carry only whole seconds: the truth is what was sent
    case when ts_format in (2, 3) then ts_ms - ts_ms % 1000 else ts_ms end as ts_ms,
    user_j,
    case when in_session then hs end as session_hash,
    case when in_session and ud(hs, 1) >= 0.8 then pick(${platform_names}, ud(hs, 2)) end
        as platform_override,
    ts_format,
    name_variant,
    offset_idx,
    -- typed properties; the JSON text is built at write time
    case
        when ec = 3 then case when ud(he, 10) < (case when planned_aha then 0.2 else 0.08 end)
            then 'shared' else 'internal' end
        when ec = 6 then pick(${integrations}, ud(he, 10))
        when pc = 8 then pick(${severity_normal}, ud(he, 10))
        when pc = ${pc_ticket_incident} then pick(${severity_incident}, ud(he, 10))
        when ec in (13, 14) then paid_plan
    end as prop_text,
    case
        when ec = 4 then floor(exp(11.5 + 1.4 * nd(he, 10)))::bigint
        when ec = 11 then greatest(0, least(10, round(8.45 + 0.5 * fit + 2.0 * nd(he, 10))))
            ::bigint
        when ec = 12 then greatest(5, floor(
            case when in_incident then exp(ln(300) + 0.85 * nd(he, 10))
                else exp(ln(120) + 0.557 * nd(he, 10)) end))::bigint
        when ec in (13, 14) then seats * (case paid_plan when 'business' then 15 else 8 end)
    end as prop_num,
    case
        when ec = 12 then
            case
                when ud(he, 12) < (case when in_incident then 0.014 else 0.01 end)
                    then pick([500, 502, 503], ud(he, 13))
                when ud(he, 12) < 0.04 then pick([400, 401, 404, 429], ud(he, 13))
                when ud(he, 12) < 0.1 then 201
                else 200
            end
    end::integer as prop_status,
    -- delivery: a normal lag of well under a second, ~1% hours to days late
    ud(he, 20) < ${late_rate} as is_late,
    ts_ms + case
        when ud(he, 20) < ${late_rate} and ud(he, 23) < ${very_late_share}
            then 4 * ${day_ms} + floor(ud(he, 21) * 10 * ${day_ms})::bigint
        when ud(he, 20) < ${late_rate}
            then 7200000 + floor(pow(ud(he, 21), 2) * 94 * 3600000)::bigint
        else 50 + floor(exp(5.5 + 1.0 * nd(he, 22)))::bigint
    end as rec_ms,
    ud(he, 24) < ${dup_rate} as is_dup,
    case
        when ud(he, 26) < ${replayed_dup_share}
            then ${day_ms} + floor(ud(he, 25) * 9 * ${day_ms})::bigint
        else 1000 + floor(ud(he, 25) * 6 * 3600000)::bigint
    end as dup_delay_ms
from formatted
-- the margin past the end only served the sessions above
where ts_ms < ${end_ms}
"""

# Every delivered copy of a clean event, typed, with the UTC day it landed on: the stage between
# simulating a chunk of teams and writing one file per landed day. `copy_no` 0 is the original
# delivery, 1 the duplicate. A copy lands once it is received before the end of the data; the
# rest are still in flight and land in the days an append adds.
COPIES = """
create or replace table copies as
with delivered as (
    select *, 0::utinyint as copy_no, rec_ms as sort_ms
    from ev
    where rec_ms < ${end_ms}
    union all
    select *, 1::utinyint, rec_ms + dup_delay_ms
    from ev
    where is_dup and rec_ms + dup_delay_ms < ${end_ms}
)

select
    d.key,
    d.copy_no,
    d.sort_ms,
    ((d.sort_ms - ${start_ms}) // ${day_ms})::integer as landed_day,
    d.team_idx,
    d.user_j,
    d.ec,
    d.he,
    d.ts_ms,
    d.ts_format,
    d.name_variant,
    d.offset_idx,
    d.prop_text,
    d.prop_num,
    d.prop_status,
    d.session_hash,
    d.platform_override,
    u.user_id,
    u.account_id,
    u.platform as user_platform,
    u.country as user_country
from delivered as d
inner join users as u on d.team_idx = u.team_idx and d.user_j = u.j
"""

# Varchar rows as they land in the raw feed, from a batch of landed days' typed copies.
DAY_RAW = """
create or replace temp view ${name} as
select
    landed_day,
    key,
    copy_no,
    sort_ms,
    ${extra}
    he,
    uuid_text(h2(he, 101), h2(he, 102)) as event_id,
    case ts_format
        when 0 then strftime(epoch_ms(ts_ms), '%Y-%m-%dT%H:%M:%S.%gZ')
        when 1 then strftime(epoch_ms(ts_ms + ${offset_minutes}[offset_idx] * 60000),
            '%Y-%m-%dT%H:%M:%S.%g') || ${offset_suffixes}[offset_idx]
        when 2 then strftime(epoch_ms(ts_ms + ${offset_minutes}[offset_idx] * 60000),
            '%Y-%m-%dT%H:%M:%S') || ${offset_suffixes}[offset_idx]
        when 3 then (ts_ms // 1000)::varchar
        else ts_ms::varchar
    end as occurred_at,
    strftime(epoch_ms(sort_ms), '%Y-%m-%dT%H:%M:%S.%gZ') as received_at,
    user_id,
    account_id,
    case name_variant
        when 0 then ${event_names}[ec + 1]
        when 1 then ${upper_names}[ec + 1]
        when 2 then ' ' || ${event_names}[ec + 1] || ' '
        else ${title_names}[ec + 1]
    end as event_name,
    case
        when ec = 3 then '{"channel_type":"' || prop_text || '"}'
        when ec = 4 then '{"size_bytes":' || prop_num || '}'
        when ec = 6 then '{"integration":"' || prop_text || '"}'
        when ec = 8 then '{"severity":"' || prop_text || '"}'
        when ec = 11 then '{"score":' || prop_num || '}'
        when ec = 12 then '{"latency_ms":' || prop_num || ',"status":' || prop_status || '}'
        when ec in (13, 14) then '{"plan":"' || prop_text || '","mrr":' || prop_num || '}'
        else '{}'
    end as properties,
    case when session_hash is not null
        then uuid_text(h2(session_hash, 103), h2(session_hash, 104)) end as session_id,
    coalesce(platform_override, user_platform) as platform,
    user_country as country
from ${source}
"""

# A few events get a malformed twin: same team and time, a fresh event_id and one defect. Picked
# per landed day (by hash, so the day's choice does not depend on the days after it); `bad_rank`
# numbers them across days and walks the cycle of kinds. Kinds a staging layer may reasonably
# accept (a missing user_id when the entity is the account, a NaN that reads as null) or that
# rename the event twin on session_started events, which feed no metric: whatever staging
# decides, the planted truths stay exact.
DAY_BAD = """
create or replace temp table day_bad as
with plan as (
    select * from (values ${plan}) as p(landed_day, bad_from, n_bad)
),

-- the n_bad smallest hashes of the day, in order (a top-n aggregate: no full sort)
general as (
    select landed_day, min_by(key, (h3(${seed}, 9, key), key), ${max_bad}) as keys
    from day_rows
    where copy_no = 0
    group by landed_day
),

sessions as (
    select landed_day, min_by(key, (h3(${seed}, 10, key), key), ${max_bad}) as keys
    from day_rows
    where copy_no = 0 and ec = 2
    group by landed_day
),

candidates as (
    select landed_day, unnest(keys) as key, unnest(range(len(keys))) as local_rank,
        false as from_sessions
    from general
    union all
    select landed_day, unnest(keys), unnest(range(len(keys))), true
    from sessions
),

ranked as (
    select c.key, p.bad_from + c.local_rank as bad_rank, c.from_sessions
    from candidates as c
    inner join plan as p on c.landed_day = p.landed_day and c.local_rank < p.n_bad
),

kinded as (
    select
        *,
        ${malformed_cycle}[1 + (bad_rank % ${malformed_cycle_len})::integer] as bad_kind
    from ranked
)

select * exclude (from_sessions)
from kinded
where from_sessions = (bad_kind in ${session_kinds})
"""

DAY_RAW_BAD = """
create or replace temp table day_raw_bad as
with base as (
    select * from day_raw_twins
)

select
    landed_day,
    key,
    2 as copy_no,
    sort_ms,
    bad_rank,
    case
        when bad_kind = 'missing_event_id' then pick(['', 'null', 'undefined', null], ud(he, 40))
        when bad_kind = 'oversized_event_id' then left(repeat(
            uuid_text(h3(he, 105, bad_rank), h3(he, 106, bad_rank)), 300), 10240)
        when bad_kind = 'all_null' then null
        else uuid_text(h3(he, 105, bad_rank), h3(he, 106, bad_rank))
    end as event_id,
    case
        when bad_kind = 'unparseable_occurred_at'
            then pick(['not a date', '2026-13-45', '2026-02-30T25:61:00Z', ''], ud(he, 41))
        when bad_kind = 'future_occurred_at' then strftime(
            epoch_ms((sort_ms // ${day_ms} + 1 + ${future_min_days}) * ${day_ms}
                + floor(ud(he, 42) * 365 * ${day_ms})::bigint),
            '%Y-%m-%dT%H:%M:%S.%gZ')
        when bad_kind = 'before_start_occurred_at' then pick(
            ['1970-01-01T00:00:00Z', '0000000000', '2019-12-31T23:59:59.999Z',
             '2012-06-15T10:00:00Z'],
            ud(he, 42))
        when bad_kind = 'all_null' then null
        else occurred_at
    end as occurred_at,
    case when bad_kind = 'all_null' then null else received_at end as received_at,
    case
        when bad_kind = 'missing_user_id' then pick(['', 'null', 'undefined', null], ud(he, 40))
        when bad_kind = 'all_null' then null
        else user_id
    end as user_id,
    case
        when bad_kind = 'missing_account_id'
            then pick(['', 'null', 'undefined', null], ud(he, 40))
        when bad_kind = 'all_null' then null
        else account_id
    end as account_id,
    case
        when bad_kind = 'unknown_event_name' then pick(['debug_ping', 'test_event'], ud(he, 43))
        when bad_kind = 'nan_property' then 'nps_submitted'
        when bad_kind = 'oversized_event_id' then 'session_started'
        when bad_kind = 'all_null' then null
        else event_name
    end as event_name,
    case
        when bad_kind = 'properties_not_object'
            then pick(['[1,2]', 'not json', '"str"'], ud(he, 44))
        when bad_kind = 'nan_property' then '{"score": "NaN"}'
        when bad_kind in ('unknown_event_name', 'oversized_event_id') then '{}'
        when bad_kind = 'all_null' then null
        else properties
    end as properties,
    case when bad_kind = 'all_null' then null else session_id end as session_id,
    case when bad_kind = 'all_null' then null else platform end as platform,
    case when bad_kind = 'all_null' then null else country end as country
from base
"""

RAW_COLUMNS = (
    "event_id",
    "occurred_at",
    "received_at",
    "user_id",
    "account_id",
    "event_name",
    "properties",
    "session_id",
    "platform",
    "country",
)

ACCOUNTS_OUT = """
select
    o.team_idx,
    format('acc_{:06d}', o.team_idx) as account_id,
    epoch_ms(o.created_ms) as created_at,
    coalesce(p.plan, 'free') as plan,
    o.country,
    o.industry
from outcomes as o
left join (
    -- current plan: the last subscription event decides
    select team_idx, arg_max(case when ec = 13 then prop_text else 'free' end, ts_ms) as plan
    from ev
    where ec in (13, 14)
    group by team_idx
) as p on o.team_idx = p.team_idx
"""

USERS_OUT = """
select
    team_idx,
    j,
    user_id,
    account_id,
    epoch_ms(user_created_ms) as created_at,
    country,
    platform
from users
where user_created_ms < ${end_ms}
"""


def _subs(params: Params) -> dict[str, str]:
    extra = {"pc_ticket_incident": str(PC_TICKET_INCIDENT), "pc_join_invite": str(PC_JOIN_INVITE)}
    return params.substitutions() | extra


def render(sql: str, params: Params, **extra: object) -> str:
    return Template(sql).substitute(_subs(params) | {k: str(v) for k, v in extra.items()})


def clean_steps(params: Params, team_lo: int, team_hi: int) -> list[tuple[str, str]]:
    """The steps that build the clean events (table `ev`) of teams [team_lo, team_hi)."""
    teams = {"team_lo": team_lo, "team_hi": team_hi}
    return [
        ("macros", MACROS),
        ("teams", render(TEAMS, params, **teams)),
        ("team_days", render(TEAM_DAYS, params)),
        ("outcomes", render(OUTCOMES, params)),
        ("users", render(USERS, params)),
        ("day_counts", render(DAY_COUNTS, params)),
        ("events_base", render(EVENTS_BASE, params)),
        ("sessions", render(SESSIONS, params)),
        ("events", render(EVENTS, params)),
        ("copies", render(COPIES, params)),
    ]


def malformed_plan(originals: list[int], sessions: list[int]) -> list[tuple[int, int]]:
    """(first bad_rank, count) of malformed rows per landed day.

    The cumulative count follows the rate of the original deliveries landed so far, but is at
    least one full cycle of kinds as soon as there are events to copy: so every kind is present
    in any data set, and a day's count depends only on that day and the days before it.
    """
    plan, done, seen = [], 0, 0
    for day_originals, day_sessions in zip(originals, sessions, strict=True):
        seen += day_originals
        target = max(len(MALFORMED_CYCLE), round(seen * MALFORMED_RATE))
        # the session pool is the smaller one; each rank draws from one of the two pools
        count = max(0, min(target - done, day_sessions))
        plan.append((done, count))
        done += count
    return plan


def malformed_kinds(total: int) -> dict[str, int]:
    """Rows per malformed kind among the first `total` bad ranks."""
    counts = dict.fromkeys(MALFORMED_CYCLE, 0)
    for rank in range(len(MALFORMED_CYCLE)):
        kind = MALFORMED_CYCLE[rank]
        counts[kind] += total // len(MALFORMED_CYCLE) + (rank < total % len(MALFORMED_CYCLE))
    return counts
