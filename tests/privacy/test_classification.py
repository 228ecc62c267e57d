"""Every personal column is classified in the dbt project, and marts carry none in the clear."""

from __future__ import annotations

import pytest

from extractors.sinks import open_sink
from ronghe.privacy.catalog import (
    CATEGORIES,
    OPEN_SCHEMAS,
    ColumnClass,
    check_warehouse,
    exposed_columns,
    load_classification,
    looks_personal,
    unclassified_columns,
    uncontained_dimension_columns,
)
from ronghe.settings import Settings


@pytest.mark.parametrize(
    ("column", "category"),
    [
        ("buyer_name", "name"),
        ("member_name", "name"),
        ("nickname", "name"),
        ("姓名", "name"),
        ("receiver_phone", "phone"),
        ("member_phone_digits", "phone"),
        ("mobile", "phone"),
        ("buyer_email", "email"),
        ("birth_date", "date_of_birth"),
        ("union_id", "online_identifier"),
        ("openid", "online_identifier"),
        ("receiver_address", "address"),
        ("id_card_no", "id_number"),
        ("member_card_no", "customer_id"),
        ("buyer_id", "customer_id"),
    ],
)
def test_personal_looking_names_are_recognised(column: str, category: str) -> None:
    assert looks_personal(column) == category


@pytest.mark.parametrize(
    "column", ["item_name", "store_name", "dealer_name", "channel_name", "store_code", "qty"]
)
def test_names_of_things_do_not_look_personal(column: str) -> None:
    assert looks_personal(column) is None


def test_a_new_untagged_personal_column_is_found() -> None:
    declared = {("model", "dim_member"): {"phone_e164": ColumnClass(True, "phone")}}
    relations = {("unified", "dim_member"): ["member_key", "phone_e164", "receiver_phone"]}
    findings = unclassified_columns(relations, declared)
    assert [(f.table, f.column) for f in findings] == [("dim_member", "receiver_phone")]


def test_personal_data_in_a_mart_is_an_exposure() -> None:
    declared = {
        ("model", "mart_members"): {
            "member_phone": ColumnClass(True, "phone"),
            "phone_masked": ColumnClass(False, "phone_masked"),
        }
    }
    relations = {("marts", "mart_members"): ["member_key", "member_phone", "phone_masked"]}
    findings = exposed_columns(relations, declared, OPEN_SCHEMAS)
    assert [f.column for f in findings] == ["member_phone"]


def test_personal_data_in_a_unified_dimension_is_uncontained() -> None:
    declared = {
        ("model", "dim_member"): {
            "full_name": ColumnClass(True, "name"),
            "name_masked": ColumnClass(False, "name_masked"),
        },
        ("model", "fct_orders"): {"member_source_record_id": ColumnClass(True, "customer_id")},
    }
    relations = {
        ("unified", "dim_member"): ["member_key", "full_name", "name_masked"],
        ("unified", "fct_orders"): ["order_key", "member_source_record_id"],
        ("intermediate", "dim_member"): ["full_name"],
    }
    findings = uncontained_dimension_columns(relations, declared)
    assert [(f.schema, f.table, f.column) for f in findings] == [
        ("unified", "dim_member", "full_name")
    ]


def test_dim_member_carries_masked_contacts_only() -> None:
    # dim_member's contract is enforced, so its declared columns are its columns
    classification = load_classification()
    dim_member = classification[("model", "dim_member")]
    assert not [column for column, decision in dim_member.items() if decision.pii]
    assert {column: dim_member[column].category for column in dim_member if "masked" in column} == {
        "name_masked": "name_masked",
        "phone_masked": "phone_masked",
        "email_masked": "email_masked",
    }
    golden = classification[("model", "int_member_golden_record")]
    clear = {"full_name", "phone_e164", "email", "union_id", "birth_date"}
    assert {column for column, decision in golden.items() if decision.pii} >= clear


def test_the_project_uses_known_categories_only() -> None:
    classification = load_classification()
    used = {c.category for columns in classification.values() for c in columns.values() if c.pii}
    assert used and used <= CATEGORIES
    # the raw landing's personal columns are declared on the dbt sources
    assert classification[("raw", "pos_members")]["phone"] == ColumnClass(True, "phone")
    assert classification[("raw", "ecom_orders")]["buyer_email"] == ColumnClass(True, "email")


@pytest.mark.slow
def test_every_personal_column_of_a_built_warehouse_is_classified(built_estate: Settings) -> None:
    with open_sink(built_estate.warehouse) as sink:
        findings = check_warehouse(sink)
    assert [str(f) for f in findings] == []
