"""Validating lineage events against the OpenLineage JSON Schema, offline.

The event is checked against `spec/OpenLineage.json` (its RunEvent), and every
facet against the schema its `_schemaURL` names: a standard facet against the
vendored file of that version (`spec/facets/`), which must exist, so a client
upgrade that names a newer facet version is reported rather than passed
unchecked. A custom facet (a `_schemaURL` outside openlineage.io/spec, like
openlineage-dbt's `dbt_node`) is checked as a facet: `_producer` and
`_schemaURL` present.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).parent / "spec"
SPEC_PREFIX = "https://openlineage.io/spec/"
EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json"


@cache
def _registry() -> Any:
    from referencing import Registry, Resource

    resources = []
    for path in [SPEC_DIR / "OpenLineage.json", *sorted((SPEC_DIR / "facets").glob("*.json"))]:
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def _validator(url: str) -> Any:
    """A validator for `<schema $id>#<pointer>`, or None when the schema is not vendored."""
    from jsonschema import Draft202012Validator
    from referencing.exceptions import NoSuchResource

    document, _, pointer = url.partition("#")
    try:
        _registry().get_or_retrieve(document)
    except NoSuchResource:
        return None
    return Draft202012Validator({"$ref": url if pointer else document}, registry=_registry())


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, key, facet) of every facet in an event."""
    yield from (("run", k, v) for k, v in event.get("run", {}).get("facets", {}).items())
    yield from (("job", k, v) for k, v in event.get("job", {}).get("facets", {}).items())
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for dataset in event.get(side, []):
            where = f"{side} {dataset.get('name')}"
            for group in ("facets", extra):
                yield from ((where, k, v) for k, v in dataset.get(group, {}).items())


def event_problems(event: dict[str, Any]) -> list[str]:
    """Every way an event breaks the OpenLineage schema (empty when it is valid)."""
    from jsonschema import Draft202012Validator

    base = Draft202012Validator({"$ref": f"{EVENT_SCHEMA}#/$defs/RunEvent"}, registry=_registry())
    problems = [f"event: {error.message}" for error in base.iter_errors(event)]
    for where, key, facet in _facets(event):
        url = facet.get("_schemaURL") if isinstance(facet, dict) else None
        if not url or "_producer" not in facet:
            problems.append(f"{where} facet {key}: no _producer or _schemaURL")
            continue
        if not url.startswith(SPEC_PREFIX):
            continue
        validator = _validator(url)
        if validator is None:
            problems.append(f"{where} facet {key}: {url} is not a vendored schema")
            continue
        # A facet schema describes the facet under its key (`{"columnLineage": {...}}`)
        # or, through the `#/$defs/...` pointer, the facet itself.
        instance = facet if "#" in url else {key: facet}
        problems.extend(
            f"{where} facet {key}: {e.message}" for e in validator.iter_errors(instance)
        )
    return problems


def validate_file(path: Path) -> list[str]:
    """Problems of every event in one JSON Lines file, each naming its line."""
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{path}:{number}: not JSON ({error})")
            continue
        problems.extend(f"{path}:{number}: {problem}" for problem in event_problems(event))
    return problems


def validate_events_dir(home: Path) -> list[str]:
    """Problems of every recorded event under a RONGHE_HOME."""
    from ronghe.lineage.emit import events_files

    return [problem for path in events_files(home) for problem in validate_file(path)]
