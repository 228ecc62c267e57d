{#- Layers are schemas with fixed names (staging, intermediate, unified,
    marts_candidate) on every engine, so that BI tools, grants and lineage
    name the same relation the same way everywhere. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
