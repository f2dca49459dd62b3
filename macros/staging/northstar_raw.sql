{#-
    The raw-event contract and the readers behind it (docs/raw-event-contract.md).

    Three raw inputs: events (required), accounts and users (optional). Each comes from
    either files at a path (var northstar__raw_<kind>_path: Parquet or CSV, globs allowed)
    or, when that path is '', the dbt source northstar_raw.<kind>. How the files are read
    (var northstar__raw_<kind>_reader) and where each contract column comes from (var
    northstar__raw_<singular>_columns: a column, a constant, an expression, named property
    columns, a derived event id) are configuration, validated in northstar_raw_settings.sql.

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
    {{ return(northstar_read_raw_files(path, files, northstar_raw_file_reader(kind))) }}
{%- endmacro %}


{#- The error for a required input with no files: names the path and what was expected. -#}
{% macro northstar_raw_missing_message(kind, path) -%}
    {%- set contract = northstar_raw_contract(kind) -%}
    {{ return(
        "northstar: no raw " ~ kind ~ " files match " ~ contract.path_var ~ " = '" ~ path ~ "'"
        ~ " (relative paths are read from the dbt project directory). Expected files with"
        ~ " the contract columns "
        ~ contract.required | join(', ') ~ " (required) and "
        ~ contract.columns | reject('in', contract.required) | join(', ') ~ " (optional),"
        ~ " as Parquet, CSV, JSON or NDJSON (the format from the extension, or var"
        ~ " northstar__raw_" ~ kind ~ "_reader: {format: csv | parquet | json | ndjson})."
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


{#- The file reader for a reader setting (northstar_raw_file_reader). Columns it adds:
    _northstar_raw_file and, where the reader can number rows, file_row_number (DuckDB's
    Parquet reader; Spark has _metadata.row_index instead). -#}
{% macro northstar_read_raw_files(path, files=none, reader=none) -%}
    {%- set reader = reader or {'format': 'parquet', 'delimiter': none, 'header': true,
        'quote': none, 'compression': 'auto'} -%}
    {{ return(adapter.dispatch('northstar_read_raw_files', 'northstar')(path, files, reader)) }}
{%- endmacro %}

{#- DuckDB's CSV reader fails the whole read on a line longer than max_line_size (2 MB by
    default). The limit is raised well above northstar__max_row_chars, so such a line is
    read and then rejected as row_too_long: one runaway row no longer fails the build, and
    it is counted like every other raw row. The buffer must hold a whole line; 64 MB costs
    about 100 MB more memory than the default while reading. -#}
{% macro northstar_csv_max_line_bytes() -%}
    {{ return([67108864, 4 * northstar_max_row_chars()] | max) }}
{%- endmacro %}

{% macro duckdb__northstar_read_raw_files(path, files=none, reader=none) -%}
    {%- if files is none -%}
        {%- set paths = northstar_sql_string(path) -%}
    {%- else -%}
        {%- set quoted = [] -%}
        {%- for file in files -%}
            {%- do quoted.append(northstar_sql_string(file)) -%}
        {%- endfor -%}
        {%- set paths = '[' ~ quoted | join(', ') ~ ']' -%}
    {%- endif -%}
    {%- if reader.format == 'csv' and reader.delimiter == 'whitespace' -%}
        {{ return(northstar_read_aligned_text(paths, reader)) }}
    {%- elif reader.format == 'csv' -%}
        read_csv(
            {{ paths }},
            header = {{ reader.header }},
            {%- if reader.delimiter is not none %}
            delim = {{ northstar_sql_string(reader.delimiter) }},
            {%- endif %}
            {%- if reader.quote is not none %}
            quote = {{ northstar_sql_string(reader.quote) }},
            {%- endif %}
            compression = '{{ reader.compression }}',
            all_varchar = true,
            union_by_name = true,
            max_line_size = {{ northstar_csv_max_line_bytes() }},
            buffer_size = {{ northstar_csv_max_line_bytes() }},
            filename = '_northstar_raw_file'
        )
    {%- elif reader.format in ['json', 'ndjson'] -%}
        {#- Every record is read for the column types (sample_size -1): a value of another
            type far into the file would otherwise fail the read. #}
        read_json(
            {{ paths }},
            format = '{{ 'newline_delimited' if reader.format == 'ndjson' else 'auto' }}',
            records = true,
            compression = '{{ reader.compression }}',
            sample_size = -1,
            maximum_object_size = {{ northstar_csv_max_line_bytes() }},
            union_by_name = true,
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

{#- Spark SQL reads Parquet and JSON Lines by path; its CSV-by-path reader has no header
    option, so CSV and JSON arrays on Spark go through a table declared as the source. -#}
{% macro spark__northstar_read_raw_files(path, files=none, reader=none) -%}
    {%- if reader.format == 'ndjson' -%}
        json.`{{ path }}`
    {%- elif reader.format == 'parquet' -%}
        parquet.`{{ path }}`
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "northstar on Spark reads raw files as Parquet or NDJSON only; '" ~ path ~ "' is read as "
            ~ reader.format ~ ". Load it into a table and set the path var to '' to read"
            ~ " source('northstar_raw', ...)."
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__northstar_read_raw_files(path, files=none, reader=none) -%}
    {{ exceptions.raise_compiler_error(
        "northstar cannot read raw files by path on the '" ~ target.type ~ "' adapter ('" ~ path ~ "'). "
        ~ "Load them into a table and set the path var to '' to read source('northstar_raw', ...)."
    ) }}
{%- endmacro %}


{#- Whitespace-aligned text (DuckDB): each line is read whole and split on runs of spaces
    and tabs; the first line names the columns (header: true, the same in every file) or
    they are column0, column1, ... The last column takes the rest of the line, its runs of
    blanks written as one space. Blank lines are not rows. -#}
{% macro northstar_read_aligned_text(paths, reader) -%}
    {%- set lines -%}
        read_csv(
            {{ paths }},
            columns = {'line': 'VARCHAR'},
            header = {header},
            delim = E'\x01',
            quote = '',
            escape = '',
            compression = '{{ reader.compression }}',
            max_line_size = {{ northstar_csv_max_line_bytes() }},
            buffer_size = {{ northstar_csv_max_line_bytes() }},
            filename = '_northstar_raw_file'
        )
    {%- endset -%}
    {%- set split = "regexp_split_to_array(trim(line, E' \\t\\r'), '[ \\t]+')" -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {#- One row per field of the first line, in order (a list would come back as text). -#}
        {%- set first = run_query(
            'select unnest(fields) from (select ' ~ split ~ ' as fields from '
            ~ lines | replace('{header}', 'false')
            ~ " where trim(coalesce(line, ''), E' \\t\\r') <> '' limit 1) as first_line"
        ) -%}
        {%- set tokens = first.columns[0].values() | list -%}
        {%- for token in tokens -%}
            {%- do names.append(token if reader.header else 'column' ~ loop.index0) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for name in names -%}
        {%- if loop.last -%}
            {%- do columns.append('array_to_string(fields[' ~ loop.index ~ ':], \' \') as ' ~ adapter.quote(name)) -%}
        {%- else -%}
            {%- do columns.append('fields[' ~ loop.index ~ '] as ' ~ adapter.quote(name)) -%}
        {%- endif -%}
    {%- endfor -%}
    (
        select
            {%- for column in columns %}
            {{ column }},
            {%- endfor %}
            _northstar_raw_file
        from (
            select {{ split }} as fields, _northstar_raw_file
            from {{ lines | replace('{header}', 'true' if reader.header else 'false') }}
            where trim(coalesce(line, ''), E' \t\r') <> ''
        ) as aligned_lines
    )
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


{#- Resolve the input's columns that the settings read (northstar_raw_column_settings):
    {contract column: the input's column ({'name', 'type'}) or none, '_properties': {key:
    column}, '_input_columns': every column of the input}. Raises when a required column,
    or a column the settings name, is missing. -#}
{% macro northstar_resolve_raw_columns(kind, from) -%}
    {%- set contract = northstar_raw_contract(kind) -%}
    {%- set settings = northstar_raw_column_settings(kind) -%}
    {%- set input_columns = northstar_raw_input_columns(from) -%}
    {%- set available = {} -%}
    {%- for column in input_columns -%}
        {%- do available.update({column.name | lower: column}) -%}
    {%- endfor -%}

    {%- set resolved = {'_properties': {}, '_input_columns': input_columns} -%}
    {%- set missing_required = [] -%}
    {%- set missing_mapped = [] -%}
    {%- for name in contract.columns -%}
        {%- set setting = settings[name] -%}
        {%- set found = none -%}
        {%- if setting.source == 'column' -%}
            {%- set found = available.get(setting.column | lower) -%}
            {%- if found is none and setting.mapped -%}
                {%- do missing_mapped.append(name ~ ' -> ' ~ setting.column) -%}
            {%- elif found is none and name in contract.required -%}
                {%- do missing_required.append(name) -%}
            {%- endif -%}
        {%- elif setting.source == 'columns' -%}
            {%- for property in setting.properties -%}
                {%- set property_column = available.get(property.column | lower) -%}
                {%- if property_column is none -%}
                    {%- do missing_mapped.append(name ~ '.' ~ property.key ~ ' -> ' ~ property.column) -%}
                {%- endif -%}
                {%- do resolved._properties.update({property.key: property_column}) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- do resolved.update({name: found}) -%}
    {%- endfor -%}

    {%- if missing_required or missing_mapped -%}
        {%- set where = northstar_raw_path(kind) or ('source northstar_raw.' ~ kind) -%}
        {{ exceptions.raise_compiler_error(
            "northstar: the raw " ~ kind ~ " at '" ~ where ~ "' lack "
            ~ ("required contract column(s) " ~ missing_required | join(', ') if missing_required else "")
            ~ ("; " if missing_required and missing_mapped else "")
            ~ ("mapped column(s) " ~ missing_mapped | join(', ') if missing_mapped else "")
            ~ ". Found columns: " ~ available.keys() | list | reject('in', ['_northstar_raw_file', 'file_row_number']) | join(', ')
            ~ ". Map differently named columns with var " ~ contract.mapping_var
            ~ " ({contract column: your column}, or {value: ...}, {sql: ...}"
            ~ ("; event_id: null derives an id from each row" if 'event_id' in missing_required else "")
            ~ "); see docs/raw-event-contract.md."
        ) }}
    {%- endif -%}
    {{ return(resolved) }}
{%- endmacro %}


{#- The text of one contract column, as its setting says: the input's column, a constant,
    an expression over the input's columns, a JSON object of typed property columns, or,
    for an absent event_id, an id derived from the row; null when absent. -#}
{% macro northstar_raw_column_text(name, setting, resolved) -%}
    {%- set null_text = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {%- if setting.source == 'value' -%}
        {{ return(northstar_sql_string(setting.value)) }}
    {%- elif setting.source == 'sql' -%}
        {{ return('cast((' ~ setting.sql ~ ') as ' ~ dbt.type_string() ~ ')') }}
    {%- elif setting.source == 'columns' -%}
        {%- set pairs = [] -%}
        {%- for property in setting.properties -%}
            {%- do pairs.append((property.key, northstar_raw_typed_property(
                northstar_raw_as_text(resolved._properties[property.key]), property.type
            ))) -%}
        {%- endfor -%}
        {{ return(northstar_json_object(pairs)) }}
    {%- elif setting.source == 'absent' and name == 'event_id' -%}
        {{ return(northstar_raw_derived_id(resolved._input_columns)) }}
    {%- elif resolved[name] is none -%}
        {{ return(null_text) }}
    {%- endif -%}
    {{ return(northstar_raw_as_text(resolved[name])) }}
{%- endmacro %}


{#- One input column as text. Nested values (struct, map, list, JSON) become JSON text,
    so a properties struct reads as a JSON object. -#}
{% macro northstar_raw_as_text(column) -%}
    {{ return(adapter.dispatch('northstar_raw_as_text', 'northstar')(column)) }}
{%- endmacro %}

{% macro duckdb__northstar_raw_as_text(column) -%}
    {%- set data_type = column.type | upper -%}
    {%- if data_type == 'JSON' -%}
        {#- A JSON string is its text, unquoted (the JSON reader types a field that holds
            numbers in some records and text in others as JSON); other values are JSON text. #}
        case
            when json_type({{ adapter.quote(column.name) }}) = 'VARCHAR'
                then json_extract_string({{ adapter.quote(column.name) }}, '$')
            else cast({{ adapter.quote(column.name) }} as {{ dbt.type_string() }})
        end
    {%- elif data_type.startswith('STRUCT') or data_type.startswith('MAP') or data_type.endswith(']') -%}
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
        {%- set settings = northstar_raw_column_settings(kind) -%}
        {%- set text_columns = [] -%}
        {%- for name in contract.columns -%}
            {%- do text_columns.append(northstar_raw_column_text(name, settings[name], resolved)) -%}
        {%- endfor -%}
        {%- set reads_files = from is string -%}
        {%- set row_index = northstar_raw_row_index() if reads_files else none -%}
        {%- set numbered_by_reader = row_index is not none
            and northstar_raw_file_reader(kind).format == 'parquet' -%}
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
