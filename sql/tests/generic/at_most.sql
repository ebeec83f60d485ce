{#- A funnel stage counts a subset of the stage before it: never more. Fails with each row
    whose column exceeds `than`. -#}
{% test at_most(model, column_name, than) %}
SELECT *
FROM {{ model }}
WHERE {{ column_name }} > {{ than }}
{% endtest %}
