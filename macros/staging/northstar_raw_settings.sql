{#-
    How each raw input is read and mapped onto the contract, by configuration alone
    (docs/raw-event-contract.md, "Mapping by configuration"):

    - var northstar__raw_<kind>_reader: the file format (csv | parquet | json | ndjson; by
      default from the path's extension) and the CSV options;
    - var northstar__raw_<singular>_columns: per contract column, where its value comes
      from: a column of yours (a name, as before), null (absent: for event_id, an id
      derived from the row), a constant ({value: ...}), a SQL expression ({sql: ...}), or,
      for properties, named columns with a type ({columns: {key: {column, type}}}); for a
      timestamp column, its format and time zone ({column, format, time_zone}).

    Both are validated here, once, with errors that name the var and the key.
-#}


{#- The file formats a reader knows, and the path endings that imply one. A path with no
    extension (a directory, `*`) keeps the historical default, Parquet; a path with another
    extension (`.txt`, `.dat`) implies none: the format must be configured. -#}
{% macro northstar_raw_formats() -%}
    {{ return(['csv', 'parquet', 'json', 'ndjson']) }}
{%- endmacro %}

{% macro northstar_raw_format_from_extension(path) -%}
    {%- set lowered = modules.re.sub('\\.(gz|zst)$', '', path | lower) -%}
    {%- set endings = {
        '.csv': 'csv', '.tsv': 'csv', '.parquet': 'parquet', '.json': 'json',
        '.ndjson': 'ndjson', '.jsonl': 'ndjson',
    } -%}
    {%- for ending, format in endings.items() if lowered.endswith(ending) -%}
        {{ return(format) }}
    {%- endfor -%}
    {%- set last_part = lowered.rstrip('/').split('/')[-1] -%}
    {{ return('parquet' if '.' not in last_part else none) }}
{%- endmacro %}


{#- The reader of an input: {'format', 'configured' (bool), 'var', and for CSV 'delimiter'
    (none = detected; 'whitespace' = columns separated by runs of spaces or tabs),
    'header', 'quote' (none = detected, '' = none), 'compression'}. 'format' is none when
    neither the var nor the extension says: northstar_raw_reader_format raises then. -#}
{% macro northstar_raw_reader(kind) -%}
    {%- set var_name = 'northstar__raw_' ~ kind ~ '_reader' -%}
    {%- set configured = var(var_name, {}) or {} -%}
    {%- if configured is not mapping -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ " must be a mapping {format: csv | parquet | json | ndjson, ...}, got '"
            ~ configured ~ "' (docs/raw-event-contract.md)"
        ) }}
    {%- endif -%}
    {%- set csv_keys = ['delimiter', 'header', 'quote', 'compression'] -%}
    {%- for key in configured if key not in ['format'] + csv_keys -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ ": unknown setting '" ~ key ~ "'; the settings are format, "
            ~ csv_keys | join(', ') ~ " (docs/raw-event-contract.md)"
        ) }}
    {%- endfor -%}
    {%- set format = configured.get('format') -%}
    {%- if format is not none and format not in northstar_raw_formats() -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ ".format must be one of " ~ northstar_raw_formats() | join(', ')
            ~ ", got '" ~ format ~ "'"
        ) }}
    {%- endif -%}
    {%- set path = northstar_raw_path(kind) -%}
    {%- set effective = format or (northstar_raw_format_from_extension(path) if path else none) -%}
    {%- if effective != 'csv' -%}
        {%- for key in csv_keys if key in configured -%}
            {{ exceptions.raise_compiler_error(
                var_name ~ "." ~ key ~ " is a CSV option, but the format is '" ~ effective
                ~ "'; set format: csv to read the files as CSV"
            ) }}
        {%- endfor -%}
    {%- endif -%}
    {%- set delimiter = configured.get('delimiter') -%}
    {%- if delimiter in ['tab', '\\t'] -%}
        {%- set delimiter = '\t' -%}
    {%- endif -%}
    {%- if delimiter is not none and delimiter != 'whitespace'
        and (delimiter is not string or delimiter | length != 1) -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ ".delimiter must be one character, 'tab' or 'whitespace' (columns"
            ~ " aligned with runs of spaces or tabs), got '" ~ delimiter ~ "'"
        ) }}
    {%- endif -%}
    {%- set header = configured.get('header', true) -%}
    {%- if header is not boolean -%}
        {{ exceptions.raise_compiler_error(var_name ~ ".header must be true or false, got '" ~ header ~ "'") }}
    {%- endif -%}
    {%- set quote = configured.get('quote') -%}
    {%- if quote is not none and (quote is not string or quote | length > 1) -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ ".quote must be one character, or '' for none, got '" ~ quote ~ "'"
        ) }}
    {%- endif -%}
    {%- set compression = configured.get('compression', 'auto') -%}
    {%- if compression not in ['auto', 'none', 'gzip', 'zstd'] -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ ".compression must be auto, none, gzip or zstd, got '" ~ compression ~ "'"
        ) }}
    {%- endif -%}
    {{ return({
        'var': var_name, 'format': effective, 'configured': format is not none,
        'delimiter': delimiter, 'header': header, 'quote': quote, 'compression': compression,
    }) }}
{%- endmacro %}


