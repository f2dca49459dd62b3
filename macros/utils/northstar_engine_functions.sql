{#-
    SQL functions an engine lacks, created before any model runs (on-run-start).

    Staging reads untrusted text: a value that does not parse must become null (then the
    row is rejected with a reason), never fail the build. DuckDB has try_cast and Spark
    try_cast / try_to_timestamp; Postgres (before 16's pg_input_is_valid, and even then
    not for every type) has no cast that returns null, so on Postgres this hook creates
    small PL/pgSQL functions that catch the cast's error, in the target schema. Staging
    calls them only on text that already has the right shape (a regular expression first),
    so the exception path, which costs a subtransaction, is the rare one.

    Other engines: nothing to create.
-#}
{% macro northstar_create_engine_functions() -%}
    {{ return(adapter.dispatch('northstar_create_engine_functions', 'northstar')()) }}
{%- endmacro %}

{% macro default__northstar_create_engine_functions() -%}
    select 1 as northstar_engine_functions_created
{%- endmacro %}

{% macro postgres__northstar_create_engine_functions() -%}
    {%- set schema = adapter.quote(target.schema) -%}
    create schema if not exists {{ schema }};

    create or replace function {{ schema }}.northstar_try_timestamp(value text)
    returns timestamp language plpgsql stable as $northstar$
    begin
        return value::timestamp;
    exception when others then
        return null;
    end
    $northstar$;

    {#- Text with a zone or offset, as the UTC instant (without time zone). -#}
    create or replace function {{ schema }}.northstar_try_timestamp_utc(value text)
    returns timestamp language plpgsql stable as $northstar$
    begin
        return value::timestamptz at time zone 'UTC';
    exception when others then
        return null;
    end
    $northstar$;

    {#- A strptime-like parse (northstar_strptime_to_postgres). to_timestamp reads the text
        in the session's zone; fixed to UTC here, its result is the text's wall time, or
        the UTC instant when the pattern reads an offset. -#}
    create or replace function {{ schema }}.northstar_try_strptime(value text, pattern text)
    returns timestamp language plpgsql stable set timezone to 'UTC' as $northstar$
    begin
        return to_timestamp(value, pattern)::timestamp;
    exception when others then
        return null;
    end
    $northstar$;

    {#- a cast that gives null instead of an error, one per type the staging macros read -#}
    {%- for name, sql_type in [
        ('double', 'double precision'), ('bigint', 'bigint'),
        ('boolean', 'boolean'), ('json', 'json'),
    ] %}
    create or replace function {{ schema }}.northstar_try_{{ name }}(value text)
    returns {{ sql_type }} language plpgsql immutable as $northstar$
    begin
        return value::{{ sql_type }};
    exception when others then
        return null;
    end
    $northstar$;
    {% endfor %}

    select 1 as northstar_engine_functions_created
{%- endmacro %}


{#- The qualified name of one of those functions, for the dispatched staging macros. -#}
{% macro northstar_engine_function(name) -%}
    {{ adapter.quote(target.schema) }}.{{ name }}
{%- endmacro %}
