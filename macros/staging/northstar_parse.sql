{#-
    Parsing raw text into typed values. Each macro takes a SQL expression of raw text and
    returns a SQL expression; DuckDB and Spark implementations where SQL differs.
-#}


{#- Blank and placeholder values that mean "missing", compared trimmed and lower-cased. -#}
{% macro northstar_missing_placeholders() -%}
    {{ return(['', 'null', 'undefined', 'none', 'nan']) }}
{%- endmacro %}


{#- Strip spaces, tabs and line breaks at both ends. -#}
{% macro northstar_trim(expr) -%}
    {{ return(adapter.dispatch('northstar_trim', 'northstar')(expr)) }}
{%- endmacro %}

{#- DuckDB's trim() is costly on wide inputs; most values need none, and LIKE finds the
    ones that do about six times faster than trimming everything. -#}
{% macro duckdb__northstar_trim(expr) -%}
    (
        case
            when
                {{ expr }} like ' %' or {{ expr }} like '% '
                or {{ expr }} like E'\t%' or {{ expr }} like E'%\t'
                or {{ expr }} like E'\n%' or {{ expr }} like E'%\n'
                or {{ expr }} like E'\r%' or {{ expr }} like E'%\r'
                then trim({{ expr }}, E' \t\n\r')
            else {{ expr }}
        end
    )
{%- endmacro %}

{% macro spark__northstar_trim(expr) -%}
    trim(both concat(' ', chr(9), chr(10), chr(13)) from {{ expr }})
{%- endmacro %}

{% macro postgres__northstar_trim(expr) -%}
    btrim({{ expr }}, E' \t\n\r')
{%- endmacro %}

{% macro default__northstar_trim(expr) -%}
    trim({{ expr }})
{%- endmacro %}


{#- An id or attribute: trimmed; null when blank or a placeholder ('null', 'undefined', ...). -#}
{% macro northstar_clean_text(expr) -%}
    {{ northstar_null_if_placeholder(northstar_trim(expr)) }}
{%- endmacro %}

{#- The same for text that is already trimmed (saves trimming twice on big inputs).
    One comparison per placeholder rather than `not in (...)`: DuckDB turns an IN list into
    a join that every row goes through, even the long values the first branch settles. -#}
{% macro northstar_null_if_placeholder(trimmed_expr) -%}
    {%- set placeholders = northstar_missing_placeholders() -%}
    {%- set longest = placeholders | map('length') | max -%}
    (
        case
            {#- Longer values cannot be placeholders: skip lower() for them (most ids). #}
            when length({{ trimmed_expr }}) > {{ longest }} then {{ trimmed_expr }}
            {%- for value in placeholders %}
            when lower({{ trimmed_expr }}) = '{{ value }}' then null
            {%- endfor %}
            else {{ trimmed_expr }}
        end
    )
{%- endmacro %}


{#- One form for event names: lower-cased, runs of spaces and hyphens -> '_'. Takes text
    already cleaned by northstar_clean_text (trimmed, placeholders null).
    northstar_normalize_event_name_value does the same to a Jinja string (the taxonomy). -#}
{% macro northstar_normalize_event_name(cleaned_expr) -%}
    {{ return(adapter.dispatch('northstar_normalize_event_name', 'northstar')(cleaned_expr)) }}
{%- endmacro %}

{% macro duckdb__northstar_normalize_event_name(cleaned_expr) -%}
    nullif(regexp_replace(lower({{ cleaned_expr }}), '[\s\-]+', '_', 'g'), '')
{%- endmacro %}

{% macro spark__northstar_normalize_event_name(cleaned_expr) -%}
    nullif(regexp_replace(lower({{ cleaned_expr }}), '[\\s\\-]+', '_'), '')
{%- endmacro %}

{% macro postgres__northstar_normalize_event_name(cleaned_expr) -%}
    nullif(regexp_replace(lower({{ cleaned_expr }}), '[\s-]+', '_', 'g'), '')
{%- endmacro %}

{% macro default__northstar_normalize_event_name(cleaned_expr) -%}
    {{ northstar_not_on_this_adapter('northstar_normalize_event_name', 'cleaned_expr') }}
{%- endmacro %}

{% macro northstar_normalize_event_name_value(value) -%}
    {{ return(modules.re.sub('[\\s\\-]+', '_', (value | string | trim | lower))) }}
{%- endmacro %}


{#-
    A timestamp in UTC without time zone, from text. `setting` is a timestamp column's
    {format, time_zone} (northstar_raw_timestamp_setting; none = auto, UTC):
    - format auto:
      - ISO 8601 / SQL text with a zone after the time: an offset or Z
        ('2024-05-01T10:00:00+02:00', '...Z'), or a zone name ('... UTC', '... Europe/Paris'):
        converted to UTC;
      - the same without a zone ('2024-05-01 10:00:00', '2024-05-01'): local time in
        `time_zone`;
      - all digits, read by their length, where it is unambiguous: 10 digits are epoch
        seconds (also with a decimal part), 13 digits epoch milliseconds, 8 digits a date
        YYYYMMDD (ISO 8601's basic form: '19970101' is 1997-01-01, never 1970-08-20); any
        other run of digits is null (unparseable): configure its format;
    - format epoch_seconds / epoch_milliseconds: digits (with an optional decimal part) in
      that unit; anything else is null;
    - a strptime pattern ('%d/%m/%Y %H:%M'): the text must match it; local time in
      `time_zone` unless the pattern reads an offset (%z);
    - anything that does not parse: null (the caller rejects it as unparseable).
    Text from TIMESTAMP columns ('2024-05-01 10:00:00') and TIMESTAMPTZ columns
    ('2024-05-01 10:00:00+00') reads back to the same instant.
-#}
{% macro northstar_parse_timestamp_utc(expr, setting=none) -%}
    {%- set setting = setting or {'format': 'auto', 'time_zone': 'UTC'} -%}
    {{ return(adapter.dispatch('northstar_parse_timestamp_utc', 'northstar')(expr, setting)) }}
{%- endmacro %}

{#- The regular expressions of the auto rules, shared by the engines. -#}
{% macro northstar_timestamp_patterns() -%}
    {{ return({
        'utc_iso': '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z',
        'epoch_seconds': '[0-9]{10}',
        'epoch_milliseconds': '[0-9]{13}',
        'epoch_seconds_fraction': '[0-9]{10}\\.[0-9]+',
        'yyyymmdd': '[0-9]{8}',
        'number': '[0-9]+(\\.[0-9]+)?',
        'zone_after_time': '[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]*)?)? *[A-Z+-][A-Z0-9_/:+-]*$',
    }) }}
{%- endmacro %}

{#- DuckDB: casting text with an offset to TIMESTAMP drops the offset, so zoned text goes
    through TIMESTAMPTZ and timezone('UTC', ...), which does not depend on the session's
    TimeZone setting. Zone-less text is cast straight to TIMESTAMP (no session zone), then
    read in the configured zone when it is not UTC. -#}
{#- The first branch is a fast path for the shape most feeds send
    ('2024-05-01T10:00:00.123Z'): it gives what the zoned branch would, about three times
    cheaper, because UTC text needs no zone conversion. -#}
{% macro duckdb__northstar_parse_timestamp_utc(expr, setting) -%}
    {%- set patterns = northstar_timestamp_patterns() -%}
    {%- set zone = setting.time_zone -%}
    {%- set format = setting.format -%}
    {%- if format in ['epoch_seconds', 'epoch_milliseconds'] -%}
    (
        case
            when regexp_full_match({{ expr }}, '{{ patterns.number }}')
                then make_timestamp(cast(round(
                    cast({{ expr }} as decimal(38, 6))
                    * {{ 1000000 if format == 'epoch_seconds' else 1000 }}
                ) as bigint))
        end
    )
    {%- elif format != 'auto' and ('%z' in format or '%Z' in format) -%}
    timezone('UTC', try_strptime({{ expr }}, {{ northstar_sql_string(format) }}))
    {%- elif format != 'auto' -%}
    {{ northstar_local_to_utc('try_strptime(' ~ expr ~ ', ' ~ northstar_sql_string(format) ~ ')', zone) }}
    {%- else -%}
    (
        case
            when regexp_full_match({{ expr }}, '{{ patterns.utc_iso }}')
                then try_cast(left({{ expr }}, -1) as timestamp)
            when regexp_full_match({{ expr }}, '{{ patterns.epoch_seconds }}')
                then timezone('UTC', to_timestamp(cast({{ expr }} as bigint)))
            when regexp_full_match({{ expr }}, '{{ patterns.epoch_milliseconds }}')
                then epoch_ms(cast({{ expr }} as bigint))
            when regexp_full_match({{ expr }}, '{{ patterns.epoch_seconds_fraction }}')
                then timezone('UTC', to_timestamp(cast({{ expr }} as double)))
            when regexp_full_match({{ expr }}, '{{ patterns.yyyymmdd }}')
                then {{ northstar_local_to_utc("try_strptime(" ~ expr ~ ", '%Y%m%d')", zone) }}
            {#- Other runs of digits have no unambiguous reading. #}
            when regexp_full_match({{ expr }}, '{{ patterns.number }}') then null
            when regexp_matches(upper({{ expr }}), '{{ patterns.zone_after_time }}')
                then timezone('UTC', try_cast(upper({{ expr }}) as timestamptz))
            else {{ northstar_local_to_utc('try_cast(upper(' ~ expr ~ ') as timestamp)', zone) }}
        end
    )
    {%- endif -%}
{%- endmacro %}

{#- A zone-less timestamp read as local time in `zone`, as UTC (unchanged for UTC). -#}
{% macro northstar_local_to_utc(timestamp_expr, zone) -%}
    {{ return(adapter.dispatch('northstar_local_to_utc', 'northstar')(timestamp_expr, zone)) }}
{%- endmacro %}

{% macro default__northstar_local_to_utc(timestamp_expr, zone) -%}
    {{ northstar_not_on_this_adapter('northstar_local_to_utc', 'timestamp_expr, zone') }}
{%- endmacro %}

{% macro duckdb__northstar_local_to_utc(timestamp_expr, zone) -%}
    {%- if zone == 'UTC' -%}
        {{ timestamp_expr }}
    {%- else -%}
        timezone('UTC', timezone({{ northstar_sql_string(zone) }}, {{ timestamp_expr }}))
    {%- endif -%}
{%- endmacro %}

{#- Spark: assumes spark.sql.session.timeZone = UTC (as DuckDB's output is UTC). Its cast
    honours offsets, Z and zone names ('Europe/Paris', case-sensitive there); a lower-case
    t or z is upper-cased first. Its cast reads bare digits as a year ('2024'), so those
    are settled before it. Patterns go through Java's DateTimeFormatter
    (northstar_strptime_to_java). -#}
{% macro spark__northstar_parse_timestamp_utc(expr, setting) -%}
    {#- Spark's string literals take backslash escapes: each one in a pattern is doubled. -#}
    {%- set patterns = {} -%}
    {%- for name, pattern in northstar_timestamp_patterns().items() -%}
        {%- do patterns.update({name: pattern | replace('\\', '\\\\')}) -%}
    {%- endfor -%}
    {%- set zone = setting.time_zone -%}
    {%- set format = setting.format -%}
    {%- if format in ['epoch_seconds', 'epoch_milliseconds'] -%}
    (
        case
            when {{ expr }} rlike '^{{ patterns.number }}$'
                then timestamp_micros(cast(
                    cast({{ expr }} as decimal(38, 6))
                    * {{ 1000000 if format == 'epoch_seconds' else 1000 }}
                as bigint))
        end
    )
    {%- elif format != 'auto' and '%z' in format -%}
    try_to_timestamp({{ expr }}, {{ northstar_sql_string(northstar_strptime_to_java(format)) }})
    {%- elif format != 'auto' -%}
    {{ northstar_local_to_utc(
        'try_to_timestamp(' ~ expr ~ ', ' ~ northstar_sql_string(northstar_strptime_to_java(format)) ~ ')', zone
    ) }}
    {%- else -%}
    {%- set cast_text -%}
        try_cast(
            regexp_replace(regexp_replace({{ expr }}, 'z$', 'Z'), '([0-9])t([0-9])', '$1T$2')
            as timestamp
        )
    {%- endset -%}
    (
        case
            when {{ expr }} rlike '^{{ patterns.epoch_seconds }}$'
                then timestamp_seconds(cast({{ expr }} as bigint))
            when {{ expr }} rlike '^{{ patterns.epoch_milliseconds }}$'
                then timestamp_millis(cast({{ expr }} as bigint))
            when {{ expr }} rlike '^{{ patterns.epoch_seconds_fraction }}$'
                then timestamp_micros(cast(cast({{ expr }} as double) * 1000000 as bigint))
            when {{ expr }} rlike '^{{ patterns.yyyymmdd }}$'
                then {{ northstar_local_to_utc("try_to_timestamp(" ~ expr ~ ", 'yyyyMMdd')", zone) }}
            when {{ expr }} rlike '^{{ patterns.number }}$' then null
            {%- if zone != 'UTC' %}
            when upper({{ expr }}) rlike '{{ patterns.zone_after_time }}' then {{ cast_text }}
            else {{ northstar_local_to_utc(cast_text, zone) }}
            {%- else %}
            else {{ cast_text }}
            {%- endif %}
        end
    )
    {%- endif -%}
{%- endmacro %}

{% macro spark__northstar_local_to_utc(timestamp_expr, zone) -%}
    {%- if zone == 'UTC' -%}
        {{ timestamp_expr }}
    {%- else -%}
        to_utc_timestamp({{ timestamp_expr }}, {{ northstar_sql_string(zone) }})
    {%- endif -%}
{%- endmacro %}

{#- Postgres: no cast returns null on bad text, so casts go through the northstar_try_*
    functions (northstar_create_engine_functions), and only on text shaped like what
    DuckDB reads (year first): Postgres's own input reads much more ('May 1 2024',
    '01/02/2024' month first, 'epoch', 'today') that DuckDB and Spark reject. Epoch
    digits become microseconds added to 1970-01-01 as a whole number, exact like DuckDB's.
    strptime patterns become to_timestamp patterns (northstar_strptime_to_postgres). -#}
{% macro postgres__northstar_parse_timestamp_utc(expr, setting) -%}
    {%- set patterns = northstar_timestamp_patterns() -%}
    {%- set zone = setting.time_zone -%}
    {%- set format = setting.format -%}
    {%- set iso_date = '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}' -%}
    {%- set zoneless = iso_date ~ '([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?$' -%}
    {%- if format in ['epoch_seconds', 'epoch_milliseconds'] -%}
    (
        case
            when {{ expr }} ~ '^{{ patterns.number }}$'
                then {{ _northstar_postgres_epoch_micros(
                    'round(cast(' ~ expr ~ ' as numeric) * '
                    ~ (1000000 if format == 'epoch_seconds' else 1000) ~ ')'
                ) }}
        end
    )
    {%- elif format != 'auto' -%}
    {%- set translated = northstar_strptime_to_postgres(format) -%}
    {%- set text = expr -%}
    {%- if '%z' in format -%}
        {#- to_timestamp's TZHTZM reads +0200; strptime's %z also takes +02:00. -#}
        {%- set text = "regexp_replace(" ~ expr ~ ", '([+-][0-9]{2}):([0-9]{2})$', '\\1\\2')" -%}
    {%- endif -%}
    {%- set parsed = northstar_engine_function('northstar_try_strptime') ~ '(' ~ text ~ ', '
        ~ northstar_sql_string(translated.pattern) ~ ')' -%}
    (
        case
            when {{ expr }} ~ {{ northstar_sql_string(translated.regex) }}
                then {{ parsed if '%z' in format else northstar_local_to_utc(parsed, zone) }}
        end
    )
    {%- else -%}
    (
        case
            when {{ expr }} ~ '^{{ patterns.epoch_seconds }}$'
                then {{ _northstar_postgres_epoch_micros('cast(' ~ expr ~ ' as bigint) * 1000000') }}
            when {{ expr }} ~ '^{{ patterns.epoch_milliseconds }}$'
                then {{ _northstar_postgres_epoch_micros('cast(' ~ expr ~ ' as bigint) * 1000') }}
            when {{ expr }} ~ '^{{ patterns.epoch_seconds_fraction }}$'
                then {{ _northstar_postgres_epoch_micros('round(cast(' ~ expr ~ ' as numeric) * 1000000)') }}
            when {{ expr }} ~ '^{{ patterns.yyyymmdd }}$'
                then {{ northstar_local_to_utc(
                    northstar_engine_function('northstar_try_timestamp') ~ '(substr(' ~ expr ~ ', 1, 4)'
                    ~ " || '-' || substr(" ~ expr ~ ", 5, 2) || '-' || substr(" ~ expr ~ ', 7, 2))',
                    zone
                ) }}
            when {{ expr }} ~ '^{{ patterns.number }}$' then null
            when upper({{ expr }}) ~ '{{ iso_date }}' and upper({{ expr }}) ~ '{{ patterns.zone_after_time }}'
                then {{ northstar_engine_function('northstar_try_timestamp_utc') }}(upper({{ expr }}))
            when upper({{ expr }}) ~ '{{ zoneless }}'
                then {{ northstar_local_to_utc(
                    northstar_engine_function('northstar_try_timestamp') ~ '(upper(' ~ expr ~ '))', zone
                ) }}
        end
    )
    {%- endif -%}
{%- endmacro %}

{#- A strptime pattern as {'pattern': a Postgres to_timestamp pattern, 'regex': what the
    whole text must match}. to_timestamp is lenient (it skips what does not fit, reads
    '1997-01-01' with YYYYMMDD), strptime is not, so the text must match the regex first;
    literal characters are quoted, so each skips exactly one character. Directives are
    those northstar_strptime_to_java accepts (it validated the pattern already). -#}
{% macro northstar_strptime_to_postgres(format) -%}
    {%- set directives = {
        'Y': ['YYYY', '[0-9]{4}'], 'y': ['YY', '[0-9]{2}'], 'm': ['MM', '[0-9]{1,2}'],
        'd': ['DD', '[0-9]{1,2}'], 'H': ['HH24', '[0-9]{1,2}'], 'I': ['HH12', '[0-9]{1,2}'],
        'M': ['MI', '[0-9]{1,2}'], 'S': ['SS', '[0-9]{1,2}'], 'f': ['US', '[0-9]{1,6}'],
        'p': ['AM', '([AaPp][Mm])'], 'b': ['Mon', '[A-Za-z]{3}'], 'B': ['Month', '[A-Za-z]+'],
        'j': ['DDD', '[0-9]{1,3}'], 'z': ['TZHTZM', '[+-][0-9]{2}:?[0-9]{2}'],
    } -%}
    {%- set pattern = [] -%}
    {%- set regex = ['^'] -%}
    {%- set state = {'escape': false} -%}
    {%- for char in format -%}
        {%- if state.escape and char in directives -%}
            {%- do pattern.append(directives[char][0]) -%}
            {%- do regex.append(directives[char][1]) -%}
            {%- do state.update({'escape': false}) -%}
        {%- elif char == '%' and not state.escape -%}
            {%- do state.update({'escape': true}) -%}
        {%- else -%}
            {%- do pattern.append('"' ~ ('\\"' if char == '"' else char) ~ '"') -%}
            {%- do regex.append(modules.re.escape(char)) -%}
            {%- do state.update({'escape': false}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'pattern': pattern | join(''), 'regex': regex | join('') ~ '$'}) }}
{%- endmacro %}

{#- Microseconds since 1970-01-01 (a whole number) as a timestamp, exact: a bigint times
    an interval of one microsecond is computed in whole microseconds up to 2^53 (year 2255). -#}
{% macro _northstar_postgres_epoch_micros(micros_expr) -%}
    (timestamp '1970-01-01 00:00:00' + cast({{ micros_expr }} as bigint) * interval '1 microsecond')
{%- endmacro %}

{#- `at time zone` twice: the zone-less value read as local time in `zone` gives an
    instant (timestamptz), which is then written as UTC wall time. -#}
{% macro postgres__northstar_local_to_utc(timestamp_expr, zone) -%}
    {%- if zone == 'UTC' -%}
        {{ timestamp_expr }}
    {%- else -%}
        (({{ timestamp_expr }}) at time zone {{ northstar_sql_string(zone) }} at time zone 'UTC')
    {%- endif -%}
{%- endmacro %}

{% macro default__northstar_parse_timestamp_utc(expr, setting) -%}
    {{ northstar_not_on_this_adapter('northstar_parse_timestamp_utc', 'expr, setting') }}
{%- endmacro %}


{#- A timestamp literal (UTC) from a Jinja string 'YYYY-MM-DD[ HH:MM:SS]'. -#}
{% macro northstar_timestamp_literal(value) -%}
    cast('{{ value }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#-
    The build's reference time ("now" for the future check, the end of the period spine),
    resolved here and nowhere else, so plain `dbt build` and `northstar build` agree:
    1. var northstar__as_of (dbt_project.yml defaults it to $NORTHSTAR_AS_OF);
    2. else `as_of` in the raw data's own manifest (var northstar__raw_manifest_path; the
       demo generator writes one, because its events end on a fixed date);
    3. else none: the future check uses the start of this dbt invocation and the spine
       ends at the latest accepted event.
    Returns {'at': 'YYYY-MM-DD HH:MM:SS' (UTC) or none, 'source': 'var' | 'raw_manifest' |
    'run_started_at', 'detail': what to print}. The manifest is read with run_query, so
    only when `execute` is true; at parse time nothing reads the answer.
-#}
{% macro northstar_reference_time() -%}
    {%- set configured = (var('northstar__as_of', '') or '') | string | trim -%}
    {%- if configured != '' -%}
        {{ return({
            'at': northstar_parse_as_of(configured, 'var northstar__as_of'),
            'source': 'var',
            'detail': 'var northstar__as_of',
        }) }}
    {%- endif -%}
    {%- set manifest = northstar_raw_manifest_path() -%}
    {%- if execute and manifest != '' -%}
        {%- set from_manifest = northstar_raw_manifest_as_of(manifest) -%}
        {%- if from_manifest -%}
            {{ return({
                'at': northstar_parse_as_of(from_manifest, "'as_of' in " ~ manifest),
                'source': 'raw_manifest',
                'detail': "'as_of' in " ~ manifest,
            }) }}
        {%- endif -%}
    {%- endif -%}
    {{ return({
        'at': none,
        'source': 'run_started_at',
        'detail': 'the start of this dbt run (no northstar__as_of, no raw manifest)',
    }) }}
{%- endmacro %}


{#- The manifest path, or '' when there is none to read: it describes the raw files of its
    own directory, so it is only trusted when the events are read from that directory (a
    demo manifest left in data/raw must not set the clock for events read elsewhere). -#}
{% macro northstar_raw_manifest_path() -%}
    {%- set path = ((var('northstar__raw_manifest_path', '') or '') | string | trim) -%}
    {%- set events = northstar_raw_path('events') -%}
    {%- set directory = path.rpartition('/')[0] -%}
    {%- set prefix = directory ~ '/' if directory else '' -%}
    {%- if path == '' or events == '' or not events.startswith(prefix) -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(path) }}
{%- endmacro %}


{#- `as_of` of the raw manifest as an ISO string, or none when there is no such file. A
    file that exists but says nothing usable is an error: falling back to the wall clock
    would silently accept the data's future-dated rows. -#}
{% macro northstar_raw_manifest_as_of(path) -%}
    {{ return(adapter.dispatch('northstar_raw_manifest_as_of', 'northstar')(path)) }}
{%- endmacro %}

{% macro duckdb__northstar_raw_manifest_as_of(path) -%}
    {%- if not northstar_raw_files_exist(path) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set hint = " Fix the file, or set northstar__as_of (or NORTHSTAR_AS_OF) to pin the"
        ~ " reference time, or northstar__raw_manifest_path to '' to use the wall clock." -%}
    {%- set source = "from read_text(" ~ northstar_sql_string(path) ~ ")" -%}
    {#- Checked first, apart: DuckDB evaluates the extraction below even where a case
        expression would skip it, and fails on text that is not JSON. -#}
    {%- set valid = run_query("select json_valid(content) and left(trim(content), 1) = '{' " ~ source) -%}
    {%- if valid.rows | length != 1 or not valid.rows[0][0] -%}
        {{ exceptions.raise_compiler_error(
            "northstar: the raw manifest '" ~ path ~ "' (var northstar__raw_manifest_path) is not"
            ~ " one JSON object." ~ hint
        ) }}
    {%- endif -%}
    {#- Manifests written before the generator recorded as_of: its definition, midnight
        after the last generated day. -#}
    {%- set result = run_query(
        "select coalesce("
        ~ " json_extract_string(content, '$.as_of'),"
        ~ " case when json_extract_string(content, '$.generator') = 'northstar.demo' then"
        ~ " strftime(cast(json_extract_string(content, '$.params.start_date') as date)"
        ~ " + cast(json_extract_string(content, '$.params.days') as integer), '%Y-%m-%dT00:00:00')"
        ~ " end) " ~ source
    ) -%}
    {%- if result.rows[0][0] is none -%}
        {{ exceptions.raise_compiler_error(
            "northstar: the raw manifest '" ~ path ~ "' (var northstar__raw_manifest_path) has no"
            ~ " 'as_of' (the ISO 8601 time the data is complete up to)." ~ hint
        ) }}
    {%- endif -%}
    {{ return(result.rows[0][0] | string) }}
{%- endmacro %}

{#- Other adapters cannot read a local file from SQL without failing when it is absent
    (Spark's text reader raises): they take the reference time from northstar__as_of. -#}
{% macro default__northstar_raw_manifest_as_of(path) -%}
    {{ return(none) }}
{%- endmacro %}


{#- An ISO 8601 text as 'YYYY-MM-DD HH:MM:SS' in UTC (an offset converts), or a compile
    error naming where the text came from. -#}
{% macro northstar_parse_as_of(text, origin) -%}
    {%- set iso = '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?' -%}
    {%- if not modules.re.fullmatch(iso, text) -%}
        {{ exceptions.raise_compiler_error(
            origin ~ " must be an ISO 8601 timestamp such as '2024-06-30T00:00:00Z', got '"
            ~ text ~ "'"
        ) }}
    {%- endif -%}
    {%- set parsed = modules.datetime.datetime.fromisoformat(text.replace('Z', '+00:00')) -%}
    {%- if parsed.tzinfo is not none -%}
        {%- set parsed = parsed.astimezone(modules.pytz.utc).replace(tzinfo=none) -%}
    {%- endif -%}
    {{ return(parsed.strftime('%Y-%m-%d %H:%M:%S')) }}
{%- endmacro %}


{#- The reference time as a UTC timestamp literal; the run's start when none is set, so
    every model of one invocation uses the same instant. -#}
{% macro northstar_as_of_timestamp() -%}
    {%- set reference = northstar_reference_time() -%}
    {%- set at = reference.at or run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
    {{ return(northstar_timestamp_literal(at)) }}
{%- endmacro %}


{#- on-run-start: say which clock this run uses, so a scheduler's log shows it. -#}
{% macro northstar_log_reference_time() -%}
    {%- if execute -%}
        {%- set reference = northstar_reference_time() -%}
        {{ log(
            "northstar: reference time "
            ~ (reference.at or run_started_at.strftime('%Y-%m-%d %H:%M:%S')) ~ " UTC, from "
            ~ reference.detail,
            info=true
        ) }}
    {%- endif -%}
    select 1 as northstar_reference_time_logged
{%- endmacro %}


{#- True when the text is a JSON object (not an array, scalar, or invalid JSON). -#}
{% macro northstar_is_json_object(expr) -%}
    {{ return(adapter.dispatch('northstar_is_json_object', 'northstar')(expr)) }}
{%- endmacro %}

{#- A valid JSON text that starts with '{' is an object; json_valid parses only once. -#}
{% macro duckdb__northstar_is_json_object(expr) -%}
    coalesce(left({{ expr }}, 1) = '{' and json_valid({{ expr }}), false)
{%- endmacro %}

{#- Spark: from_json into a map is null unless the text is an object; NaN and Infinity
    are allowed, as DuckDB's parser allows them. -#}
{% macro spark__northstar_is_json_object(expr) -%}
    coalesce(
        left({{ expr }}, 1) = '{'
        and from_json(
            {{ expr }}, 'map<string,string>', map('allowNonNumericNumbers', 'true')
        ) is not null,
        false
    )
{%- endmacro %}

{#- Postgres: its JSON parser rejects NaN and Infinity, which DuckDB's and Spark's allow,
    so properties holding them are rejected there (docs/engines.md). -#}
{% macro postgres__northstar_is_json_object(expr) -%}
    coalesce(
        left({{ expr }}, 1) = '{'
        and json_typeof({{ northstar_engine_function('northstar_try_json') }}({{ expr }})) = 'object',
        false
    )
{%- endmacro %}

{% macro default__northstar_is_json_object(expr) -%}
    {{ northstar_not_on_this_adapter('northstar_is_json_object', 'expr') }}
{%- endmacro %}


{#- A raw row whose values together are longer than this many characters is rejected as
    row_too_long: a runaway export (a 3 MB property blob, a line that swallowed its
    neighbours), not an event. 2 MB is where DuckDB's CSV reader used to fail the build. -#}
{% macro northstar_max_row_chars() -%}
    {%- set limit = var('northstar__max_row_chars', 2097152) -%}
    {%- if limit is not number or limit is boolean or limit < 1024 -%}
        {{ exceptions.raise_compiler_error(
            "northstar__max_row_chars must be a whole number of characters, at least 1024; got '"
            ~ limit ~ "' (dbt_project.yml vars)"
        ) }}
    {%- endif -%}
    {{ return(limit | int) }}
{%- endmacro %}


{#- The reject_reason codes, in precedence order: a row gets the first one that applies.
    stg_northstar_raw__events_classified implements the checks in this order; the quality mart
    has one column per code; the accepted_values tests read this list. -#}
{% macro northstar_reject_reasons() -%}
    {{ return([
        'row_too_long',
        'missing_event_id',
        'invalid_event_id',
        'missing_event_name',
        'unknown_event_name',
        'missing_occurred_at',
        'unparseable_occurred_at',
        'occurred_in_future',
        'before_start_date',
        'missing_entity_id',
        'invalid_entity_id',
        'properties_not_json_object',
    ]) }}
{%- endmacro %}


{#- A compile error for an engine that has no version of a dispatched macro yet: names the
    macro to add, instead of dbt's generic "no macro found" message. -#}
{% macro northstar_not_on_this_adapter(macro_name, arguments) -%}
    {{ exceptions.raise_compiler_error(
        macro_name ~ " has no implementation for the '" ~ target.type ~ "' adapter: add a macro "
        ~ target.type ~ "__" ~ macro_name ~ "(" ~ arguments ~ ") in your project "
        ~ "(northstar ships DuckDB, Spark and Postgres versions; see docs/engines.md)."
    ) }}
{%- endmacro %}
