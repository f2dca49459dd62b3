{#-
    Incremental builds (docs/incremental.md). On DuckDB the models whose size grows with the
    event history are dbt incremental models; a run reads only the raw files that landed since
    the last run and recomputes only what those files touched:

    - stg_northstar_raw__events_classified appends the rows of new files, each stamped with
      the run's load id (_northstar_load_id, milliseconds of run_started_at: increasing from
      run to run, also across a --full-refresh). Landed files are kept in
      staging._northstar_loaded_files with their size and modification time.
    - Each load also records what it touched (_northstar_load_days: every day holding an
      accepted copy of a newly landed event_id; _northstar_load_duplicate_ids: its event_ids
      that now have several copies), in the target's schema.
    - Downstream incremental models keep, in _northstar_incremental_state (target schema),
      the last load id they have taken in and a fingerprint of their definition. A run
      recomputes the keys that the later loads touched, so a late event is counted in its own
      day however late it lands, and a copy that wins the tie-break moves its event. A model
      left out of a run (dbt --select) takes in every load it missed when it next runs.

    A run rebuilds a model from scratch instead, with no --full-refresh needed, when: the model
    or the northstar vars it depends on changed (fingerprint), a loaded raw file changed or
    disappeared, the raw input is a warehouse table (no files to tell new rows by), or its
    state is missing. On other engines these models are tables rebuilt by every run.
-#}