{#- The reader of a file input, or a compile error naming the `format` setting when
    neither it nor the path's extension tells (a `.txt` file is not read as Parquet). -#}
{% macro northstar_raw_file_reader(kind) -%}
    {%- set reader = northstar_raw_reader(kind) -%}
    {%- if reader.format is none -%}
        {%- set path = northstar_raw_path(kind) -%}
        {{ exceptions.raise_compiler_error(
            "northstar: cannot tell the format of the raw " ~ kind ~ " at "
            ~ northstar_raw_contract(kind).path_var ~ " = '" ~ path ~ "' from its extension."
            ~ " Set the format in var " ~ reader.var ~ ", e.g. {format: csv} (csv | parquet |"
            ~ " json | ndjson; CSV options: delimiter (',', ';', 'tab', 'whitespace' for aligned"
            ~ " columns), header, quote, compression); see docs/raw-event-contract.md."
        ) }}
    {%- endif -%}
    {{ return(reader) }}
{%- endmacro %}


{#- The contract columns that are timestamps, and the property types. -#}
{% macro northstar_raw_timestamp_columns() -%}
    {{ return(['occurred_at', 'received_at', 'created_at']) }}
{%- endmacro %}

{% macro northstar_raw_property_types() -%}
    {{ return(['text', 'number', 'integer', 'boolean']) }}
{%- endmacro %}


{#- Where each contract column of an input comes from, validated:
    {contract column: {'source': 'column' | 'absent' | 'value' | 'sql' | 'columns',
    'column': the input's column name (source 'column'), 'value', 'sql', 'properties':
    [{'key', 'column', 'type'}] (source 'columns'), 'format', 'time_zone', 'mapped': whether
    the var named it}}. Unmapped columns read the contract name. -#}
{% macro northstar_raw_column_settings(kind) -%}
    {%- set contract = northstar_raw_contract(kind) -%}
    {%- set var_name = contract.mapping_var -%}
    {%- set column_map = var(var_name, {}) or {} -%}
    {%- if column_map is not mapping -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ " must be a mapping {contract column: your column}, got " ~ column_map
        ) }}
    {%- endif -%}
    {%- for key in column_map if key not in contract.columns -%}
        {{ exceptions.raise_compiler_error(
            var_name ~ ": '" ~ key ~ "' is not a contract column of the raw " ~ kind
            ~ "; the contract columns are " ~ contract.columns | join(', ')
        ) }}
    {%- endfor -%}
    {%- set settings = {} -%}
    {%- for name in contract.columns -%}
        {%- set field = var_name ~ '.' ~ name -%}
        {%- set setting = {
            'source': 'column', 'column': name, 'value': none, 'sql': none, 'properties': [],
            'format': 'auto', 'time_zone': 'UTC', 'mapped': name in column_map,
        } -%}
        {%- set given = column_map.get(name, name) -%}
        {%- if given is none -%}
            {%- if name in contract.required and name != 'event_id' -%}
                {{ exceptions.raise_compiler_error(
                    field ~ " is required and cannot be null: name your column, or give"
                    ~ " {value: ...} or {sql: ...}"
                ) }}
            {%- endif -%}
            {%- do setting.update({'source': 'absent', 'column': none}) -%}
        {%- elif given is string -%}
            {%- do setting.update({'column': given}) -%}
        {%- elif given is mapping -%}
            {%- do setting.update(northstar_raw_column_setting(field, name, given)) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                field ~ " must be a column name, null, or a mapping {column | value | sql"
                ~ (" | columns" if name == 'properties' else "") ~ ", ...}, got '" ~ given ~ "'"
            ) }}
        {%- endif -%}
        {%- do settings.update({name: setting}) -%}
    {%- endfor -%}
    {{ return(settings) }}
{%- endmacro %}


