{#- Fails on every row where column_a > column_b (rows with a NULL on either side pass). -#}
{% test column_a_lte_column_b(model, column_a, column_b) %}
select *
from {{ model }}
where {{ column_a }} > {{ column_b }}
{% endtest %}
