{#-
    The raw-event contract and the readers behind it (docs/raw-event-contract.md).

    Three raw inputs: events (required), accounts and users (optional). Each comes from
    either files at a path (var northstar__raw_<kind>_path: Parquet or CSV, globs allowed)
    or, when that path is '', the dbt source northstar_raw.<kind>. Users' column names are
    mapped onto the contract by var northstar__raw_<kind>_columns ({contract: theirs}).

    northstar_select_raw(kind) is the one entry point the staging models use: it returns a
    select with one text column raw_<contract column> per contract column (null where an
    optional column is absent), plus raw_file and raw_file_row_number (1-based), which locate
    the row.
-#}


{#- The contract: columns in order, which are required, and where the inputs live. -#}
{% macro northstar_raw_contract(kind) -%}
    {%- set spec = northstar_spec() -%}
    {%- set entity = spec.entity -%}
    {%- set entity_segments = [] -%}
    {%- for segment in spec.segments if segment.source == 'entity' -%}
        {%- do entity_segments.append(segment.name) -%}
    {%- endfor -%}

    {%- if kind == 'events' -%}
        {%- set columns = [
            'event_id', 'occurred_at', 'received_at', 'user_id', 'account_id',
            'event_name', 'properties', 'session_id', 'platform', 'country',
        ] -%}
        {%- set required = ['event_id', 'occurred_at', 'event_name', entity ~ '_id'] -%}
    {%- elif kind == 'accounts' -%}
        {%- set columns = ['account_id', 'created_at', 'plan', 'country', 'industry'] -%}
        {%- if entity == 'account' -%}
            {%- for name in entity_segments if name not in columns -%}
                {%- do columns.append(name) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- set required = ['account_id'] -%}
    {%- elif kind == 'users' -%}
        {%- set columns = ['user_id', 'account_id', 'created_at', 'country', 'platform'] -%}
        {%- if entity == 'user' -%}
            {%- for name in entity_segments if name not in columns -%}
                {%- do columns.append(name) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- set required = ['user_id'] -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "northstar_raw_contract: kind must be 'events', 'accounts' or 'users', got '" ~ kind ~ "'"
        ) }}
    {%- endif -%}

    {{ return({
        'kind': kind,
        'columns': columns,
        'required': required,
        'optional_input': kind != 'events',
        'path_var': 'northstar__raw_' ~ kind ~ '_path',
        'mapping_var': 'northstar__raw_' ~ kind[:-1] ~ '_columns',
    }) }}
{%- endmacro %}


