{#-
    One row: the reference time this build used and where it came from
    (northstar_reference_time). The validation gate reads it, so freshness is judged
    against the clock the build used, however dbt was started (plain dbt, --vars, the CLI).
-#}
{%- set reference = northstar_reference_time() -%}

with

final as (

    select
        {{ northstar_as_of_timestamp() }} as as_of_at,
        cast('{{ reference.source }}' as {{ dbt.type_string() }}) as as_of_source

)

select * from final
