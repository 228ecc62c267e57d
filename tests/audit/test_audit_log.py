"""The audit log: one entry per audited action, a hash chain that exposes tampering.

Each action runs for real against a DuckDB file (and the publish also on a
real PostgreSQL server): a publish and a refused publish on the quality
tests' small sales warehouse, steward overrides on the identity schema, an
erasure on a tiny landed estate, run entries as the transform DAG writes them.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from extractors.sinks import open_sink
from ronghe.audit.log import append, read_entries, verify
from ronghe.audit.record import RUN_FINISHED, RUN_STARTED, record_run
from ronghe.cli import main
from ronghe.generate import generate_estate
from ronghe.identity.overrides import add_override, revoke_override
from ronghe.identity.schema import ensure_schema
from ronghe.identity.store import open_warehouse
from ronghe.lineage.run_context import code_version, config_hash
from ronghe.quality.publish import MartsNotPublished, publish_marts
from ronghe.settings import Settings
from ronghe.warehouse import warehouse_connection
from tests.quality.builders import build_sales_warehouse, execute, sales_settings

NOW = datetime(2026, 11, 1, 9, 30)


def entries(settings: Settings, **filters: object) -> list[dict]:
    with warehouse_connection(settings) as connection:
        return read_entries(connection, **filters)


def verify_cli(settings: Settings, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "--warehouse", settings.warehouse, "verify"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def publish_twice(settings: Settings) -> int:
    """A clean build published, then a broken one refused; returns the mart's rows."""
    rows = build_sales_warehouse(settings)["mart_sales_daily"]
    publish_marts(settings, "run-good")
    execute(settings, "update marts_candidate.mart_sales_daily set units = -1")
    with pytest.raises(MartsNotPublished):
        publish_marts(settings, "run-bad")
    return rows


def check_publish_entries(settings: Settings, mart_rows: int) -> None:
    logged = entries(settings)
    assert [(e["seq"], e["action"], e["run_id"]) for e in logged] == [
        (1, "publish.published", "run-good"),
        (2, "publish.refused", "run-bad"),
    ]
    published, refused = (json.loads(e["details"]) for e in logged)
    with warehouse_connection(settings) as connection:
        cursor = connection.cursor()
        cursor.execute("select publish_id, data_version from ops.publish_log order by decided_at")
        decisions = cursor.fetchall()
    assert [e["subject"] for e in logged] == [publish_id for publish_id, _ in decisions]
    assert published["data_version"] == decisions[0][1] and published["failed_rules"] == []
    assert published["tables"] == {"mart_sales_daily": mart_rows}
    assert refused["status"] == "refused" and refused["data_version"] is None
    assert "marts.mart_sales_daily.units_at_least_0" in refused["failed_rules"]


@pytest.fixture
def sales(tmp_path: Path) -> Settings:
    return sales_settings(tmp_path)


def test_publish_and_refusal_each_append_one_entry(sales):
    check_publish_entries(sales, publish_twice(sales))
    assert verify(entries(sales)).intact


def test_changing_an_entry_breaks_the_chain_at_that_entry(sales, capsys):
    publish_twice(sales)
    assert verify_cli(sales, capsys) == (0, verify(entries(sales)).describe() + "\n")

    execute(sales, "update ops.audit_log set run_id = 'run-other' where seq = 1")

    code, message = verify_cli(sales, capsys)
    assert code == 1
    assert "BROKEN at entry 1" in message and "was changed" in message


def test_deleting_an_entry_breaks_the_chain_after_it(sales, capsys):
    publish_twice(sales)
    record_run(sales, "run-3", RUN_STARTED)

    execute(sales, "delete from ops.audit_log where seq = 2")

    code, message = verify_cli(sales, capsys)
    assert code == 1 and "BROKEN at entry 3" in message and "missing" in message


def test_rewriting_an_entry_with_its_own_hash_still_breaks_the_chain(sales):
    """A forger who recomputes the changed entry's hash breaks the next entry's link."""
    publish_twice(sales)
    record_run(sales, "run-3", RUN_STARTED)
    first = entries(sales)[0]
    forged = {**first, "details": json.dumps({"forged": True})}
    from ronghe.audit.log import entry_hash

    execute(
        sales,
        f"update ops.audit_log set details = '{forged['details']}', "
        f"row_hash = '{entry_hash(first['previous_hash'], forged)}' where seq = 1",
    )

    verdict = verify(entries(sales))
    assert verdict.broken_seq == 2 and "previous_hash" in verdict.problem


