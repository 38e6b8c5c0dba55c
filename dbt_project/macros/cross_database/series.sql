{#-
    One row per value start, start + step, ..., stop (inclusive, like generate_series everywhere), as a select-list
    expression: DuckDB's generate_series returns a list that `unnest` turns into rows, PostgreSQL's is already a
    set-returning function. `step` is optional (1 for integers; pass e.g. "interval '1 day'" for timestamps).
-#}
{% macro series_rows(start, stop, step=none) -%}
    {{ return(adapter.dispatch('series_rows', 'pmi')(start, stop, step)) }}
{%- endmacro %}

{% macro duckdb__series_rows(start, stop, step) -%}
    unnest(generate_series({{ start }}, {{ stop }}{% if step is not none %}, {{ step }}{% endif %}))
{%- endmacro %}

{% macro default__series_rows(start, stop, step) -%}
    generate_series({{ start }}, {{ stop }}{% if step is not none %}, {{ step }}{% endif %})
{%- endmacro %}
