{#-
    Data tests on the event-sized staging relations check only the loads no run has
    verified yet (docs/incremental.md, "Which data tests check only the new loads").

    A row-local test (not_null, accepted_values, expression_is_true) sets
    `where: __northstar_unverified_loads__`; get_where_subquery below replaces the
    placeholder with `_northstar_load_id > <last verified load>` (dbt renders a test's `where`
    without project macros, so a placeholder is the documented way to compute it). A key's
    uniqueness cannot be checked on the new rows alone: unique_across_loads checks every
    copy of the keys the new rows carry.

    A load is verified when a run in which every one of these tests passed ends
    (on-run-end): a load whose tests failed, were skipped or did not run is checked again by
    the next run. The classified events' rebuild (a full refresh, or a run that starts over)
    forgets every verified load, so its rows are all checked; so does any change to a model
    or to a var that shapes the staged rows (the verified fingerprint below): a changed
    model may have rewritten old rows.
-#}


{% macro northstar_verified_loads_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema=target.schema,
        identifier='_northstar_verified_loads'
    )) }}
{%- endmacro %}


{#- Every model's code and the vars that shape the incremental models' rows: a verified load
    counts only while these are what verified it. Macros are not in it: bump the version
    when a northstar upgrade changes what a macro makes of the staged rows, as for
    northstar_incremental_fingerprint. -#}
{% macro northstar_verified_fingerprint() -%}
    {%- set parts = ['northstar verified v1'] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id')
        if node.resource_type == 'model' -%}
        {%- do parts.append(node.unique_id ~ '\n' ~ node.raw_code) -%}
    {%- endfor -%}
    {%- for name in northstar_incremental_vars() -%}
        {%- do parts.append(name ~ '=' ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}


{#- The last verified load id, or none: nothing verified yet, another engine (whose models
    are rebuilt by every run), or compiling without a warehouse. -#}
{% macro northstar_last_verified_load() -%}
    {%- if not execute or target.type != 'duckdb' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set verified = northstar_verified_loads_relation() -%}
    {%- if not northstar_relation_exists(verified) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(run_query(
        'select max(load_id) from ' ~ verified
        ~ " where fingerprint = '" ~ northstar_verified_fingerprint() ~ "'"
    ).columns[0].values()[0]) }}
{%- endmacro %}


{#- The rows no run has verified: a constant bound, so a scan skips the row groups of the
    verified loads (the classified events are written in load order). -#}
{% macro northstar_unverified_loads(column='_northstar_load_id') -%}
    {%- set last = northstar_last_verified_load() -%}
    {%- if last is none -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {{ return(column ~ ' > ' ~ last) }}
{%- endmacro %}


{#- The days the unverified loads touched (main._northstar_load_days, kept until a run
    verifies them): `<column> in (<the days>)` as constants, so a scan of a table written
    by days skips the others' row groups; `1 = 1` (every row) when nothing is verified or on
    a --full-refresh (a table rebuilt whole is checked whole), `1 = 0` when no unverified
    load touched a day. For the tests of the entity x day tables, whose incremental models
    rewrite exactly these days: a day no unverified load touched was checked by the run
    that verified its last load, and no run has written it since. -#}
{% macro northstar_unverified_days(column) -%}
    {%- set last = northstar_last_verified_load() -%}
    {%- if last is none or flags.FULL_REFRESH -%}
        {{ return('1 = 1') }}
    {%- endif -%}
    {%- set days = run_query(
        'select distinct cast(event_date as varchar) from '
        ~ northstar_load_keys_relation('days') ~ ' where load_id > ' ~ last ~ ' order by 1'
    ).columns[0].values() -%}
    {%- if days | length == 0 -%}
        {{ return('1 = 0') }}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for day in days -%}
        {%- do literals.append("cast('" ~ day ~ "' as date)") -%}
    {%- endfor -%}
    {{ return(column ~ ' in (' ~ literals | join(', ') ~ ')') }}
{%- endmacro %}


{#- dbt's own macro (dbt/include/global_project/macros/materializations/tests/where_subquery.sql),
    with the placeholder replaced. The dispatched name, so that a host project that installs
    northstar as a package can list northstar in its `dbt` dispatch search order (README,
    "Add northstar to your dbt project"); standalone, dbt finds it in the root project. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__northstar_unverified_loads__' in where -%}
            {%- set where = where | replace(
                '__northstar_unverified_loads__', northstar_unverified_loads()
            ) -%}
        {%- endif -%}
        {#- One per `where`: `__northstar_unverified_days__(<date column>)`. #}
        {%- set days = modules.re.search('__northstar_unverified_days__[(](\\w+)[)]', where) -%}
        {%- if days -%}
            {%- set where = where | replace(days.group(0), northstar_unverified_days(days.group(1))) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}


{#- Whether a test node checks only the unverified loads. -#}
{% macro northstar_checks_unverified_loads(node) -%}
    {%- set metadata = node.test_metadata or {} -%}
    {{ return(
        '__northstar_unverified_loads__' in (node.config.where or '')
        or '__northstar_unverified_days__' in (node.config.where or '')
        or metadata.get('name') in ('unique_across_loads', 'relationships_across_loads')
    ) }}
{%- endmacro %}


{#- on-run-end: this run's load is verified when every test scoped to the unverified
    loads ran in it and passed (a `dbt build --select` that left one out verifies nothing). -#}
{% macro northstar_record_verified_loads(results) -%}
    {%- if not execute or target.type != 'duckdb' or flags.WHICH not in ('build', 'test') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set passed = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status == 'pass' -%}
        {%- do passed.append(result.node.unique_id) -%}
    {%- endfor -%}
    {%- set scoped = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'test' and northstar_checks_unverified_loads(node) -%}
        {%- do scoped.append(node.unique_id) -%}
    {%- endfor -%}
    {%- for unique_id in scoped if unique_id not in passed -%}
        {{ return('') }}
    {%- endfor -%}
    {%- if scoped | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    insert into {{ northstar_verified_loads_relation() }}
    values (
        {{ northstar_load_id() }},
        '{{ northstar_verified_fingerprint() }}',
        {{ northstar_timestamp_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S')) }}
    )
{%- endmacro %}
