{% macro northstar_check_raw_inputs() -%}
    {#- Filled in by the staging work (issue 2): checks the raw input paths before a run. -#}
{%- endmacro %}
