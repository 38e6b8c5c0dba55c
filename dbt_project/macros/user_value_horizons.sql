{#- Revenue horizons (days since install) of the user-value marts; revenue_dN covers days_since_install < N. -#}
{% macro revenue_horizons() -%}
    {{ return([7, 14, 30, 90, 180]) }}
{%- endmacro %}
