{#- The standard campaign KPIs from summed measures (prefix lets callers use e.g. trailing_7d_ columns). -#}
{% macro campaign_kpis(spend='spend', impressions='impressions', clicks='clicks', conversions='conversions',
                       revenue='revenue', prefix='') -%}
    {{ safe_divide(spend ~ ' * 1000', impressions) }} as {{ prefix }}cpm,
    {{ safe_divide(clicks, impressions) }} as {{ prefix }}ctr,
    {{ safe_divide(conversions, clicks) }} as {{ prefix }}cvr,
    {{ safe_divide(spend, conversions) }} as {{ prefix }}cpa,
    {{ safe_divide(revenue, spend) }} as {{ prefix }}roas
{%- endmacro %}
