{#- Entity segments unpivoted: one row per entity and segment, plus ('all', 'all'), so a
    single join + group by yields every breakdown and the total in one pass. -#}
{%- set spec = northstar_spec() -%}

with

entities as (

    select * from {{ ref('int_entities') }}

),

final as (

    select
        entity_id,
        'all' as segment_name,
        'all' as segment_value

    from entities
    {%- for segment in spec.segments %}

    union all

    select
        entity_id,
        '{{ segment.name }}' as segment_name,
        segment_{{ segment.name }} as segment_value

    from entities
    {%- endfor %}

)

select * from final
