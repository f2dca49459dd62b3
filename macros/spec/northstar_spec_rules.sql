{#-
    The spec's field rules, applied. The tables (northstar_spec's top-level keys, each
    metric's common fields and thresholds, northstar_spec_metric_kinds,
    northstar_spec_measure_kinds) are lists of rows

        {key, rule, default, optional, problem, ...the rule's own settings}

    and northstar_spec_fields checks and normalizes a mapping against them, row by row,
    raising northstar_spec_error with the field's path. A row:

        key        the field's name in the mapping; its path is `<parent>.<key>`
        default    the value when the key is absent, unchecked (an explicit null stays null)
        optional   null (or absent) is allowed and becomes `default`, unchecked
        problem    the error text instead of the rule's own; `{metric}` is the sibling name
        path       the whole path instead (set for list items and map keys, not in tables)
        rule       any (the default: passed through unchecked)
                   one_of {choices}
                   number {minimum, above, below}    a number, not a string or boolean
                   positive_integer                  1, 2, ...
                   text                              a non-blank string
                   identifier {pattern}              a lowercase name matching the pattern
                   date                              a calendar date, 'YYYY-MM-DD' (or a YAML
                                                     date): normalized to that string
                   events                            a non-empty list of declared events
                   property {numeric, default true}  a property of the sibling `events`
                   where                             a filter on the sibling `events`
                   measure                           a measure mapping (northstar_spec_measure)
                   record {fields, shorthand, closed}  a mapping checked against its own rows;
                                                     a string stands for {<shorthand>: it};
                                                     closed: a key without a row is an error
                   list {each, min_length}           each item checked against the row `each`
                   map {each_key, each_value, min_length, max_length}
                                                     each key and value checked likewise
-#}
{% macro northstar_spec_fields(field, entry, rows, context) %}
    {%- set values = {} -%}
    {%- for row in rows -%}
        {%- set path = row.get('path') or field ~ '.' ~ row.key -%}
        {%- set rule = row.get('rule', 'any') -%}
        {%- set given = row.key in entry -%}
        {%- set value = entry[row.key] if given else row.get('default') -%}
        {%- set failure = none -%}

        {%- if rule == 'any' or (not given and 'default' in row) -%}
            {#- passed through, or the table's own default -#}
        {%- elif value is none and row.get('optional', false) -%}
            {%- set value = row.get('default') -%}
        {%- elif rule == 'one_of' -%}
            {%- set choices = row['choices'] -%}
            {%- if value not in choices -%}
                {%- set failure = 'must be ' ~ (
                    ('one of ' ~ choices | join(', ')) if choices | length > 3
                    else (choices[:-1] | join(', ') ~ ' or ' ~ choices[-1]) if choices | length > 1
                    else choices | join('')) -%}
            {%- endif -%}
        {%- elif rule == 'number' -%}
            {#- a boolean is a number to Jinja, and never a meaningful one here -#}
            {%- if value is none or value is string or value is boolean or value is not number -%}
                {%- set failure = 'must be a number' -%}
            {%- elif row.get('minimum') is not none and value < row.minimum -%}
                {%- set failure = 'must be at least ' ~ row.minimum -%}
            {%- elif row.get('above') is not none and value <= row.above -%}
                {%- set failure = 'must be above ' ~ row.above -%}
            {%- elif row.get('below') is not none and value >= row.below -%}
                {%- set failure = 'must be below ' ~ row.below -%}
            {%- endif -%}
        {%- elif rule == 'positive_integer' -%}
            {%- if value is not integer or value < 1 -%}
                {%- set failure = 'must be a positive integer (1, 2, ...)' -%}
            {%- endif -%}
        {%- elif rule == 'text' -%}
            {%- if value is not string or value | trim == '' -%}
                {%- set failure = 'must be a non-blank string' -%}
            {%- endif -%}
        {%- elif rule == 'identifier' -%}
            {%- if value is not string or not modules.re.match(row['pattern'], value) -%}
                {%- set failure = 'must be a lowercase identifier (letters, digits, _)' -%}
            {%- endif -%}
        {%- elif rule == 'date' -%}
            {#- YAML reads an unquoted 2027-06-30 as a date, JSON (--vars) as a string -#}
            {%- if value is not none and value is not string and value.isoformat is defined -%}
                {%- set value = value.isoformat() -%}
            {%- endif -%}
            {%- if not northstar_spec_is_date(value) -%}
                {%- set failure = 'must be a date, YYYY-MM-DD' -%}
            {%- endif -%}
        {%- elif rule == 'events' -%}
            {%- if value is string or value is mapping or value is not sequence or value | length == 0 -%}
                {%- set failure = 'must be a non-empty list of event names' -%}
            {%- endif -%}
            {%- for name in (value if failure is none else []) if name not in context.taxonomy -%}
                {{ northstar_spec_error(path, 'unknown event ' ~ tojson(name) ~ '; declared events: ' ~ context.taxonomy.keys() | sort | join(', '), name) }}
            {%- endfor -%}
        {%- elif rule == 'property' -%}
            {{ northstar_spec_check_property(path, values.events, value, context.taxonomy, row.get('numeric', true)) }}
        {%- elif rule == 'where' -%}
            {%- set value = northstar_spec_where(path, value, values.events, context.taxonomy) -%}
        {%- elif rule in ['measure', 'record', 'list', 'map'] -%}
            {%- if rule == 'record' and value is string and row.get('shorthand') -%}
                {%- set value = {row.shorthand: value} -%}
            {%- endif -%}
            {%- if rule == 'list' and (value is string or value is mapping or value is not sequence
                or value | length < row.get('min_length', 0)) -%}
                {%- set of = row.each.get('choices') -%}
                {%- set failure = 'must be a ' ~ ('non-empty ' if row.get('min_length', 0) > 0 else '')
                    ~ 'list' ~ (' of ' ~ of | join(', ') if of else '') -%}
            {%- elif rule != 'list' and value is not mapping -%}
                {%- set failure = 'must be a mapping' -%}
            {%- elif rule == 'map' and (value | length < row.get('min_length', 0)
                or value | length > row.get('max_length', value | length)) -%}
                {%- set failure = 'must have ' ~ row.get('min_length', 0) ~ ' to '
                    ~ row.get('max_length', 'any number of') ~ ' entries' -%}
            {%- elif rule == 'measure' -%}
                {%- set value = northstar_spec_measure(path, value, context) -%}
            {%- elif rule == 'record' -%}
                {%- set known = row.fields | map(attribute='key') | list -%}
                {%- for key in value if row.get('closed', false) and key not in known -%}
                    {{ northstar_spec_error(path ~ '.' ~ key, 'unknown key; expected ' ~ known | join(', '), value[key]) }}
                {%- endfor -%}
                {%- set value = northstar_spec_fields(path, value, row.fields, context) -%}
            {%- elif rule == 'list' -%}
                {%- set items = [] -%}
                {%- for item in value -%}
                    {%- set checked = northstar_spec_fields(path, {'item': item},
                        [dict(row.each, key='item', path=path ~ '[' ~ loop.index0 ~ ']')], context) -%}
                    {%- do items.append(checked.item) -%}
                {%- endfor -%}
                {%- set value = items -%}
            {%- else -%}
                {#- a bad key is reported on the map itself: there is no field of that name -#}
                {%- set pairs = {} -%}
                {%- for key, item in value.items() -%}
                    {%- do northstar_spec_fields(path, {'key': key}, [dict(row.each_key, key='key', path=path)], context) -%}
                    {%- do pairs.update(northstar_spec_fields(path, {key: item}, [dict(row.each_value, key=key)], context)) -%}
                {%- endfor -%}
                {%- set value = pairs -%}
            {%- endif -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error('northstar_spec_fields: unknown rule ' ~ rule ~ ' for ' ~ path) }}
        {%- endif -%}

        {%- if failure is not none -%}
            {{ northstar_spec_error(path, (row.get('problem') or failure) | replace('{metric}', values.get('name') | string), value) }}
        {%- endif -%}
        {%- do values.update({row.key: value}) -%}
    {%- endfor -%}
    {{ return(values) }}
{% endmacro %}


{% macro northstar_spec_check_property(field, events, property, taxonomy, numeric=true) %}
    {%- if property is none -%}
        {{ northstar_spec_error(field, 'name the property', property) }}
    {%- endif -%}
    {%- for event_name in events -%}
        {%- set declared = taxonomy[event_name] -%}
        {%- if property not in declared -%}
            {{ northstar_spec_error(field, 'unknown property of event ' ~ event_name ~ '; declared: ' ~ (declared.keys() | sort | join(', ') or 'none'), property) }}
        {%- endif -%}
        {%- if numeric and declared[property] != 'number' -%}
            {{ northstar_spec_error(field, 'property ' ~ property ~ ' of ' ~ event_name ~ ' must be declared as number', property) }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}


{#- A 'YYYY-MM-DD' string naming a real calendar day (2027-02-30 is not one). -#}
{% macro northstar_spec_is_date(value) %}
    {%- set found = modules.re.match('^([0-9]{4})-([0-9]{2})-([0-9]{2})$', value) if value is string else none -%}
    {%- if found is none -%}{{ return(false) }}{%- endif -%}
    {%- set year, month, day = found.group(1) | int, found.group(2) | int, found.group(3) | int -%}
    {%- if year < 1 or month < 1 or month > 12 or day < 1 -%}{{ return(false) }}{%- endif -%}
    {%- set next_month = modules.datetime.date(year + month // 12, month % 12 + 1, 1) if year < 9999 or month < 12 else none -%}
    {%- set last_day = 31 if next_month is none else (next_month - modules.datetime.timedelta(days=1)).day -%}
    {{ return(day <= last_day) }}
{% endmacro %}
