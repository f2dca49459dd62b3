{#- Values from the spec (event names, segment values) written into SQL as literals. -#}

{#- northstar_literal(value: any) -> sql literal: strings quoted and escaped, null for none -#}
{% macro northstar_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}


{#- northstar_in_list(column: sql, names: list[string]) -> boolean sql; false for no names. -#}
{% macro northstar_in_list(column, names) -%}
    {%- if names -%}
        {{ column }} in ({% for name in names %}{{ northstar_literal(name) }}{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
