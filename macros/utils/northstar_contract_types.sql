{#-
    The public marts' enforced contracts name their column types as DuckDB and Spark spell
    them (`string`, `double`): there is no one spelling of a string type that Spark and
    Postgres both accept (Spark wants `string`, or `varchar(n)` with a length; Postgres has
    no `string`), nor of an 8-byte float (`double` / `double precision`). dbt writes those
    names verbatim into the DDL and into the casts of its contract check, so on Postgres
    these overrides of dbt's two macros translate them first; other types pass unchanged.
    dbt's dispatch finds a root project's `postgres__` version before its own default.
-#}
{% macro northstar_postgres_type(data_type) -%}
    {%- set translated = {'string': 'text', 'double': 'double precision'} -%}
    {{ return(translated.get((data_type or '') | trim | lower, data_type)) }}
{%- endmacro %}

{% macro _northstar_postgres_contract_columns(columns) -%}
    {%- set translated = {} -%}
    {%- for key, column in columns.items() -%}
        {%- set copy = column.copy() -%}
        {%- if column.get('data_type') -%}
            {%- do copy.update({'data_type': northstar_postgres_type(column['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({key: copy}) -%}
    {%- endfor -%}
    {{ return(translated) }}
{%- endmacro %}

{#- The contract check's empty select (cast(null as <type>) per column). -#}
{% macro postgres__get_empty_schema_sql(columns) -%}
    {{ return(dbt.default__get_empty_schema_sql(_northstar_postgres_contract_columns(columns))) }}
{%- endmacro %}

{#- The create table DDL of a contracted model (dbt's table_columns_and_constraints). -#}
{% macro postgres__get_table_columns_and_constraints() -%}
    {%- set columns = adapter.render_raw_columns_constraints(
        raw_columns=_northstar_postgres_contract_columns(model['columns'])
    ) -%}
    {%- set constraints = adapter.render_raw_model_constraints(raw_constraints=model['constraints']) -%}
    (
    {% for c in columns -%}
        {{ c }}{{ "," if not loop.last or constraints }}
    {% endfor %}
    {% for c in constraints -%}
        {{ c }}{{ "," if not loop.last }}
    {% endfor -%}
    )
{%- endmacro %}