{#- One contract column given as a mapping. -#}
{% macro northstar_raw_column_setting(field, name, given) -%}
    {%- set sources = ['column', 'value', 'sql'] + (['columns'] if name == 'properties' else []) -%}
    {%- set options = ['format', 'time_zone'] if name in northstar_raw_timestamp_columns() else [] -%}
    {%- for key in given if key not in sources + options -%}
        {{ exceptions.raise_compiler_error(
            field ~ ": unknown setting '" ~ key ~ "'; the settings are "
            ~ (sources + options) | join(', ') ~ " (docs/raw-event-contract.md)"
        ) }}
    {%- endfor -%}
    {%- set chosen = [] -%}
    {%- for key in sources if key in given -%}
        {%- do chosen.append(key) -%}
    {%- endfor -%}
    {%- if chosen | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            field ~ ": give one of " ~ sources | join(', ') ~ ", not " ~ chosen | join(' and ')
        ) }}
    {%- endif -%}
    {%- set source = chosen[0] if chosen else 'column' -%}
    {%- set setting = {'source': source, 'column': none} -%}
    {%- if source == 'column' -%}
        {%- set column = given.get('column', name) -%}
        {%- if column is not string or column == '' -%}
            {{ exceptions.raise_compiler_error(field ~ ".column must be a column name, got '" ~ column ~ "'") }}
        {%- endif -%}
        {%- do setting.update({'column': column}) -%}
    {%- elif source == 'value' -%}
        {%- if given['value'] is none or given['value'] is mapping or (given['value'] is iterable and given['value'] is not string) -%}
            {{ exceptions.raise_compiler_error(field ~ ".value must be a constant (text or number), got '" ~ given['value'] ~ "'") }}
        {%- endif -%}
        {%- do setting.update({'value': given['value'] | string}) -%}
    {%- elif source == 'sql' -%}
        {%- do setting.update({'sql': northstar_raw_checked_expression(field ~ '.sql', given.sql)}) -%}
    {%- else -%}
        {%- do setting.update({'properties': northstar_raw_property_columns(field ~ '.columns', given.columns)}) -%}
    {%- endif -%}
    {%- if 'format' in given -%}
        {%- do setting.update({'format': northstar_raw_checked_format(field ~ '.format', given.format)}) -%}
    {%- endif -%}
    {%- if 'time_zone' in given -%}
        {%- do setting.update({'time_zone': northstar_raw_checked_time_zone(field ~ '.time_zone', given.time_zone)}) -%}
    {%- endif -%}
    {{ return(setting) }}
{%- endmacro %}


