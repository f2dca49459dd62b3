{#- northstar_is_finite on inline values: fails with each input whose result differs from
    the expected one (finite numbers true, NaN and +/-infinity false, null null). -#}

with

cases as (

    select
        cast(t.input_text as {{ northstar_type_double() }}) as input_number,
        t.expected
    from (
        values
        ('0', true),
        ('-0.0', true),
        ('1.5', true),
        ('-1e308', true),
        ('1e308', true),
        ('4.9e-324', true),
        ('NaN', false),
        ('Infinity', false),
        ('-Infinity', false),
        (null, null)
    ) as t (input_text, expected)

),

checked as (

    select
        input_number,
        expected,
        {{ northstar_is_finite('input_number') }} as is_finite
    from cases

)

select * from checked
where
    is_finite != expected
    or (is_finite is null and expected is not null)
    or (is_finite is not null and expected is null)