def test_a_failed_action_leaves_no_entry(sales):
    record_run(sales, "run-1", RUN_STARTED)
    sink = open_sink(sales.warehouse)
    try:
        sink.begin("audit")
        append(sink, "publish.published", actor="test", run_id="run-2")
        sink.rollback()
    finally:
        sink.close()

    assert [e["run_id"] for e in entries(sales)] == ["run-1"]
    record_run(sales, "run-3", RUN_FINISHED, outcome="published")
    assert [e["seq"] for e in entries(sales)] == [1, 2] and verify(entries(sales)).intact


def test_run_entries_name_code_version_configuration_and_outcome(sales, capsys):
    record_run(sales, "run-1", RUN_STARTED, force=False)
    record_run(sales, "run-1", RUN_FINISHED, outcome="failed", failed_task="publish_marts")
    started, finished = entries(sales)
    for entry in (started, finished):
        details = json.loads(entry["details"])
        assert details["code_version"] == code_version()
        assert details["config_hash"] == config_hash(sales)
        assert entry["run_id"] == "run-1" and entry["actor"] == "ronghe-pipeline"
    assert json.loads(finished["details"])["outcome"] == "failed"

    assert [e["action"] for e in entries(sales, action="run.finished")] == ["run.finished"]
    assert len(entries(sales, action="run")) == 2
    assert entries(sales, since=datetime.now() + timedelta(days=1)) == []
    assert main(["audit", "--warehouse", sales.warehouse, "log", "--action", "run"]) == 0
    assert capsys.readouterr().out.count("run-1") == 2


def test_overrides_recorded_and_revoked_are_logged_without_record_ids(sales):
    warehouse = open_warehouse(sales)
    try:
        ensure_schema(warehouse)
        left, right = ("POS_MEMBER", "C000123"), ("TMALL", "tb_88")
        first = add_override(warehouse, "merge", left, right, "same person", "steward-li", NOW)
        second = add_override(warehouse, "split", left, right, "wrong merge", "steward-li", NOW)
        assert revoke_override(warehouse, second, NOW)
        with pytest.raises(ValueError, match="reason"):
            add_override(warehouse, "merge", left, right, " ", "steward-li", NOW)
    finally:
        warehouse.close()

    logged = entries(sales)
    assert [(e["action"], e["subject"]) for e in logged] == [
        ("override.recorded", first),
        ("override.recorded", second),
        ("override.revoked", second),
    ]
    assert logged[0]["actor"] == "steward-li"
    assert json.loads(logged[0]["details"]) == {
        "action": "MERGE",
        "reason": "same person",
        "systems": ["POS_MEMBER", "TMALL"],
    }
    assert not any("C000123" in str(e) or "tb_88" in str(e) for e in logged)
    assert verify(logged).intact


def test_an_erasure_is_logged_by_reference_only(tmp_path):
    from extractors.pos import extract_pos
    from ronghe.privacy.erasure import erase
    from tests.dbt.pipeline import settings_for

    sources = tmp_path / "sources"
    generate_estate(sources, 0.02, 7, 2)
    settings = dataclasses.replace(
        settings_for(sources, str(tmp_path / "wh.duckdb"), tmp_path / "home"),
        privacy_key="audit-tests-key-not-a-secret",
    )
    extract_pos(settings)
    with warehouse_connection(settings) as connection:
        card, phone = connection.execute(
            "select member_card_no, phone from raw.pos_members where phone <> '' limit 1"
        ).fetchone()

    result = erase(settings, "dpo-wang", record=("POS_MEMBER", card), reason="request 17")

    (entry,) = entries(settings)
    assert (entry["action"], entry["actor"], entry["subject"]) == (
        "erasure.completed",
        "dpo-wang",
        result.erasure_id,
    )
    assert json.loads(entry["details"])["register"] == "ops.privacy_erasures"
    assert card not in str(entry) and phone not in str(entry)


@pytest.mark.postgres
def test_publish_entries_and_tamper_detection_on_postgres(postgres_server, tmp_path, capsys):
    settings = sales_settings(tmp_path, postgres_server.create_database("ronghe_audit"))
    check_publish_entries(settings, publish_twice(settings))
    record_run(settings, "run-3", RUN_STARTED)
    assert verify_cli(settings, capsys)[0] == 0

    execute(settings, "delete from ops.audit_log where seq = 2")

    code, message = verify_cli(settings, capsys)
    assert code == 1 and "BROKEN at entry 3" in message
