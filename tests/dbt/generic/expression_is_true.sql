{#- Fails with every row for which the SQL expression is not true (false or null). -#}
{% test expression_is_true(model, expression, column_name=none) -%}

    {%- set condition = (column_name ~ ' ' ~ expression) if column_name else expression -%}

    with

    validation_errors as (

        select * from {{ model }}
        where not coalesce({{ condition }}, false)

    )

    select * from validation_errors

{%- endtest %}
