{#- POS vendor B sends Chinese codes; staging maps them to vendor A's codes
    (CONTRACT.md section 2), so everything downstream speaks one vocabulary. -#}

{% macro pos_txn_type(column) -%}
    {{ map_codes(column, {'销售': 'SALE', '退货': 'RETURN', '作废': 'VOID'}) }}
{%- endmacro %}

{% macro pos_payment_method(column) -%}
    {{ map_codes(column, {
        '现金': 'CASH',
        '银联': 'UNIONPAY',
        '支付宝': 'ALIPAY',
        '微信': 'WECHAT',
        '线上已付': 'PREPAID_ONLINE',
    }) }}
{%- endmacro %}

{% macro pos_gender(column) -%}
    {{ map_codes(column, {'男': 'M', '女': 'F'}) }}
{%- endmacro %}
