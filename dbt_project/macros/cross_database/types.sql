{#-
    The 64-bit float type. Not dbt.type_float(): that renders `float`, which DuckDB reads as the 32-bit REAL, so KPIs
    would lose precision there; `double` (DuckDB) and `double precision` (standard SQL, PostgreSQL) are both 64-bit.
-#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'pmi')()) }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}
