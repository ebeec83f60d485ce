{#- No two rows share the values of `columns`; nulls compare equal (a null is a value of
    the key, as in the contract's unique_key checks). Fails with each repeated key. -#}
{% test unique_key(model, columns) %}
SELECT {{ columns | join(', ') }}, count(*) AS rows_with_key
FROM {{ model }}
GROUP BY ALL
HAVING count(*) > 1
{% endtest %}
