"""Every figure `ronghe eval` reports, gathered from the modules that own them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ronghe.evaluate.rows import rows_by_layer
from ronghe.settings import Settings


def evaluate(settings: Settings, sources_dir: Path) -> dict[str, Any]:
    """One JSON-ready object with every section of the evaluation.

    rows_by_layer: layer -> table -> rows; ledger: source -> stream -> counts and
    `balanced`; members and products: identity scores against `_truth/`;
    defects: injected defects caught by a check or a quarantine record.
    """
    from extractors.ledger import ledger_report
    from ronghe.identity.evaluation import evaluate_identity
    from ronghe.quality.defect_coverage import defect_coverage

    identity = evaluate_identity(settings, sources_dir)
    return {
        "rows_by_layer": rows_by_layer(settings),
        "ledger": ledger_report(settings),
        "members": identity["members"],
        "products": identity["products"],
        "defects": defect_coverage(settings, sources_dir),
    }


def print_report(report: dict[str, Any]) -> None:
    print("Rows by layer")
    for layer, tables in report["rows_by_layer"].items():
        print(f"  {layer}")
        for table, rows in tables.items():
            print(f"    {table:<40} {rows:>12,}")

    print("\nLoad ledger (read = loaded + quarantined + duplicate + superseded)")
    columns = ("read", "loaded", "quarantined", "duplicate", "superseded")
    print(f"  {'source / stream':<34}" + "".join(f"{name:>13}" for name in columns) + "  balanced")
    for source, streams in report["ledger"].items():
        for stream, counts in streams.items():
            figures = "".join(f"{counts[name]:>13,}" for name in columns)
            verdict = "yes" if counts["balanced"] else "NO"
            print(f"  {source + ' / ' + stream:<34}{figures}  {verdict}")

    members = report["members"]
    print("\nMembers (against _truth/persons.csv)")
    print(
        f"  precision {members['precision']:.4f}  recall {members['recall']:.4f}  "
        f"F1 {members['f1']:.4f}  B-cubed F1 {members['b3_f1']:.4f}"
    )
    ceiling = members.get("ceiling")
    if ceiling:
        print(
            f"  reachable from the evidence: recall {ceiling['recall']:.4f}  "
            f"F1 {ceiling['f1']:.4f}  B-cubed F1 {ceiling['b3_f1']:.4f}  "
            f"({ceiling['unreachable_records']:,} records share no key with their person's others)"
        )
    products = report["products"]
    print("Products (against _truth/products.csv)")
    print(
        f"  mapped {products['mapped_share']:.2%}  "
        f"correct among mapped {products['correct_share']:.2%}"
    )

    defects = report["defects"]
    print("\nInjected defects (against _truth/defects.csv)")
    print(f"  caught {defects['caught']} of {defects['injected']} ({defects['coverage']:.2%})")
    for missed in defects.get("not_caught", [])[:20]:
        print(f"  not caught: {missed}")
