{#-
    Read one top-level key of a JSON object held as text.

    Both macros expect json_text_expr to be valid JSON text (stg_events.properties
    always is: staging rejects anything that is not a JSON object). A missing key,
    a JSON null, or a value of the wrong kind gives null, never an error, so a
    metric over a property that some events lack simply skips those events.
-#}

{% macro northstar_json_string(json_text_expr, key) -%}
    {{ return(adapter.dispatch('northstar_json_string', 'northstar')(json_text_expr, key)) }}
{%- endmacro %}

{% macro northstar_json_number(json_text_expr, key) -%}
    {{ return(adapter.dispatch('northstar_json_number', 'northstar')(json_text_expr, key)) }}
{%- endmacro %}


{#- '$."key"': quoting the key keeps dots and spaces in key names literal. -#}
{% macro _northstar_json_path(key) -%}
    {%- if key is not string or key | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "northstar_json_string/northstar_json_number: key must be a non-empty string, got "
            ~ (key | string)
        ) }}
    {%- endif -%}
    '$."{{ key | replace("\\", "\\\\") | replace('"', '\\"') | replace("'", "''") }}"'
{%- endmacro %}


{% macro duckdb__northstar_json_string(json_text_expr, key) -%}
    json_extract_string({{ json_text_expr }}, {{ _northstar_json_path(key) }})
{%- endmacro %}

{#- A JSON number, or a string holding one ("12.5"): feeds often stringify numbers.
    NaN and +-Infinity (which DuckDB's JSON reader accepts) become null. -#}
{% macro duckdb__northstar_json_number(json_text_expr, key) -%}
    (
        case
            when
                isfinite(
                    try_cast(json_extract_string({{ json_text_expr }}, {{ _northstar_json_path(key) }}) as double)
                )
                then try_cast(json_extract_string({{ json_text_expr }}, {{ _northstar_json_path(key) }}) as double)
        end
    )
{%- endmacro %}


{#- Spark: get_json_object returns null for a missing key or invalid JSON. -#}
{% macro _northstar_spark_json_path(key) -%}
    {%- if key is not string or key | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "northstar_json_string/northstar_json_number: key must be a non-empty string, got "
            ~ (key | string)
        ) }}
    {%- endif -%}
    '$[\'{{ key | replace("\\", "\\\\") | replace("'", "\\'") }}\']'
{%- endmacro %}

{% macro spark__northstar_json_string(json_text_expr, key) -%}
    get_json_object({{ json_text_expr }}, {{ _northstar_spark_json_path(key) }})
{%- endmacro %}

{% macro spark__northstar_json_number(json_text_expr, key) -%}
    (
        case
            when
                not isnan(try_cast(get_json_object({{ json_text_expr }}, {{ _northstar_spark_json_path(key) }}) as double))
                and abs(try_cast(get_json_object({{ json_text_expr }}, {{ _northstar_spark_json_path(key) }}) as double))
                < double('Infinity')
                then try_cast(get_json_object({{ json_text_expr }}, {{ _northstar_spark_json_path(key) }}) as double)
        end
    )
{%- endmacro %}


{#- Postgres: ->> of the text read as json, the key a plain literal (dots and spaces stay
    literal). Through northstar_try_json: Postgres's parser rejects NaN and Infinity, which
    DuckDB's reads, and a cast would fail the query; here such text gives null. -#}
{% macro postgres__northstar_json_string(json_text_expr, key) -%}
    {%- do _northstar_json_path(key) -%}
    ({{ northstar_engine_function('northstar_try_json') }}({{ json_text_expr }}) ->> {{ northstar_sql_string(key) }})
{%- endmacro %}

{#- A number or numeric string; NaN and +-Infinity (which Postgres's float input reads)
    become null, as on DuckDB. -#}
{% macro postgres__northstar_json_number(json_text_expr, key) -%}
    {%- set number = northstar_engine_function('northstar_try_double') ~ '('
        ~ postgres__northstar_json_string(json_text_expr, key) ~ ')' -%}
    (case when {{ northstar_is_finite(number) }} then {{ number }} end)
{%- endmacro %}


{% macro default__northstar_json_string(json_text_expr, key) -%}
    {{ exceptions.raise_compiler_error(
        "northstar_json_string has no implementation for the '" ~ target.type ~ "' adapter: "
        ~ "add a macro " ~ target.type ~ "__northstar_json_string(json_text_expr, key) "
        ~ "in your project (northstar ships DuckDB, Spark and Postgres versions)."
    ) }}
{%- endmacro %}

{% macro default__northstar_json_number(json_text_expr, key) -%}
    {{ exceptions.raise_compiler_error(
        "northstar_json_number has no implementation for the '" ~ target.type ~ "' adapter: "
        ~ "add a macro " ~ target.type ~ "__northstar_json_number(json_text_expr, key) "
        ~ "in your project (northstar ships DuckDB, Spark and Postgres versions)."
    ) }}
{%- endmacro %}
