{#- Every raw row that was not accepted, with its raw values as text and one reject_reason. -#}

with

classified as (

    select * from {{ ref('stg_northstar_raw__events_classified') }}

),

final as (

    select
        raw_row_id,
        reject_reason,
        raw_file,
        raw_file_row_number,
        {% for name in northstar_raw_contract('events').columns %}
        raw_{{ name }},
        {% endfor %}
        cast(occurred_at as date) as occurred_date,
        cast(received_at as date) as received_date,
        event_date
    from classified
    where reject_reason is not null

)

select * from final
