{#- Fails with one row per combination of the columns that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) -%}

    {%- if combination_of_columns is string or combination_of_columns | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "unique_combination_of_columns: combination_of_columns must be a non-empty list of columns"
        ) }}
    {%- endif -%}

    with

    validation as (

        select
            {{ combination_of_columns | join(', ') }},
            count(*) as n_rows
        from {{ model }}
        group by {{ combination_of_columns | join(', ') }}

    ),

    validation_errors as (

        select * from validation
        where n_rows > 1

    )

    select * from validation_errors

{%- endtest %}
