{#-
    The normalized spec (northstar_spec()) as JSON: how Python reads the spec, so that it
    never re-reads dbt_project.yml nor re-applies the defaults filled here.

    Two ways to it, one macro:
      - `dbt run-operation northstar_print_spec_json` prints it, for generators that run
        without a warehouse (`northstar semantic`, scripts/generate_suites.py);
      - the model int_northstar_spec stores it, so the validation gate reads the spec a
        warehouse was built with, at no extra dbt call.
-#}
{% macro northstar_spec_json() %}
    {{ return(tojson(northstar_spec())) }}
{% endmacro %}


{#- The line Python looks for in run-operation's output (dbt may print other lines). -#}
{% macro northstar_print_spec_json() %}
    {{ print('northstar_spec_json: ' ~ northstar_spec_json()) }}
{% endmacro %}
