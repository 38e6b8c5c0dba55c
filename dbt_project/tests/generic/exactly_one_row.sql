{#- Fails when the model has more than one row (for single-row models such as the warehouse as-of time). -#}
{% test exactly_one_row(model) %}
select count(*) as n_rows
from {{ model }}
having count(*) <> 1
{% endtest %}
