{#-
    on-run-start (dbt_project.yml): fail before any model runs when a raw input the
    selected nodes read is not there or lacks contract columns, with a message that names
    the path and what was expected.

    - events: required. No matching file is an error.
    - accounts, users: optional. No matching file is not an error: stg_accounts / stg_users
      are then empty (with their columns), and a line in the log says so.
    - The files' format (var northstar__raw_<kind>_reader, else the path's extension) must
      be known; without the var, matched files of another extension are an error.
    - Events files that hold no rows (a header only) are an error that says so.

    DuckDB only: it is the adapter that reads files by path here. On other adapters (and
    for inputs read from the dbt source) the staging models raise the same column errors
    when they compile. Only inputs read by selected nodes (tag northstar_reads_raw_<kind>)
    are checked, so `dbt build --select marts` does not need the raw files.
-#}
{% macro northstar_check_raw_inputs() -%}
    {%- if execute and target.type == 'duckdb' -%}
        {%- for kind in northstar_raw_kinds_selected() -%}
            {%- set path = northstar_raw_path(kind) -%}
            {%- if path != '' -%}
                {%- do _northstar_check_raw_files(kind, path) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- A hook must render to SQL; this one only checks. -#}
    select 1 as northstar_raw_inputs_checked
{%- endmacro %}


{% macro _northstar_check_raw_files(kind, path) -%}
    {%- set files = run_query("select file from glob(" ~ northstar_sql_string(path) ~ ") order by file") -%}
    {%- set names = files.columns[0].values() | list -%}

    {%- if names | length == 0 -%}
        {%- if kind == 'events' -%}
            {{ exceptions.raise_compiler_error(northstar_raw_missing_message(kind, path)) }}
        {%- endif -%}
        {{ log(
            "northstar: no raw " ~ kind ~ " file matches '" ~ path ~ "'; stg_" ~ kind
            ~ " will be empty (the " ~ kind ~ " input is optional).",
            info=true
        ) }}
        {{ return(none) }}
    {%- endif -%}

    {#- The format comes from the var northstar__raw_<kind>_reader, else from the path's
        extension; only then must every matched file carry an extension of that format
        (a glob such as `events/*` may match files of another kind). -#}
    {%- set reader = northstar_raw_file_reader(kind) -%}
    {%- if not reader.configured -%}
        {%- set wrong = [] -%}
        {%- for name in names if northstar_raw_format_from_extension(name) != reader.format -%}
            {%- do wrong.append(name) -%}
        {%- endfor -%}
        {%- if wrong -%}
            {{ exceptions.raise_compiler_error(
                "northstar: " ~ northstar_raw_contract(kind).path_var ~ " = '" ~ path ~ "' matches "
                ~ wrong | length ~ " file(s) whose extension is not that of " ~ reader.format
                ~ " files (the format the path implies), e.g. '" ~ wrong[0] ~ "'. Narrow the glob"
                ~ " (e.g. '.../*." ~ reader.format ~ "'), or set the format of the files in var "
                ~ reader.var ~ ", e.g. {format: csv} (csv | parquet | json | ndjson);"
                ~ " see docs/raw-event-contract.md."
            ) }}
        {%- endif -%}
    {%- endif -%}

    {#- Reads the file footers / headers: an unreadable file fails here, naming itself. -#}
    {%- set files_reader = northstar_read_raw_files(path, none, reader) -%}
    {%- do northstar_resolve_raw_columns(kind, files_reader) -%}

    {#- Events files with a header (or a Parquet schema) and no rows would build every model
        empty and then fail on whichever data test first needs a row, far from the cause.
        `limit 1` stops at the first row, so a large feed costs one row group or buffer. -#}
    {%- if kind == 'events' -%}
        {%- set first_row = run_query("select 1 from " ~ files_reader ~ " limit 1") -%}
        {%- if first_row.rows | length == 0 -%}
            {{ exceptions.raise_compiler_error(
                "northstar: the raw events at " ~ northstar_raw_contract(kind).path_var ~ " = '"
                ~ path ~ "' hold no rows (" ~ names | length ~ " file(s) matched, e.g. '"
                ~ names[0] ~ "', with a header or schema but no data): there is nothing to build."
                ~ " Check that the export writing these files ran, or point the var (or"
                ~ " NORTHSTAR_RAW_DIR) at the files that hold the events."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