{#- A user-configured SQL expression: project configuration, trusted like a model's SQL
    (it is the project's own dbt_project.yml or --vars, never a northstar CLI argument).
    Still held to one expression, so a typo cannot end the statement or comment out the
    rest of it. -#}
{% macro northstar_raw_checked_expression(field, expression) -%}
    {%- if expression is not string or expression | trim == '' -%}
        {{ exceptions.raise_compiler_error(field ~ " must be a SQL expression over your columns, e.g. \"'order_' || status\"; got '" ~ expression ~ "'") }}
    {%- endif -%}
    {%- for token in [';', '--', '/*'] if token in expression -%}
        {{ exceptions.raise_compiler_error(
            field ~ " must be one SQL expression, without '" ~ token ~ "': got \"" ~ expression ~ "\""
        ) }}
    {%- endfor -%}
    {{ return(expression | trim) }}
{%- endmacro %}


{#- properties: {columns: {key: column | {column, type}}} -> [{'key', 'column', 'type'}],
    keys in the given order. -#}
{% macro northstar_raw_property_columns(field, columns) -%}
    {%- if columns is not mapping or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            field ~ " must map property keys to your columns, e.g. {amount: {column: amount,"
            ~ " type: number}, channel: channel}; got '" ~ columns ~ "'"
        ) }}
    {%- endif -%}
    {%- set properties = [] -%}
    {%- for key, given in columns.items() -%}
        {%- if not modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', key | string) -%}
            {{ exceptions.raise_compiler_error(field ~ ": property key '" ~ key ~ "' must be letters, digits and underscores") }}
        {%- endif -%}
        {%- set entry = {'column': given, 'type': 'text'} if given is string else given -%}
        {%- if entry is not mapping or entry.get('column') is not string
            or entry.get('type', 'text') not in northstar_raw_property_types()
            or entry.keys() | reject('in', ['column', 'type']) | list -%}
            {{ exceptions.raise_compiler_error(
                field ~ "." ~ key ~ " must be a column name or {column: name, type: "
                ~ northstar_raw_property_types() | join(' | ') ~ "}, got '" ~ given ~ "'"
            ) }}
        {%- endif -%}
        {%- do properties.append({'key': key | string, 'column': entry.column, 'type': entry.get('type', 'text')}) -%}
    {%- endfor -%}
    {{ return(properties) }}
{%- endmacro %}


{#- auto | epoch_seconds | epoch_milliseconds | a strptime pattern with the directives
    northstar_strptime_to_java translates (so the same pattern works on every engine). -#}
{% macro northstar_raw_checked_format(field, format) -%}
    {%- if format is not string or format == '' -%}
        {{ exceptions.raise_compiler_error(field ~ " must be auto, epoch_seconds, epoch_milliseconds or a strptime pattern such as '%Y%m%d'; got '" ~ format ~ "'") }}
    {%- endif -%}
    {%- if format not in ['auto', 'epoch_seconds', 'epoch_milliseconds'] -%}
        {%- if '%' not in format -%}
            {{ exceptions.raise_compiler_error(field ~ " '" ~ format ~ "' is not a strptime pattern (e.g. '%d/%m/%Y %H:%M'), nor auto, epoch_seconds or epoch_milliseconds") }}
        {%- endif -%}
        {%- do northstar_strptime_to_java(format, field) -%}
    {%- endif -%}
    {{ return(format) }}
{%- endmacro %}


{#- An IANA time zone name (pytz's list, which the engines' zone databases share). -#}
{% macro northstar_raw_checked_time_zone(field, time_zone) -%}
    {%- if time_zone not in modules.pytz.all_timezones -%}
        {{ exceptions.raise_compiler_error(
            field ~ " must be an IANA time zone name such as 'UTC' or 'Europe/Paris', got '"
            ~ time_zone ~ "'"
        ) }}
    {%- endif -%}
    {{ return(time_zone) }}
{%- endmacro %}


{#- A strptime pattern as a Java DateTimeFormatter pattern (Spark's to_timestamp), or a
    compile error naming a directive without a portable equivalent. -#}
{% macro northstar_strptime_to_java(format, field='format') -%}
    {%- set directives = {
        'Y': 'yyyy', 'y': 'yy', 'm': 'MM', 'd': 'dd', 'H': 'HH', 'I': 'hh', 'M': 'mm',
        'S': 'ss', 'f': 'SSSSSS', 'p': 'a', 'b': 'MMM', 'B': 'MMMM', 'j': 'DDD', 'z': 'XX',
        '%': '%',
    } -%}
    {%- set parts = [] -%}
    {%- set literal = [] -%}
    {%- set state = {'escape': false} -%}
    {%- for char in format -%}
        {%- if state.escape -%}
            {%- if char not in directives -%}
                {{ exceptions.raise_compiler_error(
                    field ~ ": the directive %" ~ char ~ " in '" ~ format ~ "' is not supported;"
                    ~ " use %" ~ directives.keys() | reject('equalto', '%') | join(', %')
                ) }}
            {%- endif -%}
            {%- if literal -%}
                {%- do parts.append("'" ~ literal | join('') | replace("'", "''") ~ "'") -%}
                {%- do literal.clear() -%}
            {%- endif -%}
            {%- do parts.append(directives[char]) -%}
            {%- do state.update({'escape': false}) -%}
        {%- elif char == '%' -%}
            {%- do state.update({'escape': true}) -%}
        {%- elif modules.re.fullmatch('[A-Za-z]', char) -%}
            {%- do literal.append(char) -%}
        {%- else -%}
            {%- if literal -%}
                {%- do parts.append("'" ~ literal | join('') ~ "'") -%}
                {%- do literal.clear() -%}
            {%- endif -%}
            {%- do parts.append("''" if char == "'" else char) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if literal -%}
        {%- do parts.append("'" ~ literal | join('') ~ "'") -%}
    {%- endif -%}
    {{ return(parts | join('')) }}
{%- endmacro %}


{#- The timestamp setting of a contract column: {'format', 'time_zone'}. -#}
{% macro northstar_raw_timestamp_setting(kind, name) -%}
    {%- set setting = northstar_raw_column_settings(kind)[name] -%}
    {{ return({'format': setting.format, 'time_zone': setting.time_zone}) }}
{%- endmacro %}


{#- The id of a row that has none: a hash of every column of the input row (in name
    order; not the file name or position), so exact duplicate rows get the same id and are
    counted as duplicates, and rows that differ in any column differ. Each value is
    written with its length (or '~' for null), so no two different rows write the same
    text. -#}
{% macro northstar_raw_derived_id(input_columns) -%}
    {%- set reader_columns = ['_northstar_raw_file', 'file_row_number'] -%}
    {%- set pieces = [] -%}
    {%- for column in input_columns | sort(attribute='name') if column.name | lower not in reader_columns -%}
        {%- set text = northstar_raw_as_text(column) -%}
        {%- do pieces.append(
            'coalesce(' ~ dbt.concat(['cast(' ~ dbt.length(text) ~ ' as ' ~ dbt.type_string() ~ ')', "':'", text]) ~ ", '~')"
        ) -%}
    {%- endfor -%}
    {{ return(dbt.hash(dbt.concat(pieces))) }}
{%- endmacro %}


{#- JSON object text from [(key, typed SQL expression)]; a null value is a JSON null. -#}
{% macro northstar_json_object(pairs) -%}
    {{ return(adapter.dispatch('northstar_json_object', 'northstar')(pairs)) }}
{%- endmacro %}

{% macro duckdb__northstar_json_object(pairs) -%}
    cast(json_object(
        {%- for key, expr in pairs %}
        '{{ key }}', {{ expr }}{{ ',' if not loop.last }}
        {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__northstar_json_object(pairs) -%}
    to_json(
        named_struct(
            {%- for key, expr in pairs %}
            '{{ key }}', {{ expr }}{{ ',' if not loop.last }}
            {%- endfor %}
        ),
        map('ignoreNullFields', 'false')
    )
{%- endmacro %}

{#- Postgres: written out rather than json_build_object, whose text has a space after
    each colon, so that properties read the same as DuckDB's and Spark's '{"k":1.5}'. -#}
{% macro postgres__northstar_json_object(pairs) -%}
    (
        '{'
        {%- for key, expr in pairs %}
        || {{ northstar_sql_string(('' if loop.first else ',') ~ tojson(key) ~ ':') }}
        || coalesce(cast(to_json({{ expr }}) as text), 'null')
        {%- endfor %}
        || '}'
    )
{%- endmacro %}

{% macro default__northstar_json_object(pairs) -%}
    {{ northstar_not_on_this_adapter('northstar_json_object', 'pairs') }}
{%- endmacro %}


{#- A property value of the given type from an input column's text: trimmed, and null
    when it does not convert (like a JSON property that is not a number). -#}
{% macro northstar_raw_typed_property(text, type) -%}
    {%- if type in ['number', 'integer', 'boolean'] -%}
        {{ return(northstar_try_cast_text(northstar_trim(text), type)) }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{#- Text as a number (double), integer (bigint) or boolean; null where it does not convert.
    Not dbt.safe_cast: dbt-duckdb and dbt-postgres leave it a plain cast, so one 'n/a' in a
    number column failed the whole build. DuckDB has try_cast; Postgres goes through the
    northstar_try_* functions. -#}
{% macro northstar_try_cast_text(text, type) -%}
    {{ return(adapter.dispatch('northstar_try_cast_text', 'northstar')(text, type)) }}
{%- endmacro %}

{% macro duckdb__northstar_try_cast_text(text, type) -%}
    {%- set types = {'number': 'double', 'integer': 'bigint', 'boolean': 'boolean'} -%}
    {{ return('try_cast(' ~ text ~ ' as ' ~ types[type] ~ ')') }}
{%- endmacro %}

{% macro default__northstar_try_cast_text(text, type) -%}
    {%- set types = {
        'number': northstar_type_double(), 'integer': dbt.type_bigint(), 'boolean': dbt.type_boolean()
    } -%}
    {{ return(dbt.safe_cast(text, types[type])) }}
{%- endmacro %}

{% macro postgres__northstar_try_cast_text(text, type) -%}
    {%- set functions = {
        'number': 'northstar_try_double', 'integer': 'northstar_try_bigint', 'boolean': 'northstar_try_boolean'
    } -%}
    {{ return(northstar_engine_function(functions[type]) ~ '(' ~ text ~ ')') }}
{%- endmacro %}
