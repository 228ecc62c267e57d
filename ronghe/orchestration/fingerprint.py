"""The transform's input fingerprint: has anything the marts depend on changed since publish?

The marts are a function of what was landed, how it is transformed and the
decisions people made about it. The fingerprint hashes each of these:

- `landed_batches`: every committed landing batch (`ops.load_batches`); a
  batch that changed nothing is rolled back and leaves no row, so a run that
  finds nothing new adds nothing here;
- `privacy_erasures`: the erasure register (`ops.privacy_erasures`);
- `steward_overrides`: the steward's decisions (`identity.overrides`: what
  they force and whether they are active, not when a run first applied them);
- `dbt_project`, `quality_suites`, `config`: the dbt project's files, the
  Great Expectations suites and `config/ronghe.yml` (the business rules);
- `package_version`: the Ronghe release that transforms.

`publish_marts` records the fingerprint the run started from in
`ops.transform_fingerprints` once the marts are published. The transform
DAG's first task compares the current fingerprint with the latest recorded
one; when they are equal the marts already are what a rebuild would make, and
the rest of the run is skipped. A run started with `force` rebuilds anyway.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ronghe.settings import REPO_ROOT, Settings

FINGERPRINT_TABLE = "ops.transform_fingerprints"
QUALITY_SUITES_DIR = REPO_ROOT / "expectations"
# dbt's own output and installed packages are not inputs.
_DBT_GENERATED = {"target", "logs", "dbt_packages", "__pycache__"}

# What is hashed of each warehouse table, in a stable order; a missing table hashes as empty.
_WAREHOUSE_INPUTS: dict[str, tuple[str, str]] = {
    "landed_batches": ("ops.load_batches", "batch_id, source, seq, committed_at, loaded"),
    "privacy_erasures": ("ops.privacy_erasures", "erasure_id, requested_at, records_erased"),
    "steward_overrides": (
        "identity.overrides",
        "override_id, action, left_source_system, left_source_record_id, "
        "right_source_system, right_source_record_id, status, revoked_at",
    ),
}

_CREATE_TABLE = f"""
    create table if not exists {FINGERPRINT_TABLE} (
        run_id varchar not null,
        recorded_at timestamp not null,
        fingerprint varchar not null,
        inputs varchar not null
    )
"""


@dataclass(frozen=True)
class InputFingerprint:
    """The digest of every input of the transform, and of each input on its own."""

    digest: str
    inputs: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "inputs": dict(self.inputs)}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> InputFingerprint:
        return cls(digest=str(value["digest"]), inputs=dict(value["inputs"]))


@dataclass(frozen=True)
class RecordedFingerprint:
    """The fingerprint a publish recorded, with the run that published."""

    run_id: str
    recorded_at: datetime
    fingerprint: InputFingerprint


def _digest(parts: Iterable[Any]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(repr(part).encode("utf-8"))
        hasher.update(b"\0")
    return hasher.hexdigest()


def files_digest(root: Path, *, skip_dirs: frozenset[str] = frozenset()) -> str:
    """SHA-256 over the relative path and content of every file under `root`."""
    hasher = hashlib.sha256()
    if not root.exists():
        return hasher.hexdigest()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part in skip_dirs for part in relative.parts):
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        hasher.update(str(relative).encode("utf-8") + b"\0")
        hasher.update(hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()


def _table_digests(connection: Any) -> dict[str, str]:
    import sqlalchemy as sa

    from ronghe.quality.connection import existing_tables

    present = existing_tables(connection)
    digests = {}
    for name, (table, columns) in _WAREHOUSE_INPUTS.items():
        rows = (
            connection.execute(sa.text(f"select {columns} from {table} order by {columns}"))
            if table in present
            else []
        )
        digests[name] = _digest(tuple(row) for row in rows)
    return digests


def code_digests(settings: Settings) -> dict[str, str]:
    """Digests of the inputs outside the warehouse: project files, configuration, version."""
    from ronghe import __version__
    from ronghe.transform.dbt_invocation import DBT_PROJECT_DIR

    return {
        "dbt_project": files_digest(DBT_PROJECT_DIR, skip_dirs=frozenset(_DBT_GENERATED)),
        "quality_suites": files_digest(QUALITY_SUITES_DIR, skip_dirs=frozenset({"__pycache__"})),
        "config": hashlib.sha256(settings.config_path.read_bytes()).hexdigest(),
        "package_version": __version__,
    }


def current_fingerprint(settings: Settings) -> InputFingerprint:
    """The fingerprint of the transform's inputs as they are now."""
    from ronghe.quality.connection import open_engine

    with open_engine(settings) as engine, engine.connect() as connection:
        inputs = {**_table_digests(connection), **code_digests(settings)}
    return InputFingerprint(digest=_digest(sorted(inputs.items())), inputs=inputs)


