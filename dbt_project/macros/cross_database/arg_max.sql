{#-
    Aggregate: `value` of the row with the largest `order_by` among the rows where `condition` holds (optional),
    with DuckDB's arg_max semantics: rows whose value or order_by is NULL are skipped; NULL when no row is left.
    Elsewhere: the first element of the values ordered by order_by descending (PostgreSQL has no arg_max).
-#}
{% macro arg_max(value, order_by, condition=none) -%}
    {{ return(adapter.dispatch('arg_max', 'pmi')(value, order_by, condition)) }}
{%- endmacro %}

{% macro duckdb__arg_max(value, order_by, condition) -%}
    arg_max({{ value }}, {{ order_by }}){% if condition is not none %} filter (where {{ condition }}){% endif %}
{%- endmacro %}

{% macro default__arg_max(value, order_by, condition) -%}
    (array_agg({{ value }} order by {{ order_by }} desc) filter (
        where {{ value }} is not null and {{ order_by }} is not null
        {%- if condition is not none %} and ({{ condition }}){% endif %}
    ))[1]
{%- endmacro %}
