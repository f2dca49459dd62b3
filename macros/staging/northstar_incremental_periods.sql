{#-
    The keys of the incremental models above the compact entity x day tables
    (docs/incremental.md): which entity x grain x period rows a run of int_entity_periods
    recomputes, from the days its new loads touched. The plan, state and load keys are
    northstar_incremental.sql's.
-#}

{#- The periods an incremental run of a model keyed by entity x grain x period recomputes,
    from the days the new loads touched:
      `written`: per grain, each touched period and the `after` periods following it (whose
                 rows read the touched one: 1 for int_entity_periods' lifecycle, 2 for
                 int_north_star_entity_changes, which compares each period with the one
                 before, on lifecycle states that look back one period themselves);
      `read`:    date ranges [start, end) of the written periods and the ones before them,
                 which the computation of the written rows reads (end none: open);
      `entities`: the entities whose first-seen period moved (an earlier event landed late,
                 or their first event's copy was displaced): every row of theirs is written;
      `tail`:    with tail=true, per grain, the first period from which every period is
                 written: the last one this model holds (or the spine's last, if the
                 reference time went back), so that a period the spine gained holds the
                 rows of the entities active only before it. Empty otherwise.
    Compared with int_entities, the up-to-date first-seen times; the model must keep a
    `first_seen_period` column. -#}
{% macro northstar_period_keys(plan, after=1, tail=false) -%}
    {%- set cache = 'periods_' ~ after ~ ('_tail' if tail else '') -%}
    {%- if cache in plan -%}
        {{ return(plan[cache]) }}
    {%- endif -%}
    {%- set grains = northstar_spec().grains -%}
    {%- set entity_source = ref('int_entities') -%}
    {%- set keys = {'written': {}, 'read': [], 'entities': [], 'tail': {}} -%}
    {%- if plan.mode == 'incremental' -%}
        {%- if tail -%}
            {%- set tails -%}
                select
                    grain,
                    cast(tail_start as varchar),
                    cast({{ northstar_period_start_shift_case(grains, -1, 'tail_start') }} as varchar)
                from (
                    select
                        spine.grain,
                        least(
                            coalesce(stored.last_period_start, spine.first_period_start),
                            spine.last_period_start
                        ) as tail_start
                    from (
                        select grain, min(period_start) as first_period_start,
                            max(period_start) as last_period_start
                        from {{ ref('int_period_spine') }}
                        group by grain
                    ) as spine
                    left join (
                        select grain, max(period_start) as last_period_start
                        from {{ this }}
                        group by grain
                    ) as stored
                        on spine.grain = stored.grain
                ) as tails
                order by 1
            {%- endset -%}
            {%- for row in run_query(tails).rows -%}
                {%- do keys.tail.update({row[0]: row[1]}) -%}
                {%- do keys.read.append((row[2], none)) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- set query -%}
            with days as (
                select distinct event_date as day
                from {{ northstar_load_keys_relation('days') }}
                where load_id > {{ plan.since }} and load_id <= {{ plan.through }}
            ),
            touched as (
                {%- for grain in grains %}
                select distinct '{{ grain }}' as grain, {{ northstar_period_start(grain, 'day') }} as period_start
                from days
                {{ 'union all' if not loop.last }}
                {%- endfor %}
            ),
            periods as (
                {%- set selects = [] %}
                {%- for grain in grains %}
                {%- for shift in range(-1, after + 1) %}
                {%- do selects.append(
                    "select grain, "
                    ~ northstar_period_shift(grain, shift, 'period_start') ~ " as period_start, "
                    ~ northstar_period_shift(grain, shift + 1, 'period_start') ~ " as period_end, "
                    ~ ('true' if shift >= 0 else 'false') ~ " as is_written from touched"
                    ~ " where grain = '" ~ grain ~ "'"
                ) %}
                {%- endfor %}
                {%- endfor %}
                {{ selects | join('\n                union all\n                ') }}
            )
            select
                grain,
                cast(period_start as varchar),
                cast(period_end as varchar),
                bool_or(is_written)
            from periods
            group by 1, 2, 3
            order by 1, 2
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do keys.read.append((row[1], row[2])) -%}
            {%- if row[3] and row[0] not in keys.written -%}
                {%- do keys.written.update({row[0]: []}) -%}
            {%- endif -%}
            {%- if row[3] -%}
                {%- do keys.written[row[0]].append(row[1]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if tail -%}
            {#- The spine gained periods at its start (a backfill before the first event):
                its old first period, which had no previous one and so no rows of its own,
                has them now, though no load touched it. Held rows start one period after
                the old first one (the first period's entities stand for the next). -#}
            {%- set heads -%}
                select
                    grain,
                    cast({{ northstar_period_start_shift_case(grains, -1, 'held_start') }} as varchar),
                    cast({{ northstar_period_start_shift_case(grains, -2, 'held_start') }} as varchar),
                    cast(held_start as varchar)
                from (
                    select
                        spine.grain,
                        held.held_start,
                        spine.first_period_start
                    from (
                        select grain, min(period_start) as first_period_start
                        from {{ ref('int_period_spine') }}
                        group by grain
                    ) as spine
                    inner join (
                        select grain, min(period_start) as held_start
                        from {{ this }}
                        group by grain
                    ) as held
                        on spine.grain = held.grain
                ) as heads
                where {{ northstar_period_start_shift_case(grains, -1, 'held_start') }} > first_period_start
                order by 1
            {%- endset -%}
            {%- for row in run_query(heads).rows -%}
                {%- if row[0] not in keys.written -%}
                    {%- do keys.written.update({row[0]: []}) -%}
                {%- endif -%}
                {%- do keys.written[row[0]].append(row[1]) -%}
                {%- do keys.read.append((row[2], row[3])) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- set first_grain = grains[0] -%}
        {%- set moved -%}
            select distinct stored.entity_id
            from {{ this }} as stored
            inner join {{ entity_source }} as entities
                on stored.entity_id = entities.entity_id
            where
                stored.grain = '{{ first_grain }}'
                and stored.first_seen_period
                <> {{ northstar_period_start(first_grain, 'entities.first_seen_at') }}
            order by 1
        {%- endset -%}
        {%- do keys.update({'entities': run_query(moved).columns[0].values() | list}) -%}
    {%- endif -%}
    {%- do plan.update({cache: keys}) -%}
    {{ return(keys) }}
{%- endmacro %}


{#- `expr` (a date) shifted by `periods` of the row's own grain (a column `grain`). -#}
{% macro northstar_period_start_shift_case(grains, periods, expr) -%}
    case grain
        {%- for grain in grains %}
        when '{{ grain }}' then {{ northstar_period_shift(grain, periods, expr) }}
        {%- endfor %}
    end
{%- endmacro %}


{#- The rows of a model keyed by entity x grain x period that this run reads (`side`
    'read': `column` is a date) or writes ('written': `column` is the period start, the
    model has `grain` and `entity_id`); true on a full build or rebuild. -#}
{% macro northstar_period_filter(plan, keys, side, column) -%}
    {%- if plan.mode != 'incremental' -%}
        1 = 1
    {%- else -%}
        {%- set terms = [] -%}
        {%- if side == 'read' -%}
            {%- for start, end in keys.read -%}
                {%- do terms.append(
                    '(' ~ column ~ " >= cast('" ~ start ~ "' as date)"
                    ~ (" and " ~ column ~ " < cast('" ~ end ~ "' as date)" if end is not none else '')
                    ~ ')'
                ) -%}
            {%- endfor -%}
        {%- else -%}
            {%- for grain, starts in keys.written.items() -%}
                {%- set literals = [] -%}
                {%- for start in starts -%}
                    {%- do literals.append("cast('" ~ start ~ "' as date)") -%}
                {%- endfor -%}
                {%- do terms.append(
                    "(grain = '" ~ grain ~ "' and " ~ column ~ ' in (' ~ literals | join(', ') ~ '))'
                ) -%}
            {%- endfor -%}
            {%- for grain, start in keys.tail.items() -%}
                {%- do terms.append(
                    "(grain = '" ~ grain ~ "' and " ~ column ~ " >= cast('" ~ start ~ "' as date))"
                ) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if keys.entities | length > 0 -%}
            {%- set literals = [] -%}
            {%- for entity_id in keys.entities -%}
                {%- do literals.append(northstar_sql_string(entity_id)) -%}
            {%- endfor -%}
            {%- do terms.append('entity_id in (' ~ literals | join(', ') ~ ')') -%}
        {%- endif -%}
        {{ '(' ~ terms | join(' or ') ~ ')' if terms else '1 = 0' }}
    {%- endif -%}
{%- endmacro %}

