{#-
    on-run-start: when northstar runs as a package of another dbt project, fail before any
    model runs, naming the fix, if that project

    - has a model, seed or snapshot named like one of northstar's models: dbt 1.11 resolves
      a package's one-argument ref() to the root project's node first, so northstar's marts
      would silently read the host's table (dbt only warns,
      PackageNodeDependsOnRootProjectNode);
    - does not list northstar in its `dbt` dispatch search order: dbt would then render
      northstar's staging tests with its own get_where_subquery, and they would fail on the
      literal placeholder `__northstar_unverified_loads__`.

    Standalone there is no other project: no check.
-#}
{% macro northstar_check_host_project() -%}
    {%- if execute and project_name != 'northstar' -%}
        {%- set problems = [] -%}
        {%- set ours = [] -%}
        {%- set theirs = {} -%}
        {%- for node in graph.nodes.values()
            if node.resource_type in ('model', 'seed', 'snapshot') -%}
            {%- if node.package_name == 'northstar' -%}
                {%- do ours.append(node.name) -%}
            {%- else -%}
                {%- do theirs.update({node.name: node.package_name}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set shadowed = ours | select('in', theirs) | sort | list -%}
        {%- if shadowed -%}
            {%- set names = [] -%}
            {%- for name in shadowed -%}
                {%- do names.append(theirs[name] ~ '.' ~ name) -%}
            {%- endfor -%}
            {%- do problems.append(
                names | join(', ') ~ ' shadow' ~ ('s' if names | length == 1 else '')
                ~ " northstar's model" ~ ('s' if names | length > 1 else '')
                ~ ' of the same name (dbt would resolve northstar\'s ref() to '
                ~ ('it' if names | length == 1 else 'them') ~ '): rename or alias '
                ~ ('it' if names | length == 1 else 'them')
            ) -%}
        {%- endif -%}
        {%- set where_subquery = adapter.dispatch('get_where_subquery', 'dbt') -%}
        {%- if where_subquery.macro.package_name != 'northstar' -%}
            {%- do problems.append(
                "dbt_project.yml needs `dispatch: [{macro_namespace: dbt, search_order: ['"
                ~ project_name ~ "', 'northstar', 'dbt']}]` for northstar's data tests"
            ) -%}
        {%- endif -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error(
                'northstar as a package: ' ~ problems | join('; ')
                ~ ' (README, "Add northstar to your dbt project")'
            ) }}
        {%- endif -%}
    {%- endif -%}
    {#- A hook must render to SQL; this one only checks. -#}
    select 1 as northstar_host_project_checked
{%- endmacro %}
