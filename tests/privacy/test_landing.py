"""Erasure in the landing layer, on DuckDB and PostgreSQL, on a hand-written estate.

The estate (tests/extractors/estates.py) follows CONTRACT.md byte by byte,
independently of the generator. Member M0001 (张三, 138-0013-8000) is erased
by source record before any identity run; their phone also appears on an
anonymous till sale and, in another written form, in a malformed row that was
quarantined. Then the source re-sends the drop that registered them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from extractors.pos import extract_pos
from extractors.sinks import open_sink
from ronghe.cli import main
from ronghe.privacy.erasure import erase
from ronghe.privacy.identifiers import PSEUDONYM_PREFIX
from ronghe.settings import Settings
from tests.extractors.estates import pos_estate, txn_a, write_drop
from tests.extractors.helpers import land, query, settings_for

KEY = "landing-tests-key-not-a-secret"
PHONE_DIGITS = "13800138000"


def _estate(root: Path) -> Path:
    pos_estate(root)
    write_drop(
        root,
        "S0001",
        "20250303",
        [
            txn_a("T0010", "S0001", "20.00", member_phone="(+86)138 0013 8000"),
            txn_a("T0011", "S0001", "30.00", member_card_no="M0002"),
        ],
        ["T0010,1,0690000000017,1,20.00,0.00,", "T0011,1,0690000000017,1,30.00,0.00,"],
        [
            "M0002,王五,13700137000,F,1992-02-02,S0001,2025-03-03 11:00:00",
            "M0001,(+86)138 0013 8000",  # wrong number of fields: quarantined with its text
        ],
    )
    return root


def _personal_rows(settings: Settings) -> list[tuple]:
    """Raw and quarantined rows still holding M0001's card, name or phone (in any form)."""
    found = []
    with open_sink(settings.warehouse) as sink:
        for table in ("pos_members", "pos_transactions"):
            for row in sink.fetch(f"SELECT * FROM raw.{table}"):
                text = "|".join("" if v is None else str(v) for v in row)
                digits = "".join(ch for ch in text if ch.isdigit())
                if "M0001" in text or "张三" in text or PHONE_DIGITS in digits:
                    found.append((table, row))
        for (raw_text,) in sink.fetch("SELECT raw_text FROM ops.quarantine"):
            digits = "".join(ch for ch in raw_text or "" if ch.isdigit())
            if "M0001" in (raw_text or "") or PHONE_DIGITS in digits:
                found.append(("quarantine", raw_text))
    return found


def _facts(settings: Settings) -> list[tuple]:
    return query(
        settings,
        "SELECT count(*), sum(CAST(total_amount AS DECIMAL(12, 2))) FROM raw.pos_transactions "
        "WHERE txn_id <> '合计'",
    )


def _erase_and_resend(settings: Settings) -> dict:
    land(extract_pos, settings)
    before = {"personal": _personal_rows(settings), "facts": _facts(settings)}
    result = erase(settings, "dpo@example.com", record=("POS_MEMBER", "M0001"), reason="REQ-7")
    after = {"personal": _personal_rows(settings), "facts": _facts(settings)}
    assert settings.sources_dir is not None
    write_drop(  # the registration drop re-sent, identical
        settings.sources_dir,
        "S0001",
        "20250301_2",
        [txn_a("T0001", "S0001", "2598.00", member_card_no="M0001", member_phone="138-0013-8000")],
        ["T0001,1,0690123456789,2,1299.00,0.00,"],
        ["M0001,张三,138-0013-8000,M,1990-01-01,S0001,2025-03-01 10:00:00"],
    )
    resent = land(extract_pos, settings)
    return {
        "result": result,
        "before": before,
        "after": after,
        "resent_batch": resent["batch_id"],
        "after_resend": _personal_rows(settings),
        "untouched": query(
            settings, "SELECT name, phone FROM raw.pos_members WHERE member_card_no = 'M0002'"
        ),
        "pseudonyms": query(
            settings,
            "SELECT count(*) FROM raw.pos_members WHERE member_card_no LIKE "
            f"'{PSEUDONYM_PREFIX}%' AND name IS NULL AND phone IS NULL AND birth_date IS NULL",
        ),
        "quarantine": query(settings, "SELECT raw_text, reason FROM ops.quarantine"),
        "batch_actions": query(
            settings,
            "SELECT layer, table_name, action, rows_affected FROM ops.privacy_erasure_actions "
            f"WHERE batch_id = '{resent['batch_id']}' ORDER BY 1, 2, 3",
        ),
    }


def _check(outcome: dict) -> None:
    assert len(outcome["before"]["personal"]) >= 4  # registration, 2 till sales, quarantined row
    assert outcome["after"]["personal"] == []
    assert outcome["after"]["facts"] == outcome["before"]["facts"]
    assert outcome["result"].records_erased == 1
    assert outcome["untouched"] == [("王五", "13700137000")]
    assert outcome["after_resend"] == []
    assert outcome["pseudonyms"] == [(2,)]  # the first delivery's row and the re-sent one
    erased_texts = [reason for text, reason in outcome["quarantine"] if text is None]
    assert len(erased_texts) == 1 and "erased" in erased_texts[0]
    assert any(text for text, _ in outcome["quarantine"])  # other quarantined rows keep their text
    assert ("raw", "pos_members", "pseudonymised", 1) in outcome["batch_actions"]


def test_erasure_in_the_landing_on_duckdb(tmp_path: Path) -> None:
    sources = _estate(tmp_path / "sources")
    settings = dataclasses.replace(
        settings_for(sources, str(tmp_path / "warehouse.duckdb")), privacy_key=KEY
    )
    _check(_erase_and_resend(settings))


@pytest.mark.postgres
def test_erasure_in_the_landing_on_postgres(postgres_server, tmp_path: Path) -> None:
    sources = _estate(tmp_path / "sources")
    url = postgres_server.create_database("privacy_landing")
    settings = dataclasses.replace(settings_for(sources, url), privacy_key=KEY)
    _check(_erase_and_resend(settings))


def test_the_command_erases_by_record_and_refuses_unknown_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = _estate(tmp_path / "sources")
    warehouse = str(tmp_path / "warehouse.duckdb")
    land(extract_pos, settings_for(sources, warehouse))
    monkeypatch.delenv("RONGHE_PRIVACY_KEY", raising=False)
    erase_m0001 = ["privacy", "--warehouse", warehouse, "erase", "--record", "POS_MEMBER:M0001"]
    assert main(erase_m0001) == 1
    assert "RONGHE_PRIVACY_KEY" in capsys.readouterr().out
    monkeypatch.setenv("RONGHE_PRIVACY_KEY", KEY)
    unknown = ["privacy", "--warehouse", warehouse, "erase", "--record", "POS_MEMBER:NOPE"]
    assert main(unknown) == 1
    assert "no raw or identity row" in capsys.readouterr().out
    assert main([*erase_m0001, "--reason", "REQ-8"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records_erased"] == 1 and summary["rows_affected"]["raw.pos_members"] == {
        "nulled": 1,
        "pseudonymised": 1,
    }
    assert "M0001" not in json.dumps(summary, ensure_ascii=False)
    assert main(["privacy", "--warehouse", warehouse, "check"]) == 0
