"""The dbt manifest the transform DAG is rendered from, compiled at deploy or run time.

The transform DAG draws one Airflow task per dbt model from `manifest.json`
(cosmos `LoadMode.DBT_MANIFEST`), so parsing the DAG file never starts dbt.
`compile_manifest` runs `dbt parse` into a target directory of its own under
RONGHE_HOME, apart from `dbt_project/target/` where people run dbt by hand:
a developer's half-finished `dbt run` never changes what the scheduler sees.
`ronghe run` compiles it before every run; a deployment compiles it in its
init step (`python -m ronghe.orchestration.setup`), and again whenever the
dbt project changes.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ronghe.settings import Settings

MANIFEST_DIR_NAME = "dbt_manifest"


class ManifestMissingError(RuntimeError):
    """The transform DAG cannot be drawn: no compiled dbt manifest yet."""


def manifest_path(settings: Settings) -> Path:
    """Where the scheduler's copy of the dbt manifest lives."""
    return settings.home / MANIFEST_DIR_NAME / "manifest.json"


def require_manifest(settings: Settings) -> Path:
    """The manifest's path, or an error that says how to compile it."""
    path = manifest_path(settings)
    if not path.is_file():
        raise ManifestMissingError(
            f"No dbt manifest at {path}: the transform DAG is drawn from it. Compile it with "
            "`python -m ronghe.orchestration.setup` (the compose init service and `ronghe run` "
            "do this), with the same RONGHE_HOME as the scheduler."
        )
    return path


def compile_manifest(settings: Settings) -> Path:
    """Run `dbt parse` and install its manifest atomically where the DAG file reads it."""
    from ronghe.transform.dbt_invocation import run_dbt

    target = manifest_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".parse-") as scratch:
        run_dbt(["parse", "--target-path", scratch], settings)
        compiled = Path(scratch) / "manifest.json"
        json.loads(compiled.read_text(encoding="utf-8"))  # a truncated file fails here, not later
        # A DAG parse that reads the file mid-write would see half a manifest.
        os.replace(compiled, target)
    return target
