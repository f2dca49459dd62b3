{#-
    northstar_arg_min(value: sql, order_by: list of sql) -> aggregate sql: `value` on the
    row whose (order_by...) tuple is smallest, compared left to right; rows whose `value`
    is null are skipped. One hash aggregate instead of a row_number() sort over every row
    (what int_entities used to pay to pick each entity's first platform). Give a unique
    tuple (e.g. occurred_at, event_id) so that ties cannot make the result engine-dependent.
-#}
{% macro northstar_arg_min(value, order_by) -%}
    {{ return(adapter.dispatch('northstar_arg_min', 'northstar')(value, order_by)) }}
{%- endmacro %}

{#- The tuple goes into the ordering argument only where `value` is set: both engines skip
    a null ordering value, so a null `value` never wins (DuckDB would skip it anyway,
    Spark's min_by would return the null). -#}
{% macro duckdb__northstar_arg_min(value, order_by) -%}
    arg_min({{ value }}, case when {{ value }} is not null then row({{ order_by | join(', ') }}) end)
{%- endmacro %}

{% macro spark__northstar_arg_min(value, order_by) -%}
    min_by({{ value }}, case when {{ value }} is not null then struct({{ order_by | join(', ') }}) end)
{%- endmacro %}

{#- Postgres has no min_by: the first element of the values in tuple order. -#}
{% macro postgres__northstar_arg_min(value, order_by) -%}
    (array_agg({{ value }} order by {{ order_by | join(', ') }}) filter (where {{ value }} is not null))[1]
{%- endmacro %}

{% macro default__northstar_arg_min(value, order_by) -%}
    {{ exceptions.raise_compiler_error(
        "northstar_arg_min: no implementation for adapter '" ~ adapter.type()
        ~ "'; add " ~ adapter.type() ~ "__northstar_arg_min (macros/metrics/aggregates.sql): "
        ~ "the value on the row with the smallest tuple, e.g. min_by(value, row(...))"
    ) }}
{%- endmacro %}
