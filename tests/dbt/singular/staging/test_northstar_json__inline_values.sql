{#- northstar_json_number / northstar_json_string on inline values: fails with each case
    whose result differs from the expected one (null included). The text of non-standard
    numbers (NaN, 1e400) differs between engines, so only their number is checked. -#}

with

cases as (

    select t.* from (
        values
        (1, '{"v": 12.5}', 12.5, '12.5'),
        (2, '{"v": "12"}', 12.0, '12'),
        (3, '{"v": "-1e3"}', -1000.0, '-1e3'),
        (4, '{"v": "abc"}', null, 'abc'),
        (5, '{"v": NaN}', null, '(engine-specific)'),
        (6, '{"v": "Infinity"}', null, 'Infinity'),
        (7, '{"v": 1e400}', null, '(engine-specific)'),
        (8, '{"v": true}', null, 'true'),
        (9, '{"v": null}', null, null),
        (10, '{"other": 1}', null, null),
        (11, '{}', null, null),
        {#- A nested value is its JSON text, spaced as the engine writes JSON. #}
        {%- set nested = '{"w": 1}' if target.type == 'postgres' else '{"w":1}' %}
        (12, '{"v": {"w": 1}}', null, '{{ nested }}'),
        (13, '{"v.w": 3}', null, null)
    ) as t (case_id, json_text, expected_number, expected_string)

),

extracted as (

    select
        case_id,
        json_text,
        expected_number,
        expected_string,
        {{ northstar_json_number('json_text', 'v') }} as actual_number,
        {{ northstar_json_string('json_text', 'v') }} as actual_string
    from cases

),

{#- A key with a dot is read literally, not as a path. #}
dotted_key as (

    select
        100 as case_id,
        '{"v.w": 3, "v": {"w": 4}}' as json_text,
        3.0 as expected_number,
        '3' as expected_string,
        {{ northstar_json_number("'{\"v.w\": 3, \"v\": {\"w\": 4}}'", 'v.w') }} as actual_number,
        {{ northstar_json_string("'{\"v.w\": 3, \"v\": {\"w\": 4}}'", 'v.w') }} as actual_string

),

all_cases as (

    select * from extracted
    union all
    select * from dotted_key

)

select * from all_cases
where
    not coalesce(
        actual_number = expected_number, actual_number is null and expected_number is null
    )
    or (
        expected_string != '(engine-specific)'
        and not coalesce(
            actual_string = expected_string, actual_string is null and expected_string is null
        )
    )
