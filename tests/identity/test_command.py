"""The steward's command line against a real DuckDB warehouse."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ronghe.identity import command
from ronghe.identity.store import DuckDBWarehouse


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ronghe")
    command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.handler(args) or 0)


def test_overrides_are_added_listed_and_revoked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = str(tmp_path / "w.duckdb")
    split = ("override", "split", "POS_MEMBER:C7", "pos_member:C8", "--reason", "twins")
    assert cli("identity", "--warehouse", warehouse, *split, "--by", "steward") == 0
    override_id = capsys.readouterr().out.split(":")[0]
    assert cli("identity", "--warehouse", warehouse, "override", "list") == 0
    listed = capsys.readouterr().out
    assert override_id in listed and "SPLIT" in listed and "not applied yet" in listed
    assert cli("identity", "--warehouse", warehouse, "override", "revoke", override_id) == 0
    connection = DuckDBWarehouse(warehouse)
    try:
        status = connection.query("SELECT status FROM identity.overrides").iloc[0, 0]
    finally:
        connection.close()
    assert status == "REVOKED"


def test_a_malformed_record_reference_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merge = ("override", "merge", "C7", "MALL:B1", "--reason", "x")
    code = cli("identity", "--warehouse", str(tmp_path / "w.duckdb"), *merge)
    assert code == 2
    assert "SYSTEM:record_id" in capsys.readouterr().out
