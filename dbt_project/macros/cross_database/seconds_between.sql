{#-
    Whole seconds from timestamp `start` to `stop` as a BIGINT, counting second boundaries crossed (DuckDB's
    date_diff('second', ...)): equal to floor(stop) - floor(start) in epoch seconds, so sub-second parts never round a
    user's age up into the next day. dbt.datediff(.., 'second') gives a float on PostgreSQL, hence this macro.
-#}
{% macro seconds_between(start, stop) -%}
    {{ return(adapter.dispatch('seconds_between', 'pmi')(start, stop)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(start, stop) -%}
    date_diff('second', {{ start }}, {{ stop }})
{%- endmacro %}

{% macro default__seconds_between(start, stop) -%}
    cast(extract(epoch from date_trunc('second', {{ stop }})) - extract(epoch from date_trunc('second', {{ start }}))
        as bigint)
{%- endmacro %}
