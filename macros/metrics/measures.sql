{#-
    SQL for a spec measure at each step of the pipeline:

      northstar_measure_event_sql  per event row     (int_entity_event_daily)
      northstar_measure_day_sql    per entity-day    (int_entity_activity_daily)
      northstar_measure_aggregates per entity-period (int_entity_periods, over the entity-day rows)
      northstar_measure_value      per entity-period (the entity's contribution: a count, a sum, 0/1)

    `column` names the measure's column, `<metric>__numerator` or `<metric>__denominator`.
    For `entities`, the period aggregates also count the distinct event names
    (`<column>__events`), UTC days (`__days`) and users (`__users`, from
    int_entity_user_daily) with a match, each only when the measure's minimum for it is
    above 1: at 1 the count itself (>= min_events >= 1) already implies one of each.
-#}

{#- northstar_measured_columns(spec) -> [(measure, column)] of every measure with a column:
    the spec's metrics, then the backtest's own (candidates of their own, revenue). -#}
{% macro northstar_measured_columns(spec) -%}
    {%- set measured = [] -%}
    {%- for metric in spec.metrics + spec.backtest_metrics -%}
    {%- for side in ['numerator', 'denominator'] -%}
    {%- if northstar_measure_has_column(metric[side]) -%}
    {%- do measured.append((metric[side], metric.name ~ '__' ~ side)) -%}
    {%- endif -%}
    {%- endfor -%}
    {%- endfor -%}
    {{ return(measured) }}
{%- endmacro %}

{#- Whether an `entities` measure needs distinct users / event names / days per period. -#}
{% macro northstar_measure_needs(measure, what) -%}
    {%- set minimum = {'users': 'min_distinct_users', 'events': 'min_distinct_events', 'days': 'min_active_days'}[what] -%}
    {{ return(measure.kind == 'entities' and measure[minimum] > 1) }}
{%- endmacro %}

{#- Whether the measure is a sum over single events (a count or a property's sum), so that
    each event name's part of it adds up to it: feature adoption's share of the North Star. -#}
{% macro northstar_measure_adds_over_events(measure) -%}
    {{ return(measure is not none and measure.kind in ['count', 'sum']) }}
{%- endmacro %}

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


{#- per entity-day, over int_entity_event_daily's rows (one per event name): the measure's
    total, and for a distinct-event minimum one 0/1 flag per event name of the measure,
    `<column>__event_<n>`, so that a period can count the names over its days. -#}
{% macro northstar_measure_day_sql(measure, column) -%}
    coalesce(sum({{ column }}), 0) as {{ column }}
    {%- if northstar_measure_needs(measure, 'events') %}
    {%- for event in measure.events %},
    max(case when event_name = {{ northstar_literal(event) }} and {{ column }} > 0 then 1 else 0 end)
        as {{ column }}__event_{{ loop.index }}
    {%- endfor %}
    {%- endif -%}
{%- endmacro %}


{#- per entity-period, over the entity-day rows (one per day) -#}
{% macro northstar_measure_aggregates(measure, column) -%}
    coalesce(sum({{ column }}), 0) as {{ column }}
    {%- if northstar_measure_needs(measure, 'events') %},
    {% for event in measure.events -%}
    max({{ column }}__event_{{ loop.index }}){{ ' + ' if not loop.last }}
    {%- endfor %} as {{ column }}__events
    {%- endif %}
    {%- if northstar_measure_needs(measure, 'days') %},
    sum(case when {{ column }} > 0 then 1 else 0 end) as {{ column }}__days
    {%- endif -%}
{%- endmacro %}


{#- the entity's contribution in one period -#}
{% macro northstar_measure_value(measure, column) -%}
    {%- if measure.kind in ['count', 'sum'] -%}
        {{ column }}
    {%- elif measure.kind == 'entities' -%}
        case
            when {{ column }} >= {{ measure.min_events }}
                {%- if northstar_measure_needs(measure, 'users') %}
                and {{ column }}__users >= {{ measure.min_distinct_users }}
                {%- endif %}
                {%- if northstar_measure_needs(measure, 'events') %}
                and {{ column }}__events >= {{ measure.min_distinct_events }}
                {%- endif %}
                {%- if northstar_measure_needs(measure, 'days') %}
                and {{ column }}__days >= {{ measure.min_active_days }}
                {%- endif %}
                then 1
            else 0
        end
    {%- elif measure.kind == 'active_entities' -%}
        case when is_active then 1 else 0 end
    {%- elif measure.kind == 'new_entities' -%}
        case when is_first_seen_period then 1 else 0 end
    {%- endif -%}
{%- endmacro %}
