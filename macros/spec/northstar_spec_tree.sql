{#-
    The metric tree of the spec (called by `northstar_spec()` once every metric is
    normalized): each metric's parent is checked and its depth set.

    - `parent` names a metric of the spec (default: the North Star; the North Star has none);
    - a team metric (role team, `team_metrics:`) sits under an input: its `parent` is required
      and must name an input, so the 3 to 5 inputs stay the levers and team metrics are the
      third level, below them;
    - following parents from any metric reaches the North Star: a metric that is its own
      ancestor (a cycle) is refused, naming the field and the loop.

    `tree_depth` is the number of parents above the metric: 0 for the North Star, 1 for the
    metrics under it (inputs, guardrails, outputs), 2 for a team metric under an input.
-#}
{% macro northstar_spec_tree(metrics) %}
    {%- set by_name = {} -%}
    {%- for metric in metrics -%}
        {%- do by_name.update({metric.name: metric}) -%}
    {%- endfor -%}
    {%- set inputs = metrics | selectattr('role', 'equalto', 'input') | map(attribute='name') | list -%}
    {%- for metric in metrics -%}
        {%- set parent = metric.parent_metric -%}
        {%- if metric.role == 'team' and parent is none -%}
            {{ northstar_spec_error(metric.field ~ '.parent', 'a team metric needs a parent: the input it moves (' ~ inputs | join(', ') ~ ')', parent) }}
        {%- endif -%}
        {%- if parent is not none and parent not in by_name -%}
            {{ northstar_spec_error(metric.field ~ '.parent', 'unknown parent metric', parent) }}
        {%- endif -%}
        {%- if metric.role == 'team' and by_name[parent].role != 'input' -%}
            {{ northstar_spec_error(metric.field ~ '.parent', 'a team metric hangs under an input (' ~ inputs | join(', ') ~ '), not under a ' ~ by_name[parent].role | replace('_', ' ') ~ ' metric', parent) }}
        {%- endif -%}
    {%- endfor -%}
    {#- Walk up from each metric; a chain that meets a metric twice is a cycle. -#}
    {%- for metric in metrics -%}
        {%- set walk = namespace(path=[metric.name], done=false) -%}
        {%- for _ in metrics -%}
            {%- set parent = by_name[walk.path[-1]].parent_metric -%}
            {%- if walk.done -%}
            {%- elif parent is none -%}
                {%- set walk.done = true -%}
            {%- elif parent in walk.path -%}
                {{ northstar_spec_error(metric.field ~ '.parent', 'the metric tree has a cycle: ' ~ (walk.path + [parent]) | join(' -> ') ~ '; every chain of parents must end at the North Star', metric.parent_metric) }}
            {%- else -%}
                {%- set walk.path = walk.path + [parent] -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do metric.update({'tree_depth': walk.path | length - 1}) -%}
    {%- endfor -%}
{% endmacro %}
