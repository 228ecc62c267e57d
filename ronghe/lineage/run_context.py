"""What ran: the code version and the configuration, as every Ronghe run event names them.

Each event Ronghe writes carries a `processing_engine` run facet naming
Ronghe and its code version (the git commit, `-dirty` when the checkout has
uncommitted changes), and a `tags` run facet with that version and the hash
of the reviewed configuration as loaded (dbt's events get the same tags), so
the run history says which code and which thresholds produced each result.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from functools import cache
from typing import Any

from ronghe import __version__
from ronghe.config import load_config
from ronghe.lineage.naming import PRODUCER
from ronghe.settings import REPO_ROOT, Settings

CODE_VERSION_TAG = "code_version"
CONFIG_HASH_TAG = "config_hash"


@cache
def code_version() -> str:
    """The checkout's git commit (`-dirty` with uncommitted changes), else the release.

    A deployment built from a tarball has no `.git`: its release version is all there is.
    """
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"ronghe-{__version__}"
    return f"{commit}-dirty" if changed else commit


def config_hash(settings: Settings) -> str:
    """A short hash of the configuration as loaded (comments and layout do not count)."""
    canonical = json.dumps(load_config(settings.config_path), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def run_context_facets(settings: Settings, parent: Any = None) -> dict[str, Any]:
    """The run facets of every event Ronghe writes itself; `parent`: the task run it belongs to."""
    from openlineage.client.facet_v2 import processing_engine_run, tags_run

    facets = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=code_version(), name="ronghe", producer=PRODUCER
        ),
        "tags": tags_run.TagsRunFacet(tags=context_tags(settings), producer=PRODUCER),
    }
    if parent is not None:
        facets["parent"] = parent
    return facets


def error_facet(error: BaseException) -> Any:
    """The run facet of a step that raised: the exception's type and message."""
    from openlineage.client.facet_v2 import error_message_run

    return error_message_run.ErrorMessageRunFacet(
        message=f"{type(error).__name__}: {error}"[:4000],
        programmingLanguage="python",
        producer=PRODUCER,
    )


def context_tags(settings: Settings) -> list[Any]:
    """The code version and configuration hash as run tags (also added to dbt's events)."""
    from openlineage.client.facet_v2 import tags_run

    return [
        tags_run.TagsRunFacetFields(key=CODE_VERSION_TAG, value=code_version(), source="RONGHE"),
        tags_run.TagsRunFacetFields(
            key=CONFIG_HASH_TAG, value=config_hash(settings), source="RONGHE"
        ),
    ]
