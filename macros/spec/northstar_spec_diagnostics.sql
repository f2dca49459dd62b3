{#-
    The built-in diagnostic metrics: the lifecycle of the spec's entities, published in
    dim_metrics and fct_metric_values next to the spec's metrics (role `diagnostic`).

    They are not declared in the spec, because every North Star has them and their
    definitions are fixed (docs/spec.md, "Diagnostic metrics"): active, new, returning,
    resurrected and dormant entities, and the growth quick ratio. Their names are reserved:
    northstar_spec() rejects a spec metric with one of them.

    Each is a sum of lifecycle counts of int_lifecycle_periods (`counts.numerator`), or a
    quotient of two such sums (`counts.denominator`); int_diagnostic_metric_values computes
    them. Every key a spec metric carries is here too (northstar_spec_metric), so a reader
    of the catalog treats both alike: no owner (nobody is accountable for a definition),
    no parent (they describe the North Star's base, not a lever under it), no targets, no
    thresholds (status none), complete when the period has ended.
-#}
{% macro northstar_spec_diagnostics(entity, first_sort_order) %}
    {%- set entities = entity ~ 's' -%}
    {%- set rows = [
        {'name': 'lifecycle_active_entities', 'label': 'Active ' ~ entities,
            'description': 'Entities with at least one activity event (activity_events) in the period: new + returning + resurrected.',
            'numerator': ['active_entities']},
        {'name': 'lifecycle_new_entities', 'label': 'New active ' ~ entities,
            'description': 'Entities first seen in the period and active in it. (A new_entities metric counts every entity first seen, active or not.)',
            'numerator': ['new_entities']},
        {'name': 'lifecycle_returning_entities', 'label': 'Returning ' ~ entities,
            'description': 'Entities active in the period and in the previous one.',
            'numerator': ['returning_entities']},
        {'name': 'lifecycle_resurrected_entities', 'label': 'Resurrected ' ~ entities,
            'description': 'Entities active in the period, not in the previous one, and first seen before it.',
            'numerator': ['resurrecting_entities']},
        {'name': 'lifecycle_dormant_entities', 'label': 'Dormant ' ~ entities,
            'description': 'Entities active in the previous period and not in this one: the previous period\'s active = returning + dormant.',
            'numerator': ['dormant_entities'], 'direction': 'lower_is_better'},
        {'name': 'lifecycle_quick_ratio', 'label': 'Growth quick ratio',
            'description': '(new + resurrected) / dormant entities: above 1 the active entities grew (their change is new + resurrected - dormant). Null (unknown) when no entity went dormant.',
            'numerator': ['new_entities', 'resurrecting_entities'], 'denominator': ['dormant_entities'],
            'unit': none},
    ] -%}
    {%- set diagnostics = [] -%}
    {%- for row in rows -%}
        {%- set quotient = row.get('denominator') is not none -%}
        {%- do diagnostics.append({
            'name': row.name,
            'field': 'built-in diagnostic metric ' ~ row.name,
            'role': 'diagnostic',
            'kind': 'lifecycle',
            'label': row.label,
            'description': row.description,
            'owner': none,
            'unit': row.get('unit', entities),
            'definition_version': '1',
            'parent_metric': none,
            'numerator': none,
            'denominator': none,
            'counts': {'numerator': row.numerator, 'denominator': row.get('denominator')},
            'direction': row.get('direction', 'higher_is_better'),
            'warn': none,
            'breach': none,
            'status_grains': [],
            'targets': [],
            'target_growth_rate': none,
            'is_additive': not quotient,
            'is_ratio': false,
            'has_numerator': true,
            'has_denominator': quotient,
            'may_be_negative': false,
            'completion_lag_days': 0,
            'sort_order': first_sort_order + loop.index,
        }) -%}
    {%- endfor -%}
    {{ return(diagnostics) }}
{% endmacro %}
