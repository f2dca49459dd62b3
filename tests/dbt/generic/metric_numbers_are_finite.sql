{#- Fails with one row per metric row and number column (value, numerator, denominator)
    that breaks the contract: NaN or +/-infinity anywhere, or NULL where the metric's SQL
    (northstar_metric_columns) always yields a number. What may be NULL follows from that
    SQL too: a numerator or denominator the metric's kind has none of (percentile and
    median engagement have no numerator; counts and sums no denominator), and a value whose
    denominator is 0 (a rate of nothing is unknown, not 0). -#}
{% test metric_numbers_are_finite(model) -%}

    {%- set with_numerator, with_denominator, without_denominator = [], [], [] -%}
    {%- for metric in northstar_spec().metrics -%}
        {%- set numerator, denominator, value = northstar_metric_columns(metric) -%}
        {%- if numerator != 'null' -%}{%- do with_numerator.append(metric.name) -%}{%- endif -%}
        {%- if denominator != 'null' -%}
            {%- do with_denominator.append(metric.name) -%}
        {%- else -%}
            {%- do without_denominator.append(metric.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set must_be_number = {
        'value': northstar_in_list('metric_name', without_denominator)
            ~ ' or (' ~ northstar_in_list('metric_name', with_denominator)
            ~ ' and denominator <> 0)',
        'numerator': northstar_in_list('metric_name', with_numerator),
        'denominator': northstar_in_list('metric_name', with_denominator),
    } -%}

    with

    metric_values as (

        select * from {{ model }}

    ),

    numbers as (
        {%- for column in ['value', 'numerator', 'denominator'] %}

        select
            metric_name,
            grain,
            period_start,
            segment_name,
            segment_value,
            '{{ column }}' as column_name,
            {{ column }} as observed,
            coalesce({{ must_be_number[column] }}, false) as must_be_number

        from metric_values
        {{ 'union all' if not loop.last }}
        {%- endfor %}

    ),

    validation_errors as (

        select * from numbers
        where
            not coalesce({{ northstar_is_finite('observed') }}, false)
            and (observed is not null or must_be_number)

    )

    select * from validation_errors

{%- endtest %}

