{{
    config(
        materialized='table',
        tags=['northstar_reads_raw_users'],
    )
}}

{#-
    One row per user_id from the optional raw users input (empty, with these columns, when
    there is none). Attribute columns pass through as trimmed text; rows without an id are
    dropped; of several rows per id the earliest created_at wins, then file order.
-#}

{%- set attributes = northstar_raw_contract('users').columns
    | reject('in', ['user_id', 'account_id', 'created_at']) | list -%}
{%- set attribute_casts = [] -%}
{%- for name in attributes -%}
{%- do attribute_casts.append('cast(' ~ name ~ ' as ' ~ dbt.type_string() ~ ') as ' ~ name) -%}
{%- endfor %}
{%- set created_at = northstar_parse_timestamp_utc(
    'created_at_text', northstar_raw_timestamp_setting('users', 'created_at')
) %}

with

source as (

    {{ northstar_select_raw('users') }}

),

cleaned as (

    select
        {{ northstar_clean_text('raw_user_id') }} as user_id,
        {{ northstar_clean_text('raw_account_id') }} as account_id,
        {{ northstar_clean_text('raw_created_at') }} as created_at_text,
        {% for name in attributes %}
        {{ northstar_clean_text('raw_' ~ name) }} as {{ name }},
        {% endfor %}
        raw_file,
        raw_file_row_number
    from source

),

ranked as (

    select
        *,
        {{ created_at }} as created_at,
        row_number() over (
            partition by user_id
            order by
                {{ created_at }} asc nulls last,
                raw_file asc,
                raw_file_row_number asc
        ) as user_id_rank
    from cleaned
    where user_id is not null

),

final as (

    select
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        {{ attribute_casts | join(',\n        ') }}
    from ranked
    where user_id_rank = 1

)

select * from final
