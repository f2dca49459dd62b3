{#- The spec lint (macros/spec/northstar_spec_lint.sql, docs/spec.md "Lint"), for plain dbt:
    one row per North Star anti-pattern the spec shows (revenue as the North Star, a
    cumulative count, a North Star no input can move) that `lint.ignore` does not silence.
    A warning, not an error: the spec is valid and the build goes on; dbt reports the test
    as WARN and the log says what each warning is, why it matters and how to silence it. -#}
{{ config(severity='warn') }}
{%- set lint = northstar_spec().lint -%}
{%- if execute -%}
{%- for warning in lint.warnings -%}
{{ log('northstar lint: ' ~ warning.rule ~ ': ' ~ warning.message ~ '. Why: ' ~ warning.why ~ '. To silence: ' ~ warning.silence, info=true) }}
{%- endfor -%}
{%- endif -%}

with

catalog as (

    select * from {{ ref('dim_metrics') }}

),

warnings as (
    {%- for warning in lint.warnings %}

    select
        {{ northstar_literal(warning.rule) }} as rule_name,
        {{ northstar_literal(warning.message) }} as message,
        {{ northstar_literal(warning.why) }} as why,
        {{ northstar_literal(warning.silence) }} as how_to_silence
    {{ 'union all' if not loop.last }}
    {%- else %}

    select
        cast(null as {{ dbt.type_string() }}) as rule_name,
        cast(null as {{ dbt.type_string() }}) as message,
        cast(null as {{ dbt.type_string() }}) as why,
        cast(null as {{ dbt.type_string() }}) as how_to_silence
    where 1 = 0
    {%- endfor %}

),

final as (

    select
        catalog.metric_name,
        warnings.rule_name,
        warnings.message,
        warnings.why,
        warnings.how_to_silence

    from warnings

    cross join catalog

    where catalog.role = 'north_star'

)

select * from final