{#- The configured path ('' means: read the dbt source instead). -#}
{% macro northstar_raw_path(kind) -%}
    {%- set contract = northstar_raw_contract(kind) -%}
    {%- set path = var(contract.path_var, '') -%}
    {{ return(('' if path is none else path | string) | trim) }}
{%- endmacro %}


{#- 'csv' for .csv, .csv.gz and .tsv paths, otherwise 'parquet'. -#}
{% macro northstar_raw_file_format(path) -%}
    {%- set lowered = path | lower -%}
    {%- if lowered.endswith('.csv') or lowered.endswith('.csv.gz') or lowered.endswith('.tsv') -%}
        {{ return('csv') }}
    {%- endif -%}
    {{ return('parquet') }}
{%- endmacro %}


{#- The user's column names for the contract columns, validated. -#}
{% macro northstar_raw_column_mapping(kind) -%}
    {%- set contract = northstar_raw_contract(kind) -%}
    {%- set column_map = var(contract.mapping_var, {}) or {} -%}
    {%- if column_map is not mapping -%}
        {{ exceptions.raise_compiler_error(
            contract.mapping_var ~ " must be a mapping {contract column: your column}, got " ~ column_map
        ) }}
    {%- endif -%}
    {%- for key in column_map -%}
        {%- if key not in contract.columns -%}
            {{ exceptions.raise_compiler_error(
                contract.mapping_var ~ ": '" ~ key ~ "' is not a contract column of the raw " ~ kind
                ~ "; the contract columns are " ~ contract.columns | join(', ')
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(column_map) }}
{%- endmacro %}


{#- What to select from: a file reader expression or a source relation; none when an
    optional input (accounts, users) is absent. -#}
{% macro northstar_raw_from(kind, files=none) -%}
    {%- set path = northstar_raw_path(kind) -%}
    {%- if path == '' -%}
        {%- set relation = source('northstar_raw', kind) -%}
        {%- if execute and northstar_raw_contract(kind).optional_input -%}
            {%- set found = adapter.get_relation(
                database=relation.database, schema=relation.schema, identifier=relation.identifier
            ) -%}
            {%- if found is none -%}
                {{ return(none) }}
            {%- endif -%}
        {%- endif -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if execute and not northstar_raw_files_exist(path) -%}
        {%- if northstar_raw_contract(kind).optional_input -%}
            {{ return(none) }}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(northstar_raw_missing_message(kind, path)) }}
    {%- endif -%}
    {%- if files is not none and files | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(northstar_read_raw_files(path, files)) }}
{%- endmacro %}


{#- The error for a required input with no files: names the path and what was expected. -#}
{% macro northstar_raw_missing_message(kind, path) -%}
    {%- set contract = northstar_raw_contract(kind) -%}
    {{ return(
        "northstar: no raw " ~ kind ~ " files match " ~ contract.path_var ~ " = '" ~ path ~ "'"
        ~ " (relative paths are read from the dbt project directory). Expected Parquet files"
        ~ " (or CSV files with a header: .csv, .csv.gz, .tsv) with the contract columns "
        ~ contract.required | join(', ') ~ " (required) and "
        ~ contract.columns | reject('in', contract.required) | join(', ') ~ " (optional)."
        ~ " Generate the demo data with `northstar generate`, point the var (or NORTHSTAR_RAW_DIR)"
        ~ " at your files, or set it to '' to read the dbt source northstar_raw." ~ kind
        ~ " (docs/raw-event-contract.md)."
    ) }}
{%- endmacro %}


{#- Whether any file matches the path (true where the adapter cannot tell). -#}
{% macro northstar_raw_files_exist(path) -%}
    {{ return(adapter.dispatch('northstar_raw_files_exist', 'northstar')(path)) }}
{%- endmacro %}

{% macro duckdb__northstar_raw_files_exist(path) -%}
    {%- set result = run_query("select count(*) from glob(" ~ northstar_sql_string(path) ~ ")") -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}

{% macro default__northstar_raw_files_exist(path) -%}
    {{ return(true) }}
{%- endmacro %}


{#- A SQL string literal. -#}
{% macro northstar_sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}


{#- The file reader. Columns it adds: _northstar_raw_file and, where the reader can
    number rows, file_row_number (DuckDB; Spark has _metadata.row_index instead). -#}
{% macro northstar_read_raw_files(path, files=none) -%}
    {{ return(adapter.dispatch('northstar_read_raw_files', 'northstar')(path, files)) }}
{%- endmacro %}

{#- DuckDB's CSV reader fails the whole read on a line longer than max_line_size (2 MB by
    default). The limit is raised well above northstar__max_row_chars, so such a line is
    read and then rejected as row_too_long: one runaway row no longer fails the build, and
    it is counted like every other raw row. The buffer must hold a whole line; 64 MB costs
    about 100 MB more memory than the default while reading. -#}
{% macro northstar_csv_max_line_bytes() -%}
    {{ return([67108864, 4 * northstar_max_row_chars()] | max) }}
{%- endmacro %}

{% macro duckdb__northstar_read_raw_files(path, files=none) -%}
    {%- if files is none -%}
        {%- set paths = northstar_sql_string(path) -%}
    {%- else -%}
        {%- set quoted = [] -%}
        {%- for file in files -%}
            {%- do quoted.append(northstar_sql_string(file)) -%}
        {%- endfor -%}
        {%- set paths = '[' ~ quoted | join(', ') ~ ']' -%}
    {%- endif -%}
    {%- if northstar_raw_file_format(path) == 'csv' -%}
        read_csv(
            {{ paths }},
            header = true,
            all_varchar = true,
            union_by_name = true,
            max_line_size = {{ northstar_csv_max_line_bytes() }},
            buffer_size = {{ northstar_csv_max_line_bytes() }},
            filename = '_northstar_raw_file'
        )
    {%- else -%}
        read_parquet(
            {{ paths }},
            union_by_name = true,
            filename = '_northstar_raw_file',
            file_row_number = true
        )
    {%- endif -%}
{%- endmacro %}

{#- Spark SQL reads Parquet by path; its CSV-by-path reader has no header option, so CSV
    on Spark goes through a table declared as the source instead. -#}
{% macro spark__northstar_read_raw_files(path, files=none) -%}
    {%- if northstar_raw_file_format(path) == 'csv' -%}
        {{ exceptions.raise_compiler_error(
            "northstar on Spark reads raw files as Parquet only; '" ~ path ~ "' looks like CSV. "
            ~ "Load it into a table and set the path var to '' to read source('northstar_raw', ...)."
        ) }}
    {%- endif -%}
    parquet.`{{ path }}`
{%- endmacro %}

{% macro default__northstar_read_raw_files(path, files=none) -%}
    {{ exceptions.raise_compiler_error(
        "northstar cannot read raw files by path on the '" ~ target.type ~ "' adapter ('" ~ path ~ "'). "
        ~ "Load them into a table and set the path var to '' to read source('northstar_raw', ...)."
    ) }}
{%- endmacro %}


{#- The 0-based position of a row in its Parquet file, as the file reader exposes it; none
    where the reader has none (then rows are numbered by their content). On Spark, the
    hidden _metadata column of file sources has it (Spark 3.5+), so raw_file_row_number
    and raw_row_id are the same numbers as on DuckDB. -#}
{% macro northstar_raw_row_index() -%}
    {{ return(adapter.dispatch('northstar_raw_row_index', 'northstar')()) }}
{%- endmacro %}

{% macro duckdb__northstar_raw_row_index() -%}
    {{ return('file_row_number') }}
{%- endmacro %}

{% macro spark__northstar_raw_row_index() -%}
    {{ return('_metadata.row_index') }}
{%- endmacro %}

{% macro default__northstar_raw_row_index() -%}
    {{ return(none) }}
{%- endmacro %}


{#- The input's columns as [{'name', 'type'}] (type may be '' where unknown). -#}
{% macro northstar_raw_input_columns(from) -%}
    {%- if from is string -%}
        {{ return(adapter.dispatch('northstar_describe_raw_files', 'northstar')(from)) }}
    {%- endif -%}
    {%- set described = [] -%}
    {%- for column in adapter.get_columns_in_relation(from) -%}
        {%- do described.append({'name': column.name, 'type': column.dtype | string}) -%}
    {%- endfor -%}
    {{ return(described) }}
{%- endmacro %}

{% macro duckdb__northstar_describe_raw_files(from) -%}
    {%- set result = run_query('describe select * from ' ~ from) -%}
    {%- set described = [] -%}
    {%- for row in result.rows -%}
        {%- do described.append({'name': row[0], 'type': row[1] | string}) -%}
    {%- endfor -%}
    {{ return(described) }}
{%- endmacro %}

{% macro default__northstar_describe_raw_files(from) -%}
    {%- set result = run_query('select * from ' ~ from ~ ' limit 0') -%}
    {%- set described = [] -%}
    {%- for name in result.column_names -%}
        {%- do described.append({'name': name, 'type': ''}) -%}
    {%- endfor -%}
    {{ return(described) }}
{%- endmacro %}


{#- Resolve each contract column to the input's column (or none when absent); raise when
    a required column, or a column named in the mapping, is missing. -#}
{% macro northstar_resolve_raw_columns(kind, from) -%}
    {%- set contract = northstar_raw_contract(kind) -%}
    {%- set mapping = northstar_raw_column_mapping(kind) -%}
    {%- set available = {} -%}
    {%- for column in northstar_raw_input_columns(from) -%}
        {%- do available.update({column.name | lower: column}) -%}
    {%- endfor -%}

    {%- set resolved = {} -%}
    {%- set missing_required = [] -%}
    {%- set missing_mapped = [] -%}
    {%- for name in contract.columns -%}
        {%- set wanted = (mapping.get(name) or name) | string -%}
        {%- set found = available.get(wanted | lower) -%}
        {%- do resolved.update({name: found}) -%}
        {%- if found is none and name in mapping -%}
            {%- do missing_mapped.append(name ~ ' -> ' ~ wanted) -%}
        {%- elif found is none and name in contract.required -%}
            {%- do missing_required.append(name) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if missing_required or missing_mapped -%}
        {%- set where = northstar_raw_path(kind) or ('source northstar_raw.' ~ kind) -%}
        {{ exceptions.raise_compiler_error(
            "northstar: the raw " ~ kind ~ " at '" ~ where ~ "' lack "
            ~ ("required contract column(s) " ~ missing_required | join(', ') if missing_required else "")
            ~ ("; " if missing_required and missing_mapped else "")
            ~ ("mapped column(s) " ~ missing_mapped | join(', ') if missing_mapped else "")
            ~ ". Found columns: " ~ available.keys() | list | join(', ')
            ~ ". Map differently named columns with var " ~ contract.mapping_var
            ~ " ({contract column: your column}); see docs/raw-event-contract.md."
        ) }}
    {%- endif -%}
    {{ return(resolved) }}
{%- endmacro %}


{#- One input column as text. Nested values (struct, map, list, JSON) become JSON text,
    so a properties struct reads as a JSON object. -#}
{% macro northstar_raw_as_text(column) -%}
    {{ return(adapter.dispatch('northstar_raw_as_text', 'northstar')(column)) }}
{%- endmacro %}

{% macro duckdb__northstar_raw_as_text(column) -%}
    {%- set data_type = column.type | upper -%}
    {%- if data_type.startswith('STRUCT') or data_type.startswith('MAP') or data_type.endswith(']')
        or data_type == 'JSON' -%}
        cast(to_json({{ adapter.quote(column.name) }}) as {{ dbt.type_string() }})
    {%- else -%}
        cast({{ adapter.quote(column.name) }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{% macro default__northstar_raw_as_text(column) -%}
    cast({{ adapter.quote(column.name) }} as {{ dbt.type_string() }})
{%- endmacro %}


{#- The entry point: a select of raw_<column> text columns + raw_file, raw_file_row_number.
    Absent optional input => zero rows with the same columns. -#}
{% macro northstar_select_raw(kind, files=none) -%}
    {%- set contract = northstar_raw_contract(kind) -%}
    {%- set from = northstar_raw_from(kind, files) -%}

    {%- if not execute or from is none -%}
        {#- Parse time, or an absent optional input: the right columns, no rows. -#}
        select
            {%- for name in contract.columns %}
            cast(null as {{ dbt.type_string() }}) as raw_{{ name }},
            {%- endfor %}
            cast(null as {{ dbt.type_string() }}) as raw_file,
            cast(null as {{ dbt.type_bigint() }}) as raw_file_row_number
        where 1 = 0
    {%- else -%}
        {%- set resolved = northstar_resolve_raw_columns(kind, from) -%}
        {%- set text_columns = [] -%}
        {%- for name in contract.columns -%}
            {%- if resolved[name] is none -%}
                {%- do text_columns.append('cast(null as ' ~ dbt.type_string() ~ ')') -%}
            {%- else -%}
                {%- do text_columns.append(northstar_raw_as_text(resolved[name])) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set reads_files = from is string -%}
        {%- set row_index = northstar_raw_row_index() if reads_files else none -%}
        {%- set numbered_by_reader = row_index is not none
            and northstar_raw_file_format(northstar_raw_path(kind)) == 'parquet' -%}
        {%- if not reads_files -%}
            {%- set file_expr = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
        {%- elif target.type == 'duckdb' -%}
            {%- set file_expr = '_northstar_raw_file' -%}
        {%- else -%}
            {%- set file_expr = 'input_file_name()' -%}
        {%- endif -%}
        select
            {%- for name in contract.columns %}
            {{ text_columns[loop.index0] }} as raw_{{ name }},
            {%- endfor %}
            {{ file_expr }} as raw_file,
            {%- if numbered_by_reader %}
            cast({{ row_index }} + 1 as {{ dbt.type_bigint() }}) as raw_file_row_number
            {%- else %}
            {#- No reader row numbers (CSV, tables): number rows by their content, which is
                deterministic; rows equal in every column are interchangeable anyway. #}
            row_number() over (
                partition by {{ file_expr }}
                order by {{ text_columns | join(', ') }}
            ) as raw_file_row_number
            {%- endif %}
        from {{ from }}
    {%- endif -%}
{%- endmacro %}


{#- Models and tests that read raw inputs carry the tag northstar_reads_raw_<kind>, so the
    on-run-start check only looks at the inputs the selected nodes read. -#}
{% macro northstar_raw_kinds_selected() -%}
    {%- set kinds = [] -%}
    {%- for unique_id in selected_resources -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if node is not none -%}
            {%- for kind in ['events', 'accounts', 'users'] -%}
                {%- if 'northstar_reads_raw_' ~ kind in node.tags and kind not in kinds -%}
                    {%- do kinds.append(kind) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(kinds) }}
{%- endmacro %}


{#- A raw row's identity: its file's number (1, 2, ... in name order) and its 1-based row
    number in that file, as one bigint (file 3, row 42 -> 30000000042). Ordered like
    (raw_file, raw_file_row_number), unique, the same on every engine that numbers rows the
    same, and computed without sorting the rows. Ten digits leave room for ten billion
    rows per file. -#}
{% macro northstar_raw_row_id(file_ordinal, file_row_number) -%}
    (
        cast({{ file_ordinal }} as {{ dbt.type_bigint() }}) * 10000000000
        + cast({{ file_row_number }} as {{ dbt.type_bigint() }})
    )
{%- endmacro %}
