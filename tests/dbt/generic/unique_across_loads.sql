{#- dbt's unique test, made to follow the size of a load: fails with one row per value of
    the column that occurs more than once, looking only at the values the unverified loads
    carry (northstar_verified_loads.sql). Exact: once a load is verified its values were
    unique, so a repeat needs a copy among the new rows, and every copy of such a value is
    counted, however old. With nothing verified yet it is dbt's unique test. -#}
{% test unique_across_loads(model, column_name, load_column='_northstar_load_id') -%}

    with

    {%- set unverified = northstar_unverified_loads(load_column) %}

    {% if unverified != '1 = 1' -%}
    new_values as (

        select distinct {{ column_name }} as checked_value
        from {{ model }}
        where {{ unverified }} and {{ column_name }} is not null

    ),

    {% endif -%}

    validation as (

        select
            {{ column_name }} as unique_field,
            count(*) as n_records
        from {{ model }}
        where
            {{ column_name }} is not null
            {%- if unverified != '1 = 1' %}
            and {{ column_name }} in (select checked_value from new_values)
            {%- endif %}
        group by {{ column_name }}

    )

    select * from validation
    where n_records > 1

{%- endtest %}
