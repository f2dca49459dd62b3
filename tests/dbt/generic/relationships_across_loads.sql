{#- dbt's relationships test, made to follow the size of a load: fails with one row per value
    of the column (from_field) that `to` has no row for, looking only at the rows whose
    value the unverified loads carry (`loads`: the staged rows with their load ids,
    northstar_verified_loads.sql). Exact for stg_events_duplicates: a copy's row is written
    only when a load brings a copy of its event_id, and stg_events' row of that event_id
    changes only then, so a row no unverified load wrote a copy for was checked by the run
    that verified it.
    The parent is looked up only on the days the child rows name (`date_column`, the kept
    copy's day; `to_date_column` in `to`), as constants: a scan of `to` skips the row groups
    of other days, where finding a value by itself reads every row. A kept copy that is
    not on the day the child row names fails the test too. With nothing verified yet (or on
    a --full-refresh) it is dbt's relationships test. -#}
{% test relationships_across_loads(
    model, column_name, to, field, loads, date_column, to_date_column,
    load_column='_northstar_load_id'
) -%}

    {%- set unverified = northstar_unverified_loads(load_column) -%}
    {%- set scoped = unverified != '1 = 1' and not flags.FULL_REFRESH -%}

    with

    child as (

        select {{ column_name }} as from_field
        from {{ model }}
        where
            {{ column_name }} is not null
            {%- if scoped %}
            and {{ column_name }} in (
                select {{ column_name }} from {{ loads }} where {{ unverified }}
            )
            {%- endif %}

    ),

    {%- if scoped %}
    {%- set days = run_query(
        'select distinct cast(' ~ date_column ~ ' as varchar) from ' ~ model
        ~ ' where ' ~ date_column ~ ' is not null and ' ~ column_name ~ ' in (select ' ~ column_name ~ ' from ' ~ loads
        ~ ' where ' ~ unverified ~ ') order by 1'
    ).columns[0].values() %}
    {%- set literals = [] %}
    {%- for day in days %}
    {%- do literals.append("cast('" ~ day ~ "' as date)") %}
    {%- endfor %}
    {%- endif %}

    parent as (

        select {{ field }} as to_field
        from {{ to }}
        {%- if scoped %}
        where
            {%- if literals | length == 0 %}
            1 = 0
            {%- else %}
            {{ to_date_column }} in ({{ literals | join(', ') }})
            {%- endif %}
        {%- endif %}

    )

    select child.from_field
    from child
    left join parent
        on child.from_field = parent.to_field
    where parent.to_field is null

{%- endtest %}
