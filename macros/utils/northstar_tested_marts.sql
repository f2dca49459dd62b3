{#-
    Which published marts dbt's own tests have passed on, as they are now.

    The validation gate does not repeat what dbt's tests check on the public marts
    (uniqueness, the period spine, finite numbers, docs/validation.md "Which layer checks
    what"); instead it checks that those tests ran and passed on the tables it is about to
    publish. An on-run-end hook records, per mart of the `published_snapshot` exposure, what
    the run did to it: `built` (the model was rebuilt), then `tested` when every data test
    attached to it ran in this run and passed, or `failed` when one of them failed or
    errored. A run that ran only some of a mart's tests records no test event for it. The
    gate reads the latest event of each mart: anything but `tested` stops the publish, so
    `dbt run` followed by `northstar publish` is refused until `dbt test` (or `dbt build`)
    passes.
-#}


{#- In the marts' own schema, where the gate finds it whatever the target's schema is:
    the schema dbt gives fct_metric_values (`marts` standalone; in a host project, whatever
    its generate_schema_name and +schema configs make of it). -#}
{% macro northstar_tested_marts_relation() -%}
    {%- set schema = namespace(name='marts') -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == 'northstar'
        and node.name == 'fct_metric_values' -%}
        {%- set schema.name = node.schema -%}
    {%- endfor -%}
    {{ return(api.Relation.create(
        database=target.database, schema=schema.name, identifier='_northstar_mart_checks'
    )) }}
{%- endmacro %}


{#- The models the published snapshot holds: the dbt exposure's, by unique id. -#}
{% macro northstar_published_models() -%}
    {%- set models = [] -%}
    {%- for exposure in graph.exposures.values() if exposure.name == 'published_snapshot' -%}
        {%- do models.extend(exposure.depends_on.nodes) -%}
    {%- endfor -%}
    {{ return(models) }}
{%- endmacro %}


{% macro northstar_record_tested_marts(results) -%}
    {%- if not execute or target.type != 'duckdb' or flags.WHICH not in ('build', 'run', 'test') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set status = {} -%}
    {%- for result in results -%}
        {%- do status.update({result.node.unique_id: result.status | string}) -%}
    {%- endfor -%}
    {%- set events = [] -%}
    {%- for model_id in northstar_published_models() -%}
        {%- set name = model_id.split('.')[-1] -%}
        {%- if status.get(model_id) == 'success' -%}
            {%- do events.append((name, 'built', 1)) -%}
        {%- endif -%}
        {%- set attached = [] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'test' and model_id in node.depends_on.nodes -%}
            {%- do attached.append(status.get(node.unique_id)) -%}
        {%- endfor -%}
        {%- if attached | select('in', ['fail', 'error']) | list -%}
            {%- do events.append((name, 'failed', 2)) -%}
        {%- elif attached and attached | reject('in', ['pass', 'warn']) | list | length == 0 -%}
            {%- do events.append((name, 'tested', 2)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set relation = northstar_tested_marts_relation() -%}
    create schema if not exists {{ relation.schema }};
    create table if not exists {{ relation }} (
        model varchar, event varchar, invocation_id varchar, recorded_at timestamp, seq integer
    );
    {%- if events %}
    insert into {{ relation }} values
    {%- for name, event, seq in events %}
        ('{{ name }}', '{{ event }}', '{{ invocation_id }}', current_timestamp, {{ seq }})
        {{- ',' if not loop.last }}
    {%- endfor %};
    {%- endif %}
    delete from {{ relation }}
    where recorded_at < (
        select max(latest.recorded_at) from {{ relation }} as latest
        where latest.model = {{ relation }}.model
    );
{%- endmacro %}