def last_recorded(settings: Settings) -> RecordedFingerprint | None:
    """The fingerprint recorded by the latest successful publish, if any."""
    import sqlalchemy as sa

    from ronghe.quality.connection import existing_tables, open_engine

    with open_engine(settings) as engine, engine.connect() as connection:
        if FINGERPRINT_TABLE not in existing_tables(connection, "ops"):
            return None
        row = connection.execute(
            sa.text(
                f"select run_id, recorded_at, fingerprint, inputs from {FINGERPRINT_TABLE} "
                "order by recorded_at desc limit 1"
            )
        ).first()
    if row is None:
        return None
    return RecordedFingerprint(
        run_id=row.run_id,
        recorded_at=row.recorded_at,
        fingerprint=InputFingerprint(digest=row.fingerprint, inputs=json.loads(row.inputs)),
    )


def record_fingerprint(settings: Settings, run_id: str, fingerprint: InputFingerprint) -> None:
    """Keep the fingerprint a published run started from (append-only)."""
    import sqlalchemy as sa

    from ronghe.quality.connection import open_engine

    with open_engine(settings) as engine, engine.begin() as connection:
        connection.execute(sa.text("create schema if not exists ops"))
        connection.execute(sa.text(_CREATE_TABLE))
        connection.execute(
            sa.text(
                f"insert into {FINGERPRINT_TABLE} (run_id, recorded_at, fingerprint, inputs) "
                "values (:run_id, :recorded_at, :fingerprint, :inputs)"
            ),
            {
                "run_id": run_id,
                "recorded_at": datetime.now(UTC).replace(tzinfo=None),
                "fingerprint": fingerprint.digest,
                "inputs": json.dumps(fingerprint.inputs, sort_keys=True),
            },
        )


@dataclass(frozen=True)
class TransformDecision:
    """Whether a transform run rebuilds, and why."""

    rebuild: bool
    reason: str
    fingerprint: InputFingerprint
    matches_run: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rebuild": self.rebuild,
            "reason": self.reason,
            "matches_run": self.matches_run,
            "fingerprint": self.fingerprint.as_dict(),
        }


def skip_message(run_id: str) -> str:
    return f"transform skipped: nothing changed since run {run_id}"


def decide(settings: Settings, *, force: bool = False) -> TransformDecision:
    """Rebuild unless the inputs are those of the latest published run (or `force` is set)."""
    fingerprint = current_fingerprint(settings)
    if force:
        return TransformDecision(True, "forced: rebuilding whatever changed", fingerprint)
    recorded = last_recorded(settings)
    if recorded is None:
        return TransformDecision(True, "no published run recorded its inputs yet", fingerprint)
    if recorded.fingerprint.digest == fingerprint.digest:
        return TransformDecision(
            False, skip_message(recorded.run_id), fingerprint, matches_run=recorded.run_id
        )
    changed = sorted(
        name
        for name in {*fingerprint.inputs, *recorded.fingerprint.inputs}
        if fingerprint.inputs.get(name) != recorded.fingerprint.inputs.get(name)
    )
    return TransformDecision(
        True, f"changed since run {recorded.run_id}: {', '.join(changed)}", fingerprint
    )
