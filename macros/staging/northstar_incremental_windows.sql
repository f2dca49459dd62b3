{#-
    The keys of the incremental models whose rows read a window of days or periods after
    the touched ones (docs/incremental.md): int_active_days_windows (rolling windows of
    days ending on each day) and int_backtest_pairs (an entity's level in period p and its
    outcome in p + k). The plan, state and load keys are northstar_incremental.sql's; the
    lookups run on incremental runs only (DuckDB).
-#}

{#- The days an incremental run of a model keyed by day x rolling window recomputes, the
    windows reaching `days` days back (27 for a 28-day window):
      `written`: date ranges [start, end], each touched day and the `days` days after it
                 (the windows ending on them hold the touched day), merged;
      `tail`:    every day from the one after the last the model holds (a day the spine
                 gained since the last run, the reference time moved with no event on it),
                 or after the spine's last day if it went back (those rows are deleted);
      `before`:  every day before it is written: the spine's first day (rows before it
                 are deleted: the first event moved later) or, when the spine gained days at
                 its start (a backfill older than the data), the first day the model holds.
                 Those days read nothing more: an active day before that first day is new,
                 so touched, and its range is read;
      `all`:     the model holds no rows: every row is written.
    The reads are the written ranges widened by `days` before each. -#}
{% macro northstar_day_window_keys(plan, days) -%}
    {%- set cache = 'day_windows_' ~ days -%}
    {%- if cache in plan -%}
        {{ return(plan[cache]) }}
    {%- endif -%}
    {%- set keys = {'written': [], 'tail': none, 'before': none, 'all': false} -%}
    {%- if plan.mode == 'incremental' -%}
        {%- set bounds -%}
            select
                cast(greatest(spine.first_day, stored.first_day) as varchar),
                cast(least(stored.last_day, spine.last_day) + 1 as varchar),
                stored.last_day is null
            from (
                select min(day_date) as first_day, max(day_date) as last_day
                from {{ ref('int_day_spine') }}
            ) as spine
            cross join (
                select min(day_date) as first_day, max(day_date) as last_day
                from {{ this }}
            ) as stored
        {%- endset -%}
        {%- set row = run_query(bounds).rows[0] -%}
        {%- do keys.update({'before': row[0], 'tail': row[1], 'all': row[2]}) -%}
        {#- overlapping ranges merged (gaps and islands), so the filter stays a few terms -#}
        {%- set ranges -%}
            with touched as (
                select distinct
                    event_date as range_start,
                    {{ northstar_period_shift('day', days, 'event_date') }} as range_end
                from {{ northstar_load_keys_relation('days') }}
                where load_id > {{ plan.since }} and load_id <= {{ plan.through }}
            ),
            flagged as (
                select
                    *,
                    max(range_end) over (
                        order by range_start rows between unbounded preceding and 1 preceding
                    ) as previous_end
                from touched
            ),
            islands as (
                select
                    *,
                    sum(case when previous_end >= range_start - 1 then 0 else 1 end)
                        over (order by range_start rows unbounded preceding) as island
                from flagged
            )
            select cast(min(range_start) as varchar), cast(max(range_end) as varchar)
            from islands
            group by island
            order by 1
        {%- endset -%}
        {%- for row in run_query(ranges).rows -%}
            {%- do keys.written.append((row[0], row[1])) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do plan.update({cache: keys}) -%}
    {{ return(keys) }}
{%- endmacro %}


{#- The rolling windows of int_active_days_windows, in days (L7, L28): one definition for
    the model and its incremental keys, which reach back the longest window less a day. -#}
{% macro northstar_active_day_windows() -%}
    {{ return([7, 28]) }}
{%- endmacro %}


{#- The rows of a day-windowed model a run reads (`side` 'read': `column` is a date of the
    input; 'grid': the first day the running sums start from, as a condition) or writes
    ('written': `column` is the model's day); true on a full build or rebuild. -#}
{% macro northstar_day_window_filter(plan, keys, days, side, column) -%}
    {%- if plan.mode != 'incremental' or keys.all -%}
        1 = 1
    {%- else -%}
        {%- set back = 0 if side == 'written' else days -%}
        {%- set terms = [] -%}
        {%- set starts = [] -%}
        {%- for start, end in keys.written -%}
            {%- set first = northstar_period_shift('day', -back, "cast('" ~ start ~ "' as date)") -%}
            {%- do starts.append(first) -%}
            {%- do terms.append(
                '(' ~ column ~ ' >= ' ~ first ~ ' and ' ~ column ~ " <= cast('" ~ end ~ "' as date))"
            ) -%}
        {%- endfor -%}
        {%- set tail = northstar_period_shift('day', -back, "cast('" ~ keys.tail ~ "' as date)") -%}
        {%- do starts.append(tail) -%}
        {%- do terms.append('(' ~ column ~ ' >= ' ~ tail ~ ')') -%}
        {%- if side == 'written' -%}
            {%- do terms.append('(' ~ column ~ " < cast('" ~ keys.before ~ "' as date))") -%}
        {%- endif -%}
        {%- if side == 'grid' -%}
            {{ column }} >= {{ 'least(' ~ starts | join(', ') ~ ')' if starts | length > 1 else starts[0] }}
        {%- else -%}
            ({{ terms | join(' or ') }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The source periods (primary grain) an incremental run of int_backtest_pairs, and of
    int_backtest_period_scores over it, recomputes: every one from `from` on (`all`: every
    one, when the model holds nothing or the spine's first period moved, which renumbers
    period_index). A pair (entity, source period p, lag k) reads the entity's backtest grid
    rows in p (level, active, revenue held) and p + k (active, revenue held, complete):
      - a touched period t moves the pairs from t - max_lag (their outcome is in t) on: the
        levels of t and t + 1 (int_entity_periods rewrites the period after a touched one),
        and with backtest.revenue every later period, the revenue held being a running
        total;
      - an entity whose first-seen period moved (its levels may read it) has every pair
        from the first touched period on: its first-seen period moves only by a load
        touching a day at or before both its old and its new first day (an earlier event,
        or its first event's copy displaced);
      - the reference time moving completes periods with no event: a new source, outcomes
        now observable. Pairs are unchanged only while p + max_lag is complete at both
        runs: from max_lag before the last period complete at both (the last source period
        held standing for the previous run's, at most its last complete one).
    So `from` is max_lag before the earliest of the first touched period, the last source
    period held and the last complete one now. One threshold rather than windows around
    each touched period: with a revenue running total, or an entity whose first period
    moved, the windows would reach to the end anyway. -#}
{% macro northstar_backtest_pair_keys(plan) -%}
    {%- if 'backtest_periods' in plan -%}
        {{ return(plan.backtest_periods) }}
    {%- endif -%}
    {%- set grain = northstar_spec().primary_grain -%}
    {%- set max_lag = northstar_spec().backtest.max_lag -%}
    {%- set keys = {'from': none, 'all': false} -%}
    {%- if plan.mode == 'incremental' -%}
        {%- set query -%}
            with spine as (
                select
                    period_start,
                    is_complete_period,
                    row_number() over (order by period_start) as period_index
                from {{ ref('int_period_spine') }}
                where grain = '{{ grain }}'
            ),
            stored as (
                select
                    min(period_start) as first_start,
                    min(period_index) as first_index,
                    max(period_start) as last_start
                from {{ this }}
            ),
            touched as (
                select min({{ northstar_period_start(grain, 'event_date') }}) as first_start
                from {{ northstar_load_keys_relation('days') }}
                where load_id > {{ plan.since }} and load_id <= {{ plan.through }}
            ),
            complete as (
                select max(period_start) as last_start
                from spine
                where is_complete_period
            )
            select
                stored.first_start is null
                or not exists (
                    select 1 from spine
                    where
                        spine.period_start = stored.first_start
                        and spine.period_index = stored.first_index
                ),
                -- least() passes over a null: no touched day, no complete period
                cast({{ northstar_period_shift(grain, -max_lag, 'least(
                    touched.first_start, stored.last_start,
                    coalesce(complete.last_start, stored.first_start)
                )') }} as varchar)
            from stored
            cross join complete
            cross join touched
        {%- endset -%}
        {%- set row = run_query(query).rows[0] -%}
        {%- do keys.update({'all': row[0], 'from': row[1]}) -%}
    {%- endif -%}
    {%- do plan.update({'backtest_periods': keys}) -%}
    {{ return(keys) }}
{%- endmacro %}


{#- The backtest rows a run reads or writes (`column`: the source period start); true on a
    full build or rebuild. -#}
{% macro northstar_backtest_pair_filter(plan, keys, column) -%}
    {%- if plan.mode != 'incremental' or keys.all -%}
        1 = 1
    {%- else -%}
        {{ column }} >= cast('{{ keys.from }}' as date)
    {%- endif -%}
{%- endmacro %}
