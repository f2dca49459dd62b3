{#- northstar_parse_timestamp_utc with a configured format and time zone (the settings of
    var northstar__raw_event_columns, e.g. occurred_at: {column, format, time_zone}): fails
    with each input whose parsed value differs from the expected UTC timestamp. -#}

with

cases as (

    select t.* from (
        values
        ('ymd', '19970101', '1997-01-01 00:00:00'),
        ('ymd', '1997-01-01', null),
        ('dmy_paris', '01/03/2024 11:00', '2024-03-01 10:00:00'),
        ('dmy_paris', '01/07/2024 12:00', '2024-07-01 10:00:00'),
        ('dmy_paris', '2024-03-01 11:00', null),
        ('offset', '2024-03-01 12:00:00 +0200', '2024-03-01 10:00:00'),
        ('seconds', '860000000', '1997-04-02 16:53:20'),
        ('seconds', '1709287200.5', '2024-03-01 10:00:00.5'),
        ('seconds', '2024-03-01', null),
        ('millis', '86000000000', '1972-09-22 08:53:20'),
        ('auto_new_york', '2024-03-01 05:00:00', '2024-03-01 10:00:00'),
        ('auto_new_york', '2024-03-01T10:00:00Z', '2024-03-01 10:00:00'),
        ('auto_new_york', '2024-03-01 12:00:00+02:00', '2024-03-01 10:00:00'),
        ('auto_new_york', '1709287200', '2024-03-01 10:00:00'),
        ('auto_new_york', '20240301', '2024-03-01 05:00:00')
    ) as t (setting_name, input_text, expected_text)

),

parsed as (

    select
        setting_name,
        input_text,
        cast(expected_text as {{ dbt.type_timestamp() }}) as expected_at,
        case setting_name
            when 'ymd' then {{ northstar_parse_timestamp_utc(
                'input_text', {'format': '%Y%m%d', 'time_zone': 'UTC'}
            ) }}
            when 'dmy_paris' then {{ northstar_parse_timestamp_utc(
                'input_text', {'format': '%d/%m/%Y %H:%M', 'time_zone': 'Europe/Paris'}
            ) }}
            when 'offset' then {{ northstar_parse_timestamp_utc(
                'input_text', {'format': '%Y-%m-%d %H:%M:%S %z', 'time_zone': 'UTC'}
            ) }}
            when 'seconds' then {{ northstar_parse_timestamp_utc(
                'input_text', {'format': 'epoch_seconds', 'time_zone': 'UTC'}
            ) }}
            when 'millis' then {{ northstar_parse_timestamp_utc(
                'input_text', {'format': 'epoch_milliseconds', 'time_zone': 'UTC'}
            ) }}
            when 'auto_new_york' then {{ northstar_parse_timestamp_utc(
                'input_text', {'format': 'auto', 'time_zone': 'America/New_York'}
            ) }}
        end as parsed_at
    from cases

)

select * from parsed
where
    parsed_at != expected_at
    or (parsed_at is null and expected_at is not null)
    or (parsed_at is not null and expected_at is null)
