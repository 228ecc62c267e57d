"""Erasure of a member merged from several source records, through every layer, for good.

One estate, one erasure, then the two things that could bring the person
back: the source re-sending a drop that holds them (with a malformed row
quarantined on the way), and a full rebuild of every dbt model plus an
identity run. A scan written independently of the erasure code looks for the
person's values (phones in any written form, e-mail, union_id, card numbers,
buyer ids, a name no one else has) in every table and view of every schema.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from extractors.ledger import check_ledger
from extractors.pos import extract_pos
from extractors.sinks import open_sink
from ronghe.privacy.enforce import enforce_batch
from ronghe.privacy.erasure import erase
from ronghe.privacy.identifiers import PSEUDONYM_PREFIX, PrivacyKeyMissing
from ronghe.privacy.subjects import resolve_member, resolve_record
from ronghe.settings import Settings
from ronghe.warehouse import connect
from tests.dbt.pipeline import model_contents
from tests.privacy.conftest import build_layers
from tests.privacy.scan import find_values, multi_record_member, personal_values, records_of

pytestmark = pytest.mark.slow


def _member_totals(con, member_key: str) -> tuple:
    return con.execute(
        "select count(*), sum(net_amount) from unified.fct_orders where member_key = ?",
        [member_key],
    ).fetchone()


def _resend_drop(settings: Settings, origin: str, card: str, phone: str) -> str:
    """Copy the drop behind `origin` as its next delivery, plus a malformed member row."""
    assert settings.sources_dir is not None
    drop = settings.sources_dir / Path(origin).parent
    day = drop.name.partition("_")[0]
    siblings = [p.name for p in drop.parent.iterdir() if p.name.split("_")[0] == day]
    resend = drop.parent / f"{day}_{len(siblings) + 1}"
    shutil.copytree(drop, resend)
    with (resend / "members.csv").open("ab") as members:
        members.write(f"{card},{phone}\r\n".encode("ascii"))
    return str(resend.relative_to(settings.sources_dir))


@pytest.fixture(scope="module")
def erased(built_estate: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    settings = built_estate
    con = connect(settings.warehouse_path)
    try:
        member_key = multi_record_member(con)
        records = records_of(con, member_key)
        values = personal_values(con, records)
        before_scan = find_values(con, values)
        card, origin, phone = con.execute(
            "select member_card_no, _origin, phone from raw.pos_members "
            "where member_card_no in (select unnest(?::varchar[])) order by _loaded_at limit 1",
            [sorted(r for s, r in records if s == "POS_MEMBER")],
        ).fetchone()
        totals_before = _member_totals(con, member_key)
    finally:
        con.close()
    marts_before = model_contents(settings, ("marts_candidate",))

    result = erase(settings, "privacy-tests", member_key=member_key, reason="ticket 1")

    con = connect(settings.warehouse_path)
    try:
        after_erase = find_values(con, values)
        audit = con.execute("select * from ops.privacy_erasures").fetchall()
        actions = con.execute(
            "select layer || '.' || table_name, sum(rows_affected) "
            "from ops.privacy_erasure_actions group by 1"
        ).fetchall()
    finally:
        con.close()
    with open_sink(settings.warehouse) as sink:
        _, ledger_problems = check_ledger(sink)

    resend = _resend_drop(settings, origin, card, phone)
    extract_pos(settings)
    build_layers(settings, tmp_path_factory.mktemp("rebuild"), "--full-refresh")

    con = connect(settings.warehouse_path)
    try:
        after_rebuild = find_values(con, values)
        resend_batch = con.execute(
            "select distinct _batch_id from raw.pos_members where _origin like ?", [f"{resend}/%"]
        ).fetchall()
        batch_id = resend_batch[0][0]
        batch_actions = con.execute(
            "select layer || '.' || table_name, action from ops.privacy_erasure_actions "
            "where batch_id = ?",
            [batch_id],
        ).fetchall()
        quarantined = con.execute(
            "select raw_text, reason from ops.quarantine where batch_id = ? and stream = 'members'",
            [batch_id],
        ).fetchall()
        totals_after = _member_totals(con, member_key)
        pseudonymised_cards = con.execute(
            "select count(*) from raw.pos_members where _batch_id = ? and member_card_no like ?",
            [batch_id, f"{PSEUDONYM_PREFIX}%"],
        ).fetchone()[0]
    finally:
        con.close()
    return {
        "member_key": member_key,
        "records": records,
        "values": values,
        "before_scan": before_scan,
        "result": result,
        "after_erase": after_erase,
        "audit": audit,
        "actions": dict(actions),
        "ledger_problems": ledger_problems,
        "after_rebuild": after_rebuild,
        "batch_actions": batch_actions,
        "quarantined": quarantined,
        "pseudonymised_cards": pseudonymised_cards,
        "totals": (totals_before, totals_after),
        "marts": (marts_before, model_contents(settings, ("marts_candidate",))),
    }


def test_the_member_is_merged_from_several_records_found_in_every_layer(erased: dict) -> None:
    assert len(erased["records"]) >= 2
    assert erased["values"]["phones"] and erased["values"]["texts"]
    layers = {location.split(".")[0] for location in erased["before_scan"]}
    assert {"raw", "identity", "staging", "intermediate", "unified"} <= layers


def test_erasure_leaves_no_personal_value_in_any_layer(erased: dict) -> None:
    assert erased["result"].records_erased == len(erased["records"])
    assert erased["after_erase"] == {}


def test_erasure_is_audited_without_personal_data(erased: dict) -> None:
    (row,) = erased["audit"]
    erasure_id, _, requested_by, kind, member_key, records, identifiers, reason = row
    assert (requested_by, kind, member_key, reason) == (
        "privacy-tests",
        "member",
        erased["member_key"],
        "ticket 1",
    )
    assert erasure_id == "erasure-000001"
    assert records == len(erased["records"]) and identifiers >= records
    scrubbed = ("raw.pos_members", "identity.member_records", "unified.dim_member")
    for table in (*scrubbed, "intermediate.int_member_golden_record"):
        assert erased["actions"].get(table, 0) > 0, table
    # the audit tables are in schema ops, which the scan covered


def test_load_ledger_still_balances_after_erasure(erased: dict) -> None:
    assert erased["ledger_problems"] == []


def test_a_resent_drop_is_scrubbed_as_it_lands(erased: dict) -> None:
    assert erased["pseudonymised_cards"] >= 1
    layers = {table for table, _ in erased["batch_actions"]}
    assert {"raw.pos_members", "ops.quarantine"} <= layers
    assert erased["quarantined"], "the malformed member row was not quarantined"
    for raw_text, reason in erased["quarantined"]:
        assert raw_text is None and "erased" in reason


def test_erasure_survives_reextraction_and_full_rebuild(erased: dict) -> None:
    assert erased["after_rebuild"] == {}


def test_sales_facts_are_kept(erased: dict) -> None:
    before, after = erased["totals"]
    assert before[0] > 0 and after == before
    marts_before, marts_after = erased["marts"]
    assert marts_before and marts_after == marts_before


def test_a_source_record_leads_to_its_whole_member(erased: dict, built_estate: Settings) -> None:
    con = connect(built_estate.warehouse_path)
    try:
        other = multi_record_member(con, exclude={erased["member_key"]})
    finally:
        con.close()
    with open_sink(built_estate.warehouse) as sink:
        by_key = resolve_member(sink, other)
        system, record_id = sorted(by_key.records)[-1]
        by_record = resolve_record(sink, system, record_id)
    assert by_record.records == by_key.records and len(by_key.records) >= 2


def test_landing_needs_the_key_once_someone_is_erased(erased: dict, built_estate: Settings) -> None:
    without_key = dataclasses.replace(built_estate, privacy_key=None)
    with open_sink(built_estate.warehouse) as sink, pytest.raises(PrivacyKeyMissing):
        enforce_batch(sink, "pos-999999", without_key)
