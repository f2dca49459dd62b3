{#-
    One row: the normalized North Star spec this build used, as JSON (northstar_spec_json).
    The validation gate reads it to check the committed expectation suites against the spec
    the data was built with, without running dbt again or re-reading dbt_project.yml.
-#}

with

final as (

    select
        cast({{ northstar_string_literal(northstar_spec_json()) }} as {{ dbt.type_string() }})
            as spec_json

)

select * from final
