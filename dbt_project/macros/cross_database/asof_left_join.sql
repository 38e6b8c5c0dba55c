{#-
    A left join to the one row of `relation` nearest to `left_on` on the side `operator` allows, per match key: the
    budget in effect at an hour (`>=`: the latest effective_ts <= hour_ts), the next holiday on or after a date (`<=`).
    `relation` is a CTE (or relation) name and the alias of the joined row; `match` pairs each left expression with
    the relation's column it must equal; `right_on` is the relation's ordering column. Like DuckDB's ASOF join, rows
    whose `right_on` is NULL never match, and at most one row joins (keys are unique in pmi's uses).

    DuckDB runs its native ASOF join (one sorted merge). Elsewhere each right row gets the validity interval up to
    its neighbour (lead / lag over the match key) and an ordinary join keeps the row whose interval holds `left_on`:
    portable window SQL that PostgreSQL plans as a hash join on the key, instead of a LATERAL subquery per row.
-#}
{% macro asof_left_join(relation, match, left_on, operator, right_on) -%}
    {%- if operator not in ['>=', '>', '<=', '<'] -%}
        {{ exceptions.raise_compiler_error("asof_left_join: operator must be one of >=, >, <=, <; got " ~ operator) }}
    {%- endif -%}
    {{ return(adapter.dispatch('asof_left_join', 'pmi')(relation, match, left_on, operator, right_on)) }}
{%- endmacro %}

{% macro duckdb__asof_left_join(relation, match, left_on, operator, right_on) -%}
    asof left join {{ relation }}
        on
        {%- for left, right in match %}
        {{ left }} = {{ relation }}.{{ right }} and
        {%- endfor %}
        {{ left_on }} {{ operator }} {{ relation }}.{{ right_on }}
{%- endmacro %}

{% macro default__asof_left_join(relation, match, left_on, operator, right_on) -%}
    {#- `>=` / `>`: the latest right row, valid until the next one; `<=` / `<`: the earliest, valid after the previous. -#}
    {%- set latest = operator in ['>=', '>'] -%}
    {%- set bound_op = {'>=': '<', '>': '<=', '<=': '>', '<': '>='}[operator] -%}
    left join (
        select
            *,
            {{ 'lead' if latest else 'lag' }}({{ right_on }}) over (
                {%- if match %} partition by {{ match | map(attribute=1) | join(', ') }}{% endif %}
                order by {{ right_on }}
            ) as asof_bound
        from {{ relation }}
        where {{ right_on }} is not null
    ) as {{ relation }}
        on
        {%- for left, right in match %}
        {{ left }} = {{ relation }}.{{ right }} and
        {%- endfor %}
        {{ left_on }} {{ operator }} {{ relation }}.{{ right_on }}
        and ({{ relation }}.asof_bound is null or {{ left_on }} {{ bound_op }} {{ relation }}.asof_bound)
{%- endmacro %}