{#- dbt's incremental materialization where the delete + append below is tested (DuckDB). -#}
{% macro northstar_incremental_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}


{#- The vars whose values shape the incremental models' rows: changing one rebuilds them.
    Not the reference time (northstar__as_of), which moves with every load: rows keep the
    classification of the run that loaded them (docs/incremental.md). Bump the version when
    a northstar upgrade changes what these models compute. -#}
{% macro northstar_incremental_fingerprint() -%}
    {%- set parts = ['northstar incremental v1', model.raw_code] -%}
    {%- for name in northstar_incremental_vars() -%}
        {%- do parts.append(name ~ '=' ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}


{% macro northstar_incremental_vars() -%}
    {{ return([
        'northstar', 'northstar__start_date', 'northstar__max_future_hours',
        'northstar__reject_unknown_events', 'northstar__late_arrival_hours',
        'northstar__max_row_chars', 'northstar__raw_event_columns',
        'northstar__raw_events_reader',
    ]) }}
{%- endmacro %}


{% macro northstar_load_id() -%}
    {{ return((run_started_at.timestamp() * 1000) | int) }}
{%- endmacro %}


{#- One append-only table for every model's state, in the target's own schema: models run in
    parallel and write it in their own transactions, and DuckDB lets concurrent transactions
    append to one table (a create, update or delete would conflict). Created, and cut to
    each model's latest row, by the on-run-start hook below. -#}
{% macro northstar_incremental_state_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema=target.schema,
        identifier='_northstar_incremental_state'
    )) }}
{%- endmacro %}


{#- What each load touched, written by stg_northstar_raw__events_classified's post-hook in the
    load's own transaction, so downstream models need not search the history for it:
    `days` (load_id, event_date) and `duplicate_ids` (load_id, event_id). -#}
{% macro northstar_load_keys_relation(keys) -%}
    {{ return(api.Relation.create(
        database=target.database, schema=target.schema,
        identifier='_northstar_load_' ~ keys
    )) }}
{%- endmacro %}


{#- on-run-start: the state tables exist before any model runs; what every model has taken
    in (and, for the days, a run has verified) is forgotten. -#}
{% macro northstar_prepare_incremental_state() -%}
    {%- if target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set state = northstar_incremental_state_relation() -%}
    create table if not exists {{ state }} (
        model varchar, loaded_through bigint, fingerprint varchar, recorded_at timestamp
    );
    delete from {{ state }}
    where recorded_at < (
        select max(latest.recorded_at) from {{ state }} as latest
        where latest.model = {{ state }}.model
    );
    create table if not exists {{ northstar_load_keys_relation('days') }} (
        load_id bigint, event_date date
    );
    create table if not exists {{ northstar_load_keys_relation('duplicate_ids') }} (
        load_id bigint, event_id varchar
    );
    create table if not exists {{ northstar_verified_loads_relation() }} (
        load_id bigint, fingerprint varchar, verified_at timestamp
    );
    delete from {{ northstar_verified_loads_relation() }}
    where verified_at < (select max(verified_at) from {{ northstar_verified_loads_relation() }});
    delete from {{ northstar_load_keys_relation('duplicate_ids') }}
    where load_id <= (select min(loaded_through) from {{ state }});
    {#- A load's days are also the scope of the entity x day tables' tests until a run
        verifies the load (northstar_unverified_days). -#}
    delete from {{ northstar_load_keys_relation('days') }}
    where
        load_id <= (select min(loaded_through) from {{ state }})
        and load_id <= (
            select coalesce(max(load_id), 0) from {{ northstar_verified_loads_relation() }}
        );
{%- endmacro %}


{#- Beside stg_northstar_raw__events_classified, whose hooks alone use it. -#}
{% macro northstar_loaded_files_relation() -%}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema, identifier='_northstar_loaded_files'
    )) }}
{%- endmacro %}


{% macro northstar_relation_exists(relation) -%}
    {{ return(adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is not none) }}
{%- endmacro %}


{#- This model's row of the state table: {'loaded_through', 'fingerprint'}, or none. -#}
{% macro northstar_incremental_state() -%}
    {%- set state = northstar_incremental_state_relation() -%}
    {%- if not northstar_relation_exists(state) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query(
        'select loaded_through, fingerprint from ' ~ state
        ~ " where model = '" ~ model.name ~ "' order by recorded_at desc limit 1"
    ).rows -%}
    {%- if rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return({'loaded_through': rows[0][0], 'fingerprint': rows[0][1]}) }}
{%- endmacro %}


{#- A model's table found in the graph rather than by ref(): the incremental bookkeeping of
    a model reads tables its SQL does not (the classified events' load ids, the duplicates),
    which must not become dependencies of the model or inputs its unit tests must give.
    Only for models upstream of the caller, so they are built first. -#}
{% macro northstar_upstream_relation(name) -%}
    {%- set node = graph.nodes.get('model.northstar.' ~ name) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error('northstar: no model named ' ~ name) }}
    {%- endif -%}
    {{ return(api.Relation.create(
        database=node.database, schema=node.schema, identifier=node.alias
    )) }}
{%- endmacro %}


{% macro northstar_classified_relation() -%}
    {{ return(northstar_upstream_relation('stg_northstar_raw__events_classified')) }}
{%- endmacro %}


{#- What this run of a model downstream of the classified events does:
      mode 'full'        - build from scratch (first build, --full-refresh, other engines;
                           `through` is not looked up);
      mode 'rebuild'     - incremental run that must start over: delete every row, insert all;
      mode 'incremental' - delete the touched keys, insert them recomputed;
    with `since` (exclusive) and `through` (inclusive): the loads this run takes in. -#}
{% macro northstar_incremental_plan() -%}
    {%- set plan = {'mode': 'full', 'since': none, 'through': 0, 'reason': 'first build'} -%}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return(plan) }}
    {%- endif -%}
    {#- A unit test computes the model from its given rows alone. -#}
    {%- if model.resource_type == 'unit_test' or not is_incremental() -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set classified = northstar_classified_relation() -%}
    {%- set loads = run_query(
        'select min(_northstar_load_id), max(_northstar_load_id) from ' ~ classified
    ).rows[0] -%}
    {%- do plan.update({'through': loads[1] or 0}) -%}
    {%- set state = northstar_incremental_state() -%}
    {%- if state is none -%}
        {%- do plan.update({'mode': 'rebuild', 'reason': 'no incremental state'}) -%}
    {%- elif state.fingerprint != northstar_incremental_fingerprint() -%}
        {%- do plan.update({'mode': 'rebuild', 'reason': 'its definition or a northstar var changed'}) -%}
    {%- elif loads[0] is not none and loads[0] > state.loaded_through -%}
        {%- do plan.update({'mode': 'rebuild', 'reason': 'the classified events were rebuilt'}) -%}
    {%- else -%}
        {%- do plan.update({'mode': 'incremental', 'since': state.loaded_through,
            'reason': 'loads after ' ~ state.loaded_through}) -%}
    {%- endif -%}
    {{ return(plan) }}
{%- endmacro %}


{#- A model's filter: on an incremental run, `column` among the keys the new loads touched:
    `days` (northstar_raw_events_post_hook), `event_ids` (those with copies to rank), `loads`
    (the new rows themselves; column: the load id), `periods` (int_entity_periods' written
    rows, northstar_incremental_periods.sql), `period_changes` (int_north_star_entity_changes'
    written rows: two periods after each touched one, and the tail), `aha_entities` / `aha_days` (the entities
    int_aha_moments recomputes and the days their windows read,
    northstar_incremental_aha.sql), `day_windows` (int_active_days_windows' written days:
    the windows holding a touched day, and the tail) or `backtest_periods` (the source
    periods int_backtest_pairs and int_backtest_period_scores write,
    northstar_incremental_windows.sql); else true. -#}
{% macro northstar_incremental_filter(plan, column, keys) -%}
    {%- if plan.mode == 'incremental' and keys == 'loads' -%}
        {{ column }} > {{ plan.since }} and {{ column }} <= {{ plan.through }}
    {%- elif plan.mode == 'incremental' and keys == 'days' -%}
        {#- The days as constants, not a subquery: a scan filtered by constants skips the
            row groups whose dates lie outside them, where a semi-join reads every row. -#}
        {%- if 'days' not in plan -%}
            {%- set days = run_query(
                'select distinct cast(event_date as varchar) from '
                ~ northstar_load_keys_relation('days')
                ~ ' where load_id > ' ~ plan.since ~ ' and load_id <= ' ~ plan.through
                ~ ' order by 1'
            ).columns[0].values() -%}
            {%- do plan.update({'days': days | list}) -%}
        {%- endif -%}
        {%- if plan.days | length == 0 -%}
            1 = 0
        {%- else -%}
            {%- set literals = [] -%}
            {%- for day in plan.days -%}
                {%- do literals.append("cast('" ~ day ~ "' as date)") -%}
            {%- endfor -%}
            {{ column }} in ({{ literals | join(', ') }})
        {%- endif -%}
    {%- elif plan.mode == 'incremental' and keys == 'event_ids' -%}
        {#- Only an event_id with two or more copies has rows to rank, and copies only ever
            add up: the new ids that now have several copies, as constants (few: a day's
            duplicates), so the wide scan of the copies reads the matching rows only. -#}
        {%- if 'event_ids' not in plan -%}
            {%- set ids = run_query(
                'select distinct event_id from ' ~ northstar_load_keys_relation('duplicate_ids')
                ~ ' where load_id > ' ~ plan.since ~ ' and load_id <= ' ~ plan.through
                ~ ' order by 1'
            ).columns[0].values() -%}
            {%- do plan.update({'event_ids': ids | list}) -%}
        {%- endif -%}
        {%- if plan.event_ids | length == 0 -%}
            1 = 0
        {%- else -%}
            {%- set literals = [] -%}
            {%- for event_id in plan.event_ids -%}
                {%- do literals.append(northstar_sql_string(event_id)) -%}
            {%- endfor -%}
            {{ column }} in ({{ literals | join(', ') }})
        {%- endif -%}
    {%- elif plan.mode == 'incremental' and keys == 'periods' -%}
        {{ northstar_period_filter(plan, northstar_period_keys(plan), 'written', column) }}
    {%- elif plan.mode == 'incremental' and keys == 'period_changes' -%}
        {{ northstar_period_filter(
            plan, northstar_period_keys(plan, after=2, tail=true), 'written', column
        ) }}
    {%- elif plan.mode == 'incremental' and keys == 'day_windows' -%}
        {%- set days = northstar_active_day_windows() | max - 1 -%}
        {{ northstar_day_window_filter(
            plan, northstar_day_window_keys(plan, days), days, 'written', column
        ) }}
    {%- elif plan.mode == 'incremental' and keys == 'backtest_periods' -%}
        {{ northstar_backtest_pair_filter(plan, northstar_backtest_pair_keys(plan), column) }}
    {%- elif plan.mode == 'incremental' and keys in ('aha_entities', 'aha_days') -%}
        {%- set values = northstar_aha_keys(plan)[keys] -%}
        {%- if values | length == 0 -%}
            1 = 0
        {%- else -%}
            {%- set literals = [] -%}
            {%- for value in values -%}
                {%- do literals.append(
                    "cast('" ~ value ~ "' as date)" if keys == 'aha_days'
                    else northstar_sql_string(value)
                ) -%}
            {%- endfor -%}
            {{ column }} in ({{ literals | join(', ') }})
        {%- endif -%}
    {%- elif plan.mode == 'incremental' -%}
        {{ exceptions.raise_compiler_error("northstar: unknown incremental keys '" ~ keys ~ "'") }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}


{#- pre_hook of a downstream incremental model: remove what this run inserts again. Runs in
    the model's transaction, so a failed run leaves the table as it was. `keys` none: the
    model only appends (nothing it wrote changes). -#}
{% macro northstar_incremental_pre_hook(column, keys) -%}
    {%- if not execute or target.type != 'duckdb' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set plan = northstar_incremental_plan() -%}
    {{ log('northstar: ' ~ model.name ~ ': ' ~ plan.mode ~ ' (' ~ plan.reason ~ ')', info=true) }}
    {%- if plan.mode == 'rebuild' -%}
        delete from {{ this }}
    {%- elif keys is not none -%}
        delete from {{ this }} where {{ northstar_incremental_filter(plan, column, keys) }}
    {%- endif -%}
{%- endmacro %}


{#- post_hook of every incremental model: record the loads it has taken in and its
    fingerprint, in the model's transaction. -#}
{% macro northstar_incremental_post_hook(through=none) -%}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- if through is none -%}
        {%- set through = run_query(
            'select coalesce(max(_northstar_load_id), 0) from '
            ~ northstar_classified_relation()
        ).columns[0].values()[0] -%}
    {%- endif -%}
    insert into {{ northstar_incremental_state_relation() }}
    values (
        '{{ model.name }}', {{ through }}, '{{ northstar_incremental_fingerprint() }}',
        {{ northstar_timestamp_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f')) }}
    )
{%- endmacro %}


{#- What this run of stg_northstar_raw__events_classified reads: `files` none (every file)
    or the list of files not loaded yet; `file_offset`, the file number the new files
    count on from (raw_row_id); `mode` and `reason` as northstar_incremental_plan. -#}
{% macro northstar_raw_events_load_plan() -%}
    {%- set plan = {'mode': 'full', 'files': none, 'file_offset': 0, 'reason': 'first build'} -%}
    {%- set path = northstar_raw_path('events') -%}
    {%- if not execute or target.type != 'duckdb' or not is_incremental() -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set state = northstar_incremental_state() -%}
    {%- set log_relation = northstar_loaded_files_relation() -%}
    {%- if path == '' -%}
        {%- do plan.update({'mode': 'rebuild', 'reason': 'the raw events are a table, not files'}) -%}
    {%- elif state is none or not northstar_relation_exists(log_relation) -%}
        {%- do plan.update({'mode': 'rebuild', 'reason': 'no incremental state'}) -%}
    {%- elif state.fingerprint != northstar_incremental_fingerprint() -%}
        {%- do plan.update({'mode': 'rebuild', 'reason': 'its definition or a northstar var changed'}) -%}
    {%- endif -%}
    {%- if plan.mode == 'rebuild' or not northstar_raw_files_exist(path) -%}
        {{ return(plan) }}
    {%- endif -%}
    {#- Files are immutable once landed: one that changed or went away means the staged
        rows no longer describe the input, and only reading everything again is exact. -#}
    {%- set changed = run_query(
        'select loaded.raw_file, current_files.filename is null as is_gone'
        ~ ' from ' ~ log_relation ~ ' as loaded'
        ~ ' left join read_blob(' ~ northstar_sql_string(path) ~ ') as current_files'
        ~ ' on loaded.raw_file = current_files.filename'
        ~ ' where current_files.filename is null'
        ~ ' or current_files.size <> loaded.size_bytes'
        ~ ' or epoch_ms(current_files.last_modified) <> loaded.modified_ms'
        ~ ' order by 1 limit 1'
    ).rows -%}
    {%- if changed | length > 0 -%}
        {%- do plan.update({'mode': 'rebuild', 'reason': 'loaded raw file ' ~ changed[0][0]
            ~ (' is gone' if changed[0][1] else ' changed since it was loaded')}) -%}
        {{ return(plan) }}
    {%- endif -%}
    {%- set new_files = run_query(
        'select current_files.filename from read_blob(' ~ northstar_sql_string(path)
        ~ ') as current_files where current_files.filename not in (select raw_file from '
        ~ log_relation ~ ') order by 1'
    ).columns[0].values() -%}
    {%- set offset = run_query(
        'select coalesce(max(raw_row_id) // 10000000000, 0) from ' ~ this
    ).columns[0].values()[0] -%}
    {%- do plan.update({
        'mode': 'incremental', 'files': new_files | list, 'file_offset': offset,
        'reason': (new_files | length) ~ ' new raw file(s)',
    }) -%}
    {{ return(plan) }}
{%- endmacro %}


{% macro northstar_raw_events_pre_hook() -%}
    {%- if not execute or target.type != 'duckdb' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set plan = northstar_raw_events_load_plan() -%}
    {{ log('northstar: ' ~ model.name ~ ': ' ~ plan.mode ~ ' (' ~ plan.reason ~ ')', info=true) }}
    {%- if plan.mode == 'rebuild' -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- Records the files this run staged (those with rows of its load id: a file that lands
    while the run reads is loaded by the next run), what the load touched, and the model's
    state. The touched days are every day holding an accepted copy of a newly landed
    event_id: its own day, and the day of an earlier copy that it may now displace. -#}
{% macro northstar_raw_events_post_hook() -%}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set path = northstar_raw_path('events') -%}
    {%- set log_relation = northstar_loaded_files_relation() -%}
    {%- set rebuilt = run_query(
        'select count(*) = 0 from ' ~ this ~ ' where _northstar_load_id < ' ~ northstar_load_id()
    ).columns[0].values()[0] -%}
    create table if not exists {{ log_relation }} (
        raw_file varchar, size_bytes bigint, modified_ms bigint, load_id bigint,
        loaded_at timestamp
    );
    {% if rebuilt -%}
    delete from {{ log_relation }};
    {%- endif %}
    {% if path != '' and northstar_raw_files_exist(path) -%}
    insert into {{ log_relation }}
    select
        current_files.filename,
        current_files.size,
        epoch_ms(current_files.last_modified),
        {{ northstar_load_id() }},
        {{ northstar_timestamp_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S')) }}
    from read_blob({{ northstar_sql_string(path) }}) as current_files
    where current_files.filename in (
        select distinct raw_file from {{ this }}
        where _northstar_load_id = {{ northstar_load_id() }}
    );
    {%- endif %}
    {%- set new_ids -%}
        select new_rows.event_id from {{ this }} as new_rows
        where new_rows.reject_reason is null
            and new_rows._northstar_load_id = {{ northstar_load_id() }}
    {%- endset %}
    {#- After a rebuild every downstream model starts over too (its loads are all newer than
        what it took in), so a rebuild's keys would never be read: none are written, which
        spares a full build two joins of the whole history with itself. Every row is new,
        so no load stays verified (northstar_verified_loads.sql). #}
    {% if rebuilt -%}
    delete from {{ northstar_load_keys_relation('days') }};
    delete from {{ northstar_load_keys_relation('duplicate_ids') }};
    delete from {{ northstar_verified_loads_relation() }};
    {%- else -%}
    insert into {{ northstar_load_keys_relation('days') }}
    select distinct {{ northstar_load_id() }}, copies.event_date
    from {{ this }} as copies
    where copies.reject_reason is null and copies.event_id in ({{ new_ids }});
    insert into {{ northstar_load_keys_relation('duplicate_ids') }}
    select {{ northstar_load_id() }}, copies.event_id
    from {{ this }} as copies
    where copies.reject_reason is null and copies.event_id in ({{ new_ids }})
    group by copies.event_id
    having count(*) > 1;
    {%- endif %}
    {{ northstar_incremental_post_hook(through=northstar_load_id()) }}
{%- endmacro %}
