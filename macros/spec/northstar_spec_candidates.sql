{#-
    North Star candidates and the backtest settings (called by `northstar_spec()`).

    `candidates` lists up to 5 metrics tested beside the North Star: a spec metric's name
    (any role), or a metric of its own (the keys of any metric; `owner` defaults to the North
    Star's). Only kinds with a value per entity and period can be backtested: count, sum,
    entities (0/1), mean, ratio, engagement (the entity's qualifying events).

    `backtest` settings: max_lag (k = 1..max_lag periods of the primary grain), quantiles
    (the cohort view's groups), recent_periods (the window of the "stops leading" check),
    min_rank_correlation (the leading rule's bar) and revenue: {gained, lost} (sum measures
    whose running total is the entity's MRR; without it retention is the only outcome).

    Returns {candidates, backtest, backtest_metrics}: `backtest_metrics` are the metric-like
    rows whose measures get columns in int_entity_periods (candidates of their own, and the
    revenue measures), next to the spec's metrics.
-#}
{% macro northstar_spec_candidates(raw, metrics, context) %}
    {#- the kinds whose value exists per entity (their `entity_value` in the kind table) -#}
    {%- set per_entity_kinds = [] -%}
    {%- for kind, row in context.metric_kinds.items() if row.get('entity_value') -%}
        {%- do per_entity_kinds.append(kind) -%}
    {%- endfor -%}
    {%- set by_name = {} -%}
    {%- for metric in metrics -%}{%- do by_name.update({metric.name: metric}) -%}{%- endfor -%}
    {%- set north_star = metrics[0] -%}

    {%- set entries = raw.get('candidates', []) -%}
    {%- if entries is none -%}{%- set entries = [] -%}{%- endif -%}
    {%- if entries is string or entries is mapping or entries is not sequence -%}
        {{ northstar_spec_error('northstar.candidates', 'must be a list of metric names or metrics', entries) }}
    {%- endif -%}
    {%- if entries | length > 5 -%}
        {{ northstar_spec_error('northstar.candidates', 'expected at most 5 candidates beside the North Star, got ' ~ entries | length, entries | map('string') | list) }}
    {%- endif -%}

    {%- set candidates = [] -%}
    {%- set backtest_metrics = [] -%}
    {%- set seen = [north_star.name] -%}
    {%- for entry in entries -%}
        {%- set field = 'northstar.candidates[' ~ loop.index0 ~ ']' -%}
        {%- if entry is string -%}
            {%- if entry not in by_name -%}
                {{ northstar_spec_error(field, 'unknown metric; spec metrics: ' ~ by_name.keys() | sort | join(', ') ~ ' (or give a metric of its own: {name, kind, ...})', entry) }}
            {%- endif -%}
            {%- set metric = by_name[entry] -%}
        {%- elif entry is mapping -%}
            {%- set given = {'owner': north_star.owner} -%}
            {%- do given.update(entry) -%}
            {%- set metric = northstar_spec_metric('candidate', field, given, context) -%}
            {%- if metric.name in by_name -%}
                {{ northstar_spec_error(field ~ '.name', 'is the name of a spec metric: name it alone to test that metric', metric.name) }}
            {%- endif -%}
        {%- else -%}
            {{ northstar_spec_error(field, 'must be a metric name or a metric ({name, kind, ...})', entry) }}
        {%- endif -%}
        {%- if metric.entity_value is none -%}
            {{ northstar_spec_error(field, 'metric ' ~ metric.name ~ ' of kind ' ~ metric.kind ~ ' has no value per entity; candidates are of kind ' ~ per_entity_kinds | join(', '), metric.name) }}
        {%- endif -%}
        {%- if metric.name in seen -%}
            {{ northstar_spec_error(field, 'is listed twice (the North Star is always tested)', metric.name) }}
        {%- endif -%}
        {%- do seen.append(metric.name) -%}
        {%- if entry is mapping -%}{%- do backtest_metrics.append(metric) -%}{%- endif -%}
        {%- do candidates.append(northstar_backtest_candidate(metric, false)) -%}
    {%- endfor -%}
    {%- if north_star.entity_value is not none -%}
        {%- do candidates.insert(0, northstar_backtest_candidate(north_star, true)) -%}
    {%- endif -%}

    {%- set settings = raw.get('backtest', {}) -%}
    {%- if settings is none -%}{%- set settings = {} -%}{%- endif -%}
    {%- if settings is not mapping -%}
        {{ northstar_spec_error('northstar.backtest', 'must be a mapping of settings', settings) }}
    {%- endif -%}
    {%- set rows = [
        {'key': 'max_lag', 'rule': 'positive_integer', 'default': 8},
        {'key': 'quantiles', 'rule': 'positive_integer', 'default': 5},
        {'key': 'recent_periods', 'rule': 'positive_integer', 'default': 8},
        {'key': 'min_rank_correlation', 'rule': 'number', 'above': 0, 'below': 1, 'default': 0.1},
        {'key': 'revenue', 'rule': 'any', 'default': none},
    ] -%}
    {%- set known = rows | map(attribute='key') | list -%}
    {%- for key in settings if key not in known -%}
        {{ northstar_spec_error('northstar.backtest.' ~ key, 'unknown setting; expected ' ~ known | join(', '), settings[key]) }}
    {%- endfor -%}
    {%- set backtest = northstar_spec_fields('northstar.backtest', settings, rows, context) -%}
    {#- positive_integer is skipped for a default; check the given values' range here -#}
    {%- if backtest.max_lag > 26 -%}
        {{ northstar_spec_error('northstar.backtest.max_lag', 'must be 1 to 26 periods (k = 1..max_lag)', backtest.max_lag) }}
    {%- endif -%}
    {%- if backtest.quantiles < 2 or backtest.quantiles > 10 -%}
        {{ northstar_spec_error('northstar.backtest.quantiles', 'must be 2 to 10 groups', backtest.quantiles) }}
    {%- endif -%}
    {%- if backtest.revenue is not none -%}
        {%- set revenue = northstar_spec_fields('northstar.backtest', settings, [{
            'key': 'revenue', 'rule': 'record', 'closed': true, 'fields': [
                {'key': 'gained', 'rule': 'measure'},
                {'key': 'lost', 'rule': 'measure'},
            ]}], context).revenue -%}
        {%- for side in ['gained', 'lost'] if revenue[side].kind != 'sum' -%}
            {{ northstar_spec_error('northstar.backtest.revenue.' ~ side, 'must be a sum measure: {kind: sum, events, property}', revenue[side].kind) }}
        {%- endfor -%}
        {%- for side in ['gained', 'lost'] -%}
            {%- do backtest_metrics.append({'name': 'backtest_revenue_' ~ side, 'numerator': revenue[side], 'denominator': none}) -%}
        {%- endfor -%}
        {%- do backtest.update({'revenue': revenue}) -%}
    {%- endif -%}
    {%- set outcomes = ['retention'] + (['paid_conversion', 'expansion', 'revenue'] if backtest.revenue is not none else []) -%}
    {%- do backtest.update({'outcomes': outcomes}) -%}
    {{ return({'candidates': candidates, 'backtest': backtest, 'backtest_metrics': backtest_metrics}) }}
{% endmacro %}


{#- A candidate as the backtest reads it: its per-entity value is the metric's numerator
    over its denominator in int_entity_periods (`<name>__numerator` / `__denominator`);
    engagement keeps only the numerator, the entity's own qualifying events. -#}
{% macro northstar_backtest_candidate(metric, is_north_star) %}
    {{ return({
        'name': metric.name,
        'label': metric.label,
        'kind': metric.kind,
        'is_north_star': is_north_star,
        'has_denominator': metric.entity_value == 'quotient',
    }) }}
{% endmacro %}
