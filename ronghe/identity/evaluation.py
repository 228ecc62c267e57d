"""Scoring identity results against a demo estate's `_truth/` (CONTRACT.md section 6).

Members: pairwise precision, recall and F1 over the records `_truth/persons.csv`
lists (two records are a true pair when they share a person_id, a predicted
pair when they share a current member key), and B-cubed F1 over clusters.
A truth record the warehouse has no key for counts as a cluster of its own.

Some true pairs cannot be found from the sources at all: a member card
registered before the data we hold and only ever swiped at a till without a
phone carries nothing but its own number. `evidence_ceiling` scores the best
clustering the evidence allows (each person's records joined only along
candidate pairs, i.e. records that share a phone, mask, e-mail, union_id,
card or name and birth date), so a score can be read against what is
reachable rather than against a perfect 1.0.

Products: of the codes `_truth/products.csv` lists, the share the crosswalk
mapped to an ERP item, and of those the share mapped to the right item.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ronghe.identity.blocking import candidate_pairs
from ronghe.identity.config import load_identity_config
from ronghe.identity.disjoint_set import DisjointSet
from ronghe.identity.records import MemberRecord, build_records
from ronghe.identity.step import INPUTS as MEMBER_INPUTS
from ronghe.identity.store import Warehouse, open_warehouse
from ronghe.settings import Settings


def evaluate_identity(
    settings: Settings, sources_dir: Path, *, with_ceiling: bool = True
) -> dict[str, Any]:
    """`{"members": {...}, "products": {...}}` for the run in the configured warehouse.

    `members["ceiling"]` holds the scores of the best clustering the evidence allows
    (it re-reads the identity step's inputs: `with_ceiling=False` skips it on large
    estates; it is absent when those inputs were not built).
    """
    truth_dir = Path(sources_dir) / "_truth"
    persons = pd.read_csv(truth_dir / "persons.csv", dtype=str, keep_default_na=False)
    products = pd.read_csv(truth_dir / "products.csv", dtype=str, keep_default_na=False)
    truth = {
        (r.source_system, r.source_record_id): r.person_id for r in persons.itertuples(index=False)
    }
    config = load_identity_config(settings.config_path)
    warehouse = open_warehouse(settings)
    try:
        member_keys = _current_member_keys(warehouse)
        sku_items = _sku_items(warehouse)
        records = (
            _member_records(warehouse, truth, config.members.default_phone_region)
            if with_ceiling
            else None
        )
    finally:
        warehouse.close()
    members = score_members(truth, member_keys)
    if records is not None:
        members["ceiling"] = evidence_ceiling(truth, records, config.members.max_block_size)
    return {
        "members": members,
        "products": score_products(
            {
                (r.source_system, r.product_code): r.item_no
                for r in products.itertuples(index=False)
            },
            sku_items,
        ),
    }


def score_members(
    truth: Mapping[tuple[str, str], str], predicted: Mapping[tuple[str, str], str]
) -> dict[str, float | int]:
    """Pairwise and B-cubed scores of a predicted clustering against the true one."""
    records = list(truth)
    true_cluster = [truth[r] for r in records]
    # a record without a key is alone: give it a cluster label no key can equal
    predicted_cluster = [predicted.get(r, ("unresolved", r)) for r in records]
    cells = Counter(zip(true_cluster, predicted_cluster, strict=True))
    true_sizes = Counter(true_cluster)
    predicted_sizes = Counter(predicted_cluster)

    true_positive = sum(_pairs(n) for n in cells.values())
    predicted_pairs = sum(_pairs(n) for n in predicted_sizes.values())
    true_pairs = sum(_pairs(n) for n in true_sizes.values())
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0

    b3_precision = b3_recall = 0.0
    for (person, key), n in cells.items():
        b3_precision += n * n / predicted_sizes[key]
        b3_recall += n * n / true_sizes[person]
    count = len(records) or 1
    b3_precision, b3_recall = b3_precision / count, b3_recall / count
    return {
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(_f1(precision, recall), 6),
        "b3_precision": round(b3_precision, 6),
        "b3_recall": round(b3_recall, 6),
        "b3_f1": round(_f1(b3_precision, b3_recall), 6),
        "records": len(records),
        "records_without_key": sum(1 for r in records if r not in predicted),
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
    }


def evidence_ceiling(
    truth: Mapping[tuple[str, str], str], records: Sequence[MemberRecord], max_block_size: int
) -> dict[str, float | int]:
    """Scores of the best clustering reachable from the evidence: each true person's
    records joined along the candidate pairs between them, and nothing else.

    `unreachable_records`: records of a person with several records that share no
    candidate key with any of them. Evaluation passes only the records of such
    people, so a placeholder key (`max_block_size`) is judged among those.
    """
    sets = DisjointSet(len(records))
    person = [truth.get(record.record_id) for record in records]
    linked: set[int] = set()
    for left, right in candidate_pairs(records, max_block_size).pairs:
        if person[left] is not None and person[left] == person[right]:
            sets.union(left, right)
            linked.update((left, right))
    best = {record.record_id: str(sets.find(i)) for i, record in enumerate(records)}
    scores = score_members(truth, best)
    sizes = Counter(truth.values())
    unreachable = sum(
        1
        for index, record in enumerate(records)
        if index not in linked and sizes.get(truth.get(record.record_id, ""), 0) > 1
    )
    missing = sum(1 for rid, p in truth.items() if rid not in best and sizes[p] > 1)
    return {
        "recall": scores["recall"],
        "f1": scores["f1"],
        "b3_f1": scores["b3_f1"],
        "unreachable_records": unreachable + missing,
    }


def score_products(
    truth: Mapping[tuple[str, str], str], mapped: Mapping[tuple[str, str], str | None]
) -> dict[str, float | int]:
    """Mapped share over the truth codes, and correct share over those mapped."""
    total = len(truth)
    mapped_codes = [code for code in truth if mapped.get(code)]
    correct = sum(1 for code in mapped_codes if mapped[code] == truth[code])
    return {
        "mapped_share": round(len(mapped_codes) / total, 6) if total else 1.0,
        "correct_share": round(correct / len(mapped_codes), 6) if mapped_codes else 1.0,
        "codes": total,
        "mapped": len(mapped_codes),
        "correct": correct,
        "missing_from_crosswalk": sum(1 for code in truth if code not in mapped),
    }


def _current_member_keys(warehouse: Warehouse) -> dict[tuple[str, str], str]:
    frame = warehouse.query(
        "SELECT source_system, source_record_id, member_key FROM identity.member_xref "
        "WHERE valid_to IS NULL"
    )
    return {(str(r[0]), str(r[1])): str(r[2]) for r in frame.itertuples(index=False)}


def _member_records(
    warehouse: Warehouse, truth: Mapping[tuple[str, str], str], region: str
) -> list[MemberRecord] | None:
    """The identity step's inputs as records, for the people with several records only
    (the others have no pair to find); None when the inputs were not built."""
    sizes = Counter(truth.values())
    frames = []
    for relation in (MEMBER_INPUTS["member_records"], MEMBER_INPUTS["member_contacts"]):
        schema, table = relation.split(".")
        if not warehouse.relation_exists(schema, table):
            return None
        frame = warehouse.query(f"SELECT * FROM {relation}")
        keep = [
            sizes.get(truth.get((str(system), str(record_id)), ""), 0) > 1
            for system, record_id in zip(
                frame["source_system"], frame["source_record_id"], strict=True
            )
        ]
        frames.append(frame[keep])
    return build_records(frames[0], frames[1], region)


def _sku_items(warehouse: Warehouse) -> dict[tuple[str, str], str | None]:
    frame = warehouse.query("SELECT source_system, product_code, item_no FROM identity.sku_xref")
    return {
        (str(r[0]), str(r[1])): (None if pd.isna(r[2]) else str(r[2]))
        for r in frame.itertuples(index=False)
    }


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
