{#- northstar_parse_timestamp_utc on inline values (the auto rules, UTC): fails with each
    input whose parsed value differs from the expected UTC timestamp (null = unparseable).
    Digits are epoch only at lengths that say so (10: seconds, 13: milliseconds); 8 digits
    are a date YYYYMMDD, never epoch seconds (19970101 is not 1970-08-20). -#}

with

cases as (

    select t.* from (
        values
        ('2024-03-01T10:00:00Z', '2024-03-01 10:00:00'),
        ('2024-03-01T12:00:00+02:00', '2024-03-01 10:00:00'),
        ('2024-03-01T04:30:00-0530', '2024-03-01 10:00:00'),
        ('2024-03-01T15:00:00+05', '2024-03-01 10:00:00'),
        ('2024-03-01 10:00:00+00', '2024-03-01 10:00:00'),
        ('2024-03-01 10:00:00', '2024-03-01 10:00:00'),
        ('2024-03-01T10:00:00.250', '2024-03-01 10:00:00.25'),
        ('2024-03-01t10:00:00z', '2024-03-01 10:00:00'),
        ('2024-03-01 10:00:00 UTC', '2024-03-01 10:00:00'),
        ('2024-03-01 11:00:00 Europe/Paris', '2024-03-01 10:00:00'),
        ('2024-03-01', '2024-03-01 00:00:00'),
        ('1709287200', '2024-03-01 10:00:00'),
        ('1709287200123', '2024-03-01 10:00:00.123'),
        ('1709287200.5', '2024-03-01 10:00:00.5'),
        ('19970101', '1997-01-01 00:00:00'),
        ('19971332', null),
        ('0', null),
        ('170928720', null),
        ('17092872001', null),
        ('170928720012', null),
        ('20240301100000', null),
        ('1709287200000000', null),
        ('2024-02-30T10:00:00Z', null),
        ('yesterday', null),
        ('2024-03-01T10:00:00+02:00[Europe/Paris]', null)
    ) as t (input_text, expected_text)

),

parsed as (

    select
        input_text,
        cast(expected_text as {{ dbt.type_timestamp() }}) as expected_at,
        {{ northstar_parse_timestamp_utc('input_text') }} as parsed_at
    from cases

)

select * from parsed
where
    parsed_at != expected_at
    or (parsed_at is null and expected_at is not null)
    or (parsed_at is not null and expected_at is null)
