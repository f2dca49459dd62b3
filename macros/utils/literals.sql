{#- Values from the spec (event names, segment values) written into SQL as literals. -#}

{#- northstar_literal(value: any) -> sql literal: strings quoted and escaped, null for none -#}
{% macro northstar_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}{{ northstar_string_literal(value | string) }}
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


{#- northstar_string_literal(text) -> a SQL string literal holding `text` exactly. On Spark
    a backslash escapes the next character in a literal, and JSON is full of them. -#}
{% macro northstar_string_literal(text) -%}
    {{ return(adapter.dispatch('northstar_string_literal', 'northstar')(text)) }}
{%- endmacro %}

{% macro default__northstar_string_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__northstar_string_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
