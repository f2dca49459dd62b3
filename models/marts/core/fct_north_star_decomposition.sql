{#-
    Why the North Star moved: its change from the previous period, per grain, period and
    segment, split into components that add up to change_abs exactly (docs/decomposition.md
    has the identities). Components are generated from one list so that every row has the
    same columns; which decompositions apply follows the North Star's kind
    (northstar_decompositions).

    Amounts are in the metric's own terms: `scale` turns an entity sum into its share of
    the value (1 for an additive metric, 1 / denominator for a quotient), so the lifecycle
    parts of a ratio are the changes of each group's share of it.
-#}
{%- set spec = northstar_spec() -%}
{%- set north_star = spec.metrics[0] -%}
{%- set facts = northstar_decompositions(north_star) -%}
{%- set double = northstar_type_double() -%}

{%- set components = [] -%}
{%- if facts.breadth_depth -%}
{#- value = A x d, A active entities, d = active entities' sum / A (0 when A = 0); the
    midpoint (Shapley) split of a product is exact: dA * mean(d) + dd * mean(A) -#}
{%- do components.append({
    'decomposition': 'breadth_depth', 'component': 'breadth', 'source': 'entity_base',
    'entities': 'active_entities - previous_active_entities',
    'previous': 'previous_active_entities', 'current': 'active_entities',
    'contribution': '(active_entities - previous_active_entities)'
        ~ ' * (previous_per_active + per_active) / 2',
}) -%}
{%- do components.append({
    'decomposition': 'breadth_depth', 'component': 'depth', 'source': 'entity_base',
    'previous': 'previous_per_active', 'current': 'per_active',
    'contribution': '(per_active - previous_per_active)'
        ~ ' * (previous_active_entities + active_entities) / 2',
}) -%}
{%- do components.append({
    'decomposition': 'breadth_depth', 'component': 'not_active', 'source': 'entity_base',
    'previous': 'not_active_previous', 'current': 'not_active_current',
    'contribution': 'not_active_current - not_active_previous',
}) -%}
{%- endif -%}
{%- if facts.lifecycle -%}
{%- for name, previous, current in [
    ('new', none, 'new_current'),
    ('returning', 'returning_previous', 'returning_current'),
    ('resurrected', none, 'resurrected_current'),
    ('dormant', 'dormant_previous', none),
    ('not_active', 'not_active_previous', 'not_active_current'),
] -%}
{%- set terms = [] -%}
{%- if current %}{% do terms.append(current ~ ' * current_scale') %}{% endif -%}
{%- if previous %}{% do terms.append('- ' ~ previous ~ ' * previous_scale') %}{% endif -%}
{%- do components.append({
    'decomposition': 'lifecycle', 'component': name, 'source': 'entity_base',
    'entities': name ~ '_entities',
    'previous': previous, 'current': current,
    'contribution': terms | join(' '),
}) -%}
{%- endfor -%}
{%- endif -%}
{%- if facts.numerator_denominator -%}
{#- value = N x (1 / D), the same midpoint split -#}
{%- do components.append({
    'decomposition': 'numerator_denominator', 'component': 'numerator', 'source': 'changes',
    'previous': 'previous_numerator', 'current': 'numerator',
    'contribution': '(numerator - previous_numerator)'
        ~ ' * (1.0 / previous_denominator + 1.0 / denominator) / 2',
}) -%}
{%- do components.append({
    'decomposition': 'numerator_denominator', 'component': 'denominator', 'source': 'changes',
    'previous': 'previous_denominator', 'current': 'denominator',
    'contribution': '(1.0 / denominator - 1.0 / previous_denominator)'
        ~ ' * (previous_numerator + numerator) / 2',
}) -%}
{%- endif -%}
{%- if facts.segment and facts.ratio_like -%}
{#- value = sum over segment values of weight x rate, weight = D_v / D, rate = N_v / D_v:
    mix = dw * mean(rate), rate = the segment's change of N_v / D minus its mix -#}
{%- do components.append({
    'decomposition': 'segment', 'component': 'mix', 'source': 'segment_effects',
    'previous': 'previous_weight', 'current': 'weight', 'contribution': 'mix_effect',
}) -%}
{%- do components.append({
    'decomposition': 'segment', 'component': 'rate', 'source': 'segment_effects',
    'previous': 'previous_rate', 'current': 'rate',
    'contribution': 'share_change - mix_effect',
}) -%}
{%- elif facts.segment -%}
{%- do components.append({
    'decomposition': 'segment', 'component': 'change', 'source': 'segment_effects',
    'previous': 'part_previous_numerator', 'current': 'part_numerator',
    'contribution': 'share_change',
}) -%}
{%- endif %}

with

metric_values as (

    select * from {{ ref('fct_metric_values') }}
    where metric_name = {{ northstar_literal(north_star.name) }}

),

entity_changes as (

    select * from {{ ref('int_north_star_entity_changes') }}

),

entity_segments as (

    select * from {{ ref('int_entity_segments') }}

),

series as (

    select
        metric_name,
        grain,
        period_start,
        segment_name,
        segment_value,
        value,
        numerator,
        denominator,
        is_complete_period,
        lag(period_start) over (
            partition by grain, segment_name, segment_value
            order by period_start
        ) as previous_period_start,
        lag(value) over (
            partition by grain, segment_name, segment_value
            order by period_start
        ) as previous_value,
        lag(numerator) over (
            partition by grain, segment_name, segment_value
            order by period_start
        ) as previous_numerator,
        lag(denominator) over (
            partition by grain, segment_name, segment_value
            order by period_start
        ) as previous_denominator

    from metric_values

),

changes as (

    select
        *,
        value - previous_value as change_abs,
        {%- if facts.ratio_like %}
        1.0 / denominator as current_scale,
        1.0 / previous_denominator as previous_scale
        {%- else %}
        1.0 as current_scale,
        1.0 as previous_scale
        {%- endif %}

    from series

    where value is not null and previous_value is not null

),

entity_groups as (

    select
        entity_changes.grain,
        entity_changes.period_start,
        entity_segments.segment_name,
        entity_segments.segment_value,
        {%- for name in ['new', 'returning', 'resurrected', 'dormant'] %}
        sum(
            case when entity_changes.lifecycle_component = '{{ name }}' then 1 else 0 end
        ) as {{ name }}_entities,
        {%- endfor %}
        {%- for name in ['new', 'returning', 'resurrected'] %}
        sum(
            case
                when entity_changes.lifecycle_component = '{{ name }}'
                    then entity_changes.current_active_numerator
                else 0
            end
        ) as {{ name }}_current,
        {%- endfor %}
        {%- for name in ['returning', 'dormant'] %}
        sum(
            case
                when entity_changes.lifecycle_component = '{{ name }}'
                    then entity_changes.previous_active_numerator
                else 0
            end
        ) as {{ name }}_previous,
        {%- endfor %}
        sum(
            entity_changes.current_numerator - entity_changes.current_active_numerator
        ) as not_active_current,
        sum(
            entity_changes.previous_numerator - entity_changes.previous_active_numerator
        ) as not_active_previous,
        sum(case when entity_changes.is_active then 1 else 0 end) as active_entities,
        sum(case when entity_changes.was_active then 1 else 0 end) as previous_active_entities,
        sum(entity_changes.current_active_numerator) as active_current,
        sum(entity_changes.previous_active_numerator) as active_previous,
        -- rows with events but no activity in either period: not_active in both parts
        sum(
            case when entity_changes.lifecycle_component = 'not_active' then 1 else 0 end
        ) as not_active_entities

    from entity_changes

    inner join entity_segments
        on entity_changes.entity_id = entity_segments.entity_id

    group by 1, 2, 3, 4

),

entity_base as (

    select
        changes.*,
        {%- for column in [
            'new_entities', 'returning_entities', 'resurrected_entities', 'dormant_entities',
            'not_active_entities', 'new_current', 'returning_current', 'resurrected_current',
            'returning_previous', 'dormant_previous', 'not_active_current',
            'not_active_previous', 'active_entities', 'previous_active_entities',
        ] %}
        coalesce(entity_groups.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        case
            when entity_groups.active_entities > 0
                then entity_groups.active_current / entity_groups.active_entities
            else 0
        end as per_active,
        case
            when entity_groups.previous_active_entities > 0
                then entity_groups.active_previous / entity_groups.previous_active_entities
            else 0
        end as previous_per_active

    from changes

    left join entity_groups
        on
            changes.grain = entity_groups.grain
            and changes.period_start = entity_groups.period_start
            and changes.segment_name = entity_groups.segment_name
            and changes.segment_value = entity_groups.segment_value

),

segment_parts as (

    select
        changes.*,
        parts.segment_name as breakdown,
        parts.segment_value as part_segment_value,
        coalesce(parts.numerator, 0) as part_numerator,
        coalesce(parts.previous_numerator, 0) as part_previous_numerator,
        coalesce(parts.denominator, 0) as part_denominator,
        coalesce(parts.previous_denominator, 0) as part_previous_denominator

    from changes

    inner join series as parts
        on
            changes.grain = parts.grain
            and changes.period_start = parts.period_start
            and parts.segment_name != 'all'

    where changes.segment_name = 'all'

),

segment_rates as (

    select
        *,
        part_numerator * current_scale
        - part_previous_numerator * previous_scale as share_change,
        part_denominator * current_scale as weight,
        part_previous_denominator * previous_scale as previous_weight,
        {{ northstar_divide('part_numerator', 'part_denominator') }} as rate,
        {{ northstar_divide('part_previous_numerator', 'part_previous_denominator') }}
            as previous_rate

    from segment_parts

),

segment_effects as (

    select
        *,
        -- a segment value absent in one period is weighed at the rate it has in the other
        (weight - previous_weight) * coalesce(
            (previous_rate + rate) / 2, rate, previous_rate, 0
        ) as mix_effect

    from segment_rates

),

components as (
    {%- for c in components %}

    select
        metric_name,
        grain,
        period_start,
        previous_period_start,
        segment_name,
        segment_value,
        '{{ c.decomposition }}' as decomposition,
        {{ 'breakdown' if c.source == 'segment_effects' else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
            as breakdown,
        '{{ c.component }}' as component,
        {{ 'part_segment_value' if c.source == 'segment_effects' else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
            as component_value,
        cast({{ c.get('entities') or 'null' }} as {{ dbt.type_bigint() }}) as entities,
        cast({{ c.previous or 'null' }} as {{ double }}) as previous_amount,
        cast({{ c.current or 'null' }} as {{ double }}) as current_amount,
        cast({{ c.contribution }} as {{ double }}) as contribution,
        value,
        previous_value,
        change_abs,
        is_complete_period

    from {{ c.source }}
    {{- '\n\n    union all' if not loop.last }}
    {%- else %}

    -- no exact split of a {{ north_star.kind }} North Star: the table is empty
    select
        metric_name,
        grain,
        period_start,
        previous_period_start,
        segment_name,
        segment_value,
        cast(null as {{ dbt.type_string() }}) as decomposition,
        cast(null as {{ dbt.type_string() }}) as breakdown,
        cast(null as {{ dbt.type_string() }}) as component,
        cast(null as {{ dbt.type_string() }}) as component_value,
        cast(null as {{ dbt.type_bigint() }}) as entities,
        cast(null as {{ double }}) as previous_amount,
        cast(null as {{ double }}) as current_amount,
        cast(null as {{ double }}) as contribution,
        value,
        previous_value,
        change_abs,
        is_complete_period

    from changes

    where 1 = 0
    {%- endfor %}

),

final as (

    select
        metric_name,
        grain,
        period_start,
        previous_period_start,
        segment_name,
        segment_value,
        decomposition,
        breakdown,
        component,
        component_value,
        entities,
        previous_amount,
        current_amount,
        contribution,
        value,
        previous_value,
        change_abs,
        is_complete_period

    from components

)

select * from final
