{#-
    SQL for a spec measure at each step of the pipeline:

      northstar_measure_event_sql  per event row     (int_entity_activity_daily)
      northstar_measure_aggregates per entity-period (int_entity_periods, aggregating the daily rows)
      northstar_measure_value      per entity-period (the entity's contribution: a count, a sum, 0/1)

    `column` names the measure's column, `<metric>__numerator` or `<metric>__denominator`.
    For `entities`, the aggregates also count the distinct users, event names and UTC days
    (`activity_date`) with a match: `<column>__users`, `__events`, `__days`.
-#}

{#- Measures that need a column in the daily activity table (the others come from lifecycle). -#}
{% macro northstar_measure_has_column(measure) -%}
    {{ return(measure is not none and measure.kind in ['count', 'sum', 'entities']) }}
{%- endmacro %}


{#- northstar_where_sql(where: normalized spec filter) -> boolean sql over `properties` -#}
{% macro northstar_where_sql(where) -%}
    {%- if where is none -%}
        true
    {%- else -%}
        {%- set operand = northstar_json_number('properties', where.property) if where.numeric else northstar_json_string('properties', where.property) -%}
        {%- set literals = [] -%}
        {%- for value in where['values'] -%}{%- do literals.append(northstar_literal(value)) -%}{%- endfor -%}
        {%- if where.op == 'in' -%}
            {{ operand }} in ({{ literals | join(', ') }})
        {%- elif where.op == 'not_in' -%}
            {{ operand }} not in ({{ literals | join(', ') }})
        {%- elif where.op == '!=' -%}
            {{ operand }} <> {{ literals[0] }}
        {%- else -%}
            {{ operand }} {{ where.op }} {{ literals[0] }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{% macro northstar_events_sql(events) -%}
    event_name in ({% for event in events %}{{ northstar_literal(event) }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}


{#- per event row: 1/0 for counts and entities, the property value for sums -#}
{% macro northstar_measure_event_sql(measure) -%}
    {%- set matches = northstar_events_sql(measure.events) ~ ' and ' ~ northstar_where_sql(measure.where) -%}
    {%- if measure.kind == 'sum' -%}
        case when {{ matches }} then {{ northstar_json_number('properties', measure.property) }} end
    {%- elif measure.property is not none -%}
        case when {{ matches }} and {{ northstar_json_number('properties', measure.property) }} is not null then 1 else 0 end
    {%- else -%}
        case when {{ matches }} then 1 else 0 end
    {%- endif -%}
{%- endmacro %}


{#- per entity-period, over the daily rows -#}
{% macro northstar_measure_aggregates(measure, column) -%}
    coalesce(sum({{ column }}), 0) as {{ column }}
    {%- if measure.kind == 'entities' %},
    count(distinct case when {{ column }} > 0 then user_id end) as {{ column }}__users,
    count(distinct case when {{ column }} > 0 then event_name end) as {{ column }}__events,
    count(distinct case when {{ column }} > 0 then activity_date end) as {{ column }}__days
    {%- endif -%}
{%- endmacro %}


{#- the entity's contribution in one period -#}
{% macro northstar_measure_value(measure, column) -%}
    {%- if measure.kind in ['count', 'sum'] -%}
        {{ column }}
    {%- elif measure.kind == 'entities' -%}
        case
            when {{ column }} >= {{ measure.min_events }}
                and ({{ measure.min_distinct_users }} <= 1 or {{ column }}__users >= {{ measure.min_distinct_users }})
                and {{ column }}__events >= {{ measure.min_distinct_events }}
                and {{ column }}__days >= {{ measure.min_active_days }}
                then 1
            else 0
        end
    {%- elif measure.kind == 'active_entities' -%}
        case when is_active then 1 else 0 end
    {%- elif measure.kind == 'new_entities' -%}
        case when is_first_seen_period then 1 else 0 end
    {%- endif -%}
{%- endmacro %}
