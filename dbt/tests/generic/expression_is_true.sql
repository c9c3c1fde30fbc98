{#-
    expression_is_true: every row satisfies a boolean SQL expression (rows where it is NULL pass).
        data_tests:
          - expression_is_true:
              arguments:
                expression: "high >= low"
-#}
{% test expression_is_true(model, expression) %}

    select *
    from {{ model }}
    where not ({{ expression }})

{% endtest %}
