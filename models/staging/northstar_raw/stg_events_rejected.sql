{#- Every raw row that was not accepted, with its raw values as text and one reject_reason. -#}

with

parsed as (

    select * from {{ ref('stg_northstar_raw__events_parsed') }}

),

final as (

    select
        raw_row_id,
        raw_file,
        raw_file_row_number,
        reject_reason,
        occurred_date,
        received_date,
        event_date,
        {%- for name in northstar_raw_contract('events').columns %}
        raw_{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from parsed
    where row_status = 'rejected'

)

select * from final
