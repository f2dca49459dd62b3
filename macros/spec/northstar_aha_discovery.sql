{#-
    The aha discovery settings (var `northstar__aha_discovery`, dbt_project.yml), validated
    and normalized for rpt_aha_discovery and its tests. Returns one dict:

        thresholds          the count grid, ascending, distinct; the configured aha
                            threshold is added when missing, so the configured aha always
                            has its row
        window_days         the early window: events at or before first seen + N * 24 h
                            count (default: the spec's aha window_days, or 14 when that
                            reaches the retention days)
        retention_start_day, retention_end_day
                            retained = any activity event on these days after the
                            first-seen day (default 56 to 62, week 8, as rpt_aha_retention)
        candidates          [{name, events}]: each activity event alone, then the aha
                            moment's events: alone when it is one event not yet listed, as
                            one set named 'a + b' when it is several (their counts add up)
        candidate_events    every event some candidate counts
        aha                 {name, threshold}: the candidate and threshold of the configured aha
        is_configured       whether the grid measures the configured aha: its window_days
                            is the aha's own (and the aha threshold a whole number)

    A configuration error raises at parse time naming the field, as the spec does.
-#}
{% macro northstar_aha_discovery() %}
    {%- set spec = northstar_spec() -%}
    {%- set field = 'northstar__aha_discovery' -%}
    {%- set raw = var('northstar__aha_discovery', {}) or {} -%}
    {%- if raw is not mapping -%}
        {{ northstar_spec_error(field, 'must be a mapping {thresholds, window_days, retention_start_day, retention_end_day}', raw) }}
    {%- endif -%}
    {%- set known = ['thresholds', 'window_days', 'retention_start_day', 'retention_end_day'] -%}
    {%- for key in raw.keys() if key not in known -%}
        {{ northstar_spec_error(field ~ '.' ~ key, 'unknown setting; known: ' ~ known | join(', '), key) }}
    {%- endfor -%}

    {%- set grid = raw.get('thresholds', [1, 2, 3, 5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500]) -%}
    {%- if grid is none or grid is string or grid is mapping or grid | length == 0 -%}
        {{ northstar_spec_error(field ~ '.thresholds', 'must be a non-empty list of positive whole numbers', grid) }}
    {%- endif -%}
    {%- for threshold in grid -%}
        {{ northstar_aha_discovery_check_integer(field ~ '.thresholds[' ~ loop.index0 ~ ']', threshold, 1) }}
    {%- endfor -%}
    {%- set aha_threshold = spec.aha.threshold -%}
    {%- set aha_is_whole = aha_threshold == aha_threshold | int -%}
    {%- set thresholds = grid | map('int') | list -%}
    {%- if aha_is_whole -%}{%- do thresholds.append(aha_threshold | int) -%}{%- endif -%}
    {%- set thresholds = thresholds | unique | sort -%}

    {%- set start_day = raw.get('retention_start_day', 56) -%}
    {%- set end_day = raw.get('retention_end_day', 62) -%}
    {{ northstar_aha_discovery_check_integer(field ~ '.retention_start_day', start_day, 1) }}
    {{ northstar_aha_discovery_check_integer(field ~ '.retention_end_day', end_day, start_day) }}
    {%- set window_days = raw.get('window_days') -%}
    {%- set window_field = field ~ '.window_days' -%}
    {%- if window_days is none -%}
        {#- The aha's own window, unless it runs into the retention days (a lifetime aha,
            Slack's 2,000 messages): then the first 14 days, or less, to end before them. -#}
        {%- set window_days = spec.aha.window_days -%}
        {%- if window_days >= start_day -%}
            {%- set window_days = [14, start_day - 1] | min -%}
        {%- endif -%}
        {%- set window_field = window_field ~ ' (default: northstar.aha.window_days)' -%}
    {%- endif -%}
    {{ northstar_aha_discovery_check_integer(window_field, window_days, 1) }}
    {%- if window_days >= start_day -%}
        {{ northstar_spec_error(window_field, 'the early window must end before retention is measured (retention_start_day ' ~ start_day ~ ')', window_days) }}
    {%- endif -%}

    {%- set candidates = [] -%}
    {%- for event in spec.activity_events | unique -%}
        {%- do candidates.append({'name': event, 'events': [event]}) -%}
    {%- endfor -%}
    {%- set aha_events = spec.aha.events | unique | list -%}
    {%- set aha_name = aha_events | join(' + ') -%}
    {%- if aha_name not in candidates | map(attribute='name') | list -%}
        {%- do candidates.append({'name': aha_name, 'events': aha_events}) -%}
    {%- endif -%}

    {%- set candidate_events = [] -%}
    {%- for candidate in candidates -%}
        {%- for event in candidate.events if event not in candidate_events -%}
            {%- do candidate_events.append(event) -%}
        {%- endfor -%}
    {%- endfor -%}

    {{ return({
        'thresholds': thresholds,
        'window_days': window_days,
        'retention_start_day': start_day,
        'retention_end_day': end_day,
        'candidates': candidates,
        'candidate_events': candidate_events,
        'aha': {'name': aha_name, 'threshold': aha_threshold},
        'is_configured': aha_is_whole and window_days == spec.aha.window_days,
    }) }}
{% endmacro %}


{% macro northstar_aha_discovery_check_integer(field, value, minimum) %}
    {%- if value is none or value is string or value is boolean or value is not number
        or value != value | int -%}
        {{ northstar_spec_error(field, 'must be a whole number', value) }}
    {%- endif -%}
    {%- if value < minimum -%}
        {{ northstar_spec_error(field, 'must be at least ' ~ minimum, value) }}
    {%- endif -%}
{% endmacro %}
