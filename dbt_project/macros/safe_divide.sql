{#- numerator / denominator as a 64-bit float (type_double), NULL when the denominator is 0 or NULL. -#}
{% macro safe_divide(numerator, denominator) -%}
    case when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
         else cast({{ numerator }} as {{ type_double() }}) / cast({{ denominator }} as {{ type_double() }}) end
{%- endmacro %}
