{#-
    The spec lint: the North Star anti-patterns the framework warns about (docs/spec.md,
    "Lint"). Warnings, never errors: the spec stays valid, the build goes on, and each
    warning says why it matters and how to silence it (`lint: {ignore: [<rule>]}`).

    The rules, on the facts the normalizer derives (`summed_properties`, `reads_events`),
    never on a kind's name:

      revenue_north_star     the North Star adds up money: one of its measures is a sum of
                             a property named like money (revenue, mrr, arr, gmv, amount,
                             price, sales, income, spend, billing, billed, payment(s), ltv,
                             usd, eur, gbp), its unit is a currency (usd, eur, gbp, ...), or it
                             measures exactly what an output metric measures (same kind,
                             events, property and filter): outputs are the lagging results.
      cumulative_north_star  the North Star is a running total: its name, label or
                             description says so (cumulative, all-time, lifetime, to date,
                             running total, since launch, ever), or it sums a property named
                             like a running total (total_*, cumulative_*, lifetime_*,
                             running_*, *_to_date). Every kind is per period, so only the
                             words and the property can say it counts since the beginning.
      unmovable_north_star   no input can move it: no input reads an event the North Star
                             reads. The events a metric reads are the normalizer's
                             `reads_events` (northstar_spec_metric.sql): its measures'
                             events; the activity events for what counts active or new
                             entities and the lifecycle kinds (they change which entities
                             are active); plus the aha events for activation.

    Returns {ignore: [rules], warnings: [{rule, field, message, why, silence}]}.
-#}
{% macro northstar_spec_lint_rules() %}
    {{ return(['revenue_north_star', 'cumulative_north_star', 'unmovable_north_star']) }}
{% endmacro %}


{% macro northstar_spec_lint(raw, metrics, context) %}
    {%- set checked = northstar_spec_fields('northstar', raw, [
        {'key': 'lint', 'rule': 'record', 'optional': true, 'default': {'ignore': []}, 'closed': true, 'fields': [
            {'key': 'ignore', 'rule': 'list', 'optional': true, 'default': [],
                'each': {'rule': 'one_of', 'choices': northstar_spec_lint_rules()}},
        ]},
    ], context) -%}
    {%- set ignore = checked.lint.ignore -%}
    {%- set north_star = metrics[0] -%}
    {%- set inputs = metrics | selectattr('role', 'equalto', 'input') | list -%}
    {%- set outputs = metrics | selectattr('role', 'equalto', 'output') | list -%}
    {%- set field = 'northstar.north_star' -%}
    {%- set found = [] -%}

    {#- revenue as the North Star -#}
    {%- set money = '(?i)^(.*_)?(revenue|mrr|arr|gmv|amount|price|sales|income|spend|billing|billed|payments?|ltv|usd|eur|gbp)(_.*)?$' -%}
    {%- set currencies = ['usd', 'eur', 'gbp', 'jpy', 'chf', 'cad', 'aud', 'cny', 'inr', 'brl',
        '$', '€', '£', 'dollars', 'euros', 'pounds', 'currency', 'money'] -%}
    {%- set reasons = [] -%}
    {%- for property in north_star.summed_properties if modules.re.match(money, property) -%}
        {%- do reasons.append('it sums ' ~ property ~ ', an amount of money') -%}
    {%- endfor -%}
    {%- if (north_star.unit or '') | lower in currencies -%}
        {%- do reasons.append('its unit is ' ~ north_star.unit) -%}
    {%- endif -%}
    {%- set own = [north_star.kind, north_star.numerator, north_star.denominator, north_star.get('property'), north_star.get('events'), north_star.get('where')] -%}
    {%- for output in outputs if [output.kind, output.numerator, output.denominator, output.get('property'), output.get('events'), output.get('where')] == own -%}
        {%- do reasons.append('it measures what the output ' ~ output.name ~ ' measures') -%}
    {%- endfor -%}
    {%- if reasons -%}
        {%- do found.append({
            'rule': 'revenue_north_star',
            'message': 'the North Star ' ~ north_star.name ~ ' is revenue: ' ~ reasons | join('; '),
            'why': 'revenue is a lagging outcome: it moves after the value is delivered (billing cycles, renewals), so teams cannot steer by it week to week; count the value customers get, which revenue follows, and keep revenue as an output',
        }) -%}
    {%- endif -%}

    {#- a cumulative or all-time count -#}
    {%- set words = '(?i)\\b(cumulative|all[- ]time|lifetime|to[- ]date|running[- ]total|since (launch|sign[- ]?up|the (start|beginning))|ever)\\b' -%}
    {%- set running = '(?i)^(total|cumulative|lifetime|running)_|_to_date$' -%}
    {%- set reasons = [] -%}
    {%- for key in ['name', 'label', 'description'] -%}
        {%- set text = (north_star[key] or '') | replace('_', ' ') -%}
        {%- set said = modules.re.search(words, text) -%}
        {%- if said -%}
            {%- do reasons.append('its ' ~ key ~ ' says ' ~ tojson(said.group(0))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for property in north_star.summed_properties if modules.re.search(running, property) -%}
        {%- do reasons.append('it sums ' ~ property ~ ', a running total') -%}
    {%- endfor -%}
    {%- if reasons -%}
        {%- do found.append({
            'rule': 'cumulative_north_star',
            'message': 'the North Star ' ~ north_star.name ~ ' looks cumulative: ' ~ reasons | join('; '),
            'why': 'a cumulative or all-time count is a vanity metric: it can only go up, so it rises while the product gets worse; count what happens in each period',
        }) -%}
    {%- endif -%}

    {#- a North Star no input can move -#}
    {%- set reads = north_star.reads_events -%}
    {%- set movers = [] -%}
    {%- for input in inputs -%}
        {%- set shared = input.reads_events | select('in', reads) | list -%}
        {%- if shared -%}
            {%- do movers.append(input.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not movers -%}
        {%- do found.append({
            'rule': 'unmovable_north_star',
            'message': 'no input can move the North Star ' ~ north_star.name ~ ': it reads ' ~ reads | sort | join(', ') ~ ' and no input reads any of them',
            'why': 'inputs are the levers teams pull to move the North Star; an input that shares no event with it can rise while the North Star stays flat, so the tree explains nothing',
        }) -%}
    {%- endif -%}

    {%- set warnings = [] -%}
    {%- for warning in found if warning.rule not in ignore -%}
        {%- do warnings.append(dict(warning, field=field, silence='if it is deliberate, add `lint: {ignore: [' ~ warning.rule ~ ']}` to the spec (northstar.lint.ignore)')) -%}
    {%- endfor -%}
    {{ return({'ignore': ignore, 'warnings': warnings}) }}
{% endmacro %}
