{#- Fails with every non-null value outside [min_value, max_value] (bounds optional). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) -%}

    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("accepted_range: give min_value, max_value or both") }}
    {%- endif -%}

    with

    validation_errors as (

        select * from {{ model }}
        where
            {{ column_name }} is not null
            and (
                false
                {%- if min_value is not none %}
                or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}
                {%- endif %}
                {%- if max_value is not none %}
                or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}
                {%- endif %}
            )

    )

    select * from validation_errors

{%- endtest %}
