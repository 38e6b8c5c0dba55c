{#- Fails on every row where the column is negative (NULLs pass; pair with not_null where needed). -#}
{% test non_negative(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
