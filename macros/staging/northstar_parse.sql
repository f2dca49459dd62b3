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

{% macro default__northstar_trim(expr) -%}
    trim({{ expr }})
{%- endmacro %}


{#- An id or attribute: trimmed; null when blank or a placeholder ('null', 'undefined', ...). -#}
{% macro northstar_clean_text(expr) -%}
    {{ northstar_null_if_placeholder(northstar_trim(expr)) }}
{%- endmacro %}

{#- The same for text that is already trimmed (saves trimming twice on big inputs). -#}
{% macro northstar_null_if_placeholder(trimmed_expr) -%}
    {%- set placeholders = northstar_missing_placeholders() -%}
    {%- set longest = placeholders | map('length') | max -%}
    (
        case
            {#- Longer values cannot be placeholders: skip lower() for them (most ids). #}
            when length({{ trimmed_expr }}) > {{ longest }} then {{ trimmed_expr }}
            when
                lower({{ trimmed_expr }}) not in (
                    {%- for value in placeholders -%}
                        '{{ value }}'{{ ', ' if not loop.last }}
                    {%- endfor -%}
                )
                then {{ trimmed_expr }}
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

{% macro default__northstar_normalize_event_name(cleaned_expr) -%}
    {{ northstar_not_on_this_adapter('northstar_normalize_event_name', 'cleaned_expr') }}
{%- endmacro %}

{% macro northstar_normalize_event_name_value(value) -%}
    {{ return(modules.re.sub('[\\s\\-]+', '_', (value | string | trim | lower))) }}
{%- endmacro %}


{#-
    A timestamp in UTC without time zone, from text:
    - ISO 8601 / SQL text with a zone after the time: an offset or Z
      ('2024-05-01T10:00:00+02:00', '...Z'), or a zone name ('... UTC', '... Europe/Paris'):
      converted to UTC;
    - the same without a zone ('2024-05-01 10:00:00', '2024-05-01'): taken as UTC;
    - all digits: epoch seconds (up to 11 digits) or epoch milliseconds (12 to 14 digits);
      digits with a decimal part: epoch seconds with a fraction;
    - anything else: null (the caller rejects it as unparseable).
    Text from TIMESTAMP columns ('2024-05-01 10:00:00') and TIMESTAMPTZ columns
    ('2024-05-01 10:00:00+00') reads back to the same instant.
-#}
{% macro northstar_parse_timestamp_utc(expr) -%}
    {{ return(adapter.dispatch('northstar_parse_timestamp_utc', 'northstar')(expr)) }}
{%- endmacro %}

{#- DuckDB: casting text with an offset to TIMESTAMP drops the offset, so zoned text goes
    through TIMESTAMPTZ and timezone('UTC', ...), which does not depend on the session's
    TimeZone setting. Zone-less text is cast straight to TIMESTAMP (no session zone). -#}
{% macro duckdb__northstar_parse_timestamp_utc(expr) -%}
    (
        case
            when regexp_full_match({{ expr }}, '[0-9]{1,11}')
                then timezone('UTC', to_timestamp(cast({{ expr }} as bigint)))
            when regexp_full_match({{ expr }}, '[0-9]{12,14}')
                then epoch_ms(cast({{ expr }} as bigint))
            when regexp_full_match({{ expr }}, '[0-9]{1,11}\.[0-9]+')
                then timezone('UTC', to_timestamp(cast({{ expr }} as double)))
            when
                regexp_matches(
                    upper({{ expr }}),
                    '[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]*)?)? *[A-Z+-][A-Z0-9_/:+-]*$'
                )
                then timezone('UTC', try_cast(upper({{ expr }}) as timestamptz))
            else try_cast(upper({{ expr }}) as timestamp)
        end
    )
{%- endmacro %}

{#- Spark: assumes spark.sql.session.timeZone = UTC (as DuckDB's output is UTC). Its cast
    honours offsets, Z and zone names ('Europe/Paris', case-sensitive there); a lower-case
    t or z is upper-cased first. -#}
{% macro spark__northstar_parse_timestamp_utc(expr) -%}
    (
        case
            when {{ expr }} rlike '^[0-9]{1,11}$'
                then timestamp_seconds(cast({{ expr }} as bigint))
            when {{ expr }} rlike '^[0-9]{12,14}$'
                then timestamp_millis(cast({{ expr }} as bigint))
            when {{ expr }} rlike '^[0-9]{1,11}\\.[0-9]+$'
                then timestamp_micros(cast(cast({{ expr }} as double) * 1000000 as bigint))
            else try_cast(
                regexp_replace(regexp_replace({{ expr }}, 'z$', 'Z'), '([0-9])t([0-9])', '$1T$2')
                as timestamp
            )
        end
    )
{%- endmacro %}

{% macro default__northstar_parse_timestamp_utc(expr) -%}
    {{ northstar_not_on_this_adapter('northstar_parse_timestamp_utc', 'expr') }}
{%- endmacro %}


{#- A timestamp literal (UTC) from a Jinja string 'YYYY-MM-DD[ HH:MM:SS]'. -#}
{% macro northstar_timestamp_literal(value) -%}
    cast('{{ value }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}


{#-
    The reference time for "in the future" checks, as a UTC timestamp literal: var
    northstar__as_of when set (ISO 8601, an offset converts to UTC), else the time this dbt
    invocation started, so every model of one run uses the same instant.
-#}
{% macro northstar_as_of_timestamp() -%}
    {%- set as_of = (var('northstar__as_of', '') or '') | string | trim -%}
    {%- if as_of == '' -%}
        {{ return(northstar_timestamp_literal(run_started_at.strftime('%Y-%m-%d %H:%M:%S'))) }}
    {%- endif -%}
    {%- set iso = '[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?' -%}
    {%- if not modules.re.fullmatch(iso, as_of) -%}
        {{ exceptions.raise_compiler_error(
            "var northstar__as_of must be an ISO 8601 timestamp such as '2024-06-30T00:00:00Z', got '"
            ~ as_of ~ "'"
        ) }}
    {%- endif -%}
    {%- set parsed = modules.datetime.datetime.fromisoformat(as_of.replace('Z', '+00:00')) -%}
    {%- if parsed.tzinfo is not none -%}
        {%- set parsed = parsed.astimezone(modules.pytz.utc).replace(tzinfo=none) -%}
    {%- endif -%}
    {{ return(northstar_timestamp_literal(parsed.strftime('%Y-%m-%d %H:%M:%S'))) }}
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
    stg_northstar_raw__events_parsed implements the checks in this order; the quality mart
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
        ~ "(northstar ships DuckDB and Spark versions; see docs/raw-event-contract.md)."
    ) }}
{%- endmacro %}
