"""Identity: every customer record has a member key, keys stay put, products map to SKUs.

The identity engine (`ronghe/identity/`) owns schema `identity`; these suites
check its promises from the outside before the marts are published (rule 4,
stable identity): every customer or member record the sources sent has a
current member key, a record only changes key through a logged merge or
split, and the sales riding on product codes without an ERP item stay small.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expectations.checks import no_rows
from ronghe.quality.spec import Suite


def _member_xref() -> Suite:
    return Suite(
        layer="unified",
        schema="identity",
        table="member_xref",
        row_key=("source_system", "source_record_id", "valid_from"),
        checks=(
            no_rows(
                "every_customer_record_keyed",
                "identity",
                """
                with customer_records as (
                    select 'POS_MEMBER' as source_system, member_card_no as source_record_id
                    from staging.stg_pos__members
                    union
                    select platform, buyer_id from staging.stg_ecommerce__customers
                )
                select customer_records.source_system, customer_records.source_record_id
                from customer_records
                left join {batch} as xref
                    on xref.source_system = customer_records.source_system
                    and xref.source_record_id = customer_records.source_record_id
                    and xref.valid_to is null
                where xref.member_key is null
                """,
                "Every store member card and every online customer has exactly the member key "
                "in force in identity.member_xref, so each sale can be traced to a person.",
            ),
            no_rows(
                "key_changes_are_logged",
                "identity",
                """
                select moved.source_system, moved.source_record_id,
                    earlier.member_key as old_member_key, moved.member_key as new_member_key,
                    moved.valid_from as changed_at, moved.run_id
                from {batch} as moved
                join identity.member_xref as earlier
                    on earlier.source_system = moved.source_system
                    and earlier.source_record_id = moved.source_record_id
                    and earlier.valid_to = moved.valid_from
                left join identity.member_merge_log as logged
                    on logged.run_id = moved.run_id
                    and ((logged.member_key = moved.member_key
                            and logged.other_key = earlier.member_key)
                        or (logged.member_key = earlier.member_key
                            and logged.other_key = moved.member_key))
                where earlier.member_key <> moved.member_key and logged.event_id is null
                """,
                "A record's member key changes only through a merge or split recorded in "
                "identity.member_merge_log in the same run (no silent key churn).",
            ),
        ),
    )


def _sku_xref(quality: Mapping[str, Any]) -> Suite:
    floor = float(quality["sku_mapping_coverage_min"])
    return Suite(
        layer="unified",
        schema="identity",
        table="unmapped_product_codes",
        name="unified.sku_mapping",
        row_key=("source_system", "product_code"),
        checks=(
            no_rows(
                "sold_codes_mapped",
                "sku_mapping",
                """
                select lines.source_system, lines.store_code, lines.order_id, lines.line_id,
                    lines.product_source_system, lines.product_code, lines.sku_key,
                    lines.net_amount, lines._origin, lines._origin_line
                from unified.fct_order_lines as lines
                join {batch} as codes
                    on codes.source_system = lines.product_source_system
                    and codes.product_code = lines.product_code
                """,
                "Every sales line's product code maps to an ERP item; the lines listed sold "
                "under a code the ERP did not know (kept under a provisional SKU key).",
            ),
            no_rows(
                "sku_mapping_coverage",
                "sku_coverage",
                f"""
                with sales as (
                    select sum(abs(net_amount)) as sales_value from unified.fct_order_lines
                ),
                unmapped as (
                    select sum(abs(sales_value)) as unmapped_value from {{batch}} as codes
                )
                select sales.sales_value, unmapped.unmapped_value,
                    1 - coalesce(unmapped.unmapped_value, 0) / sales.sales_value as coverage
                from sales cross join unmapped
                where sales.sales_value > 0
                    and 1 - coalesce(unmapped.unmapped_value, 0) / sales.sales_value < {floor}
                """,
                f"At least {floor:.0%} of the sales value maps to ERP items; below that, a "
                "product code format has probably changed at a source.",
            ),
        ),
    )


def suites(config: Mapping[str, Any]) -> list[Suite]:
    return [_member_xref(), _sku_xref(config["quality"])]
