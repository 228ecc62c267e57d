"""The identity step end to end on a small generated estate: quality above a floor, stable keys.

The estate is generated, landed by the real extractors (the e-commerce API
served locally), built by dbt up to the identity inputs, then resolved. A
day is added (the same seed generated with one more day into the same
directory) and everything runs again. The floors here are lower than the
demo floors at SF1 (members F1 0.99, products 99.5% mapped / 99.9% right,
reported by `ronghe eval` and `ronghe/bench/identity.py`): a tiny estate has
few pairs, and member cards seen only at a till without a phone cannot be
linked by any rule; a matcher that links nothing, or links on phones alone,
still falls well below these bars.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from ronghe.bench.identity import land_and_build
from ronghe.identity.evaluation import evaluate_identity
from ronghe.identity.step import resolve
from ronghe.identity.store import DuckDBWarehouse
from ronghe.settings import load_settings

pytestmark = pytest.mark.slow

SCALE, SEED, DAYS = 0.05, 7, 6


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from ronghe.generate import generate_estate

    saved = dict(os.environ)
    work = tmp_path_factory.mktemp("identity-estate")
    sources, warehouse = work / "sources", work / "warehouse.duckdb"
    try:
        generate_estate(sources, scale=SCALE, seed=SEED, days=DAYS)
        land_and_build(sources, warehouse)
        first_summary = resolve(load_settings())
        first_scores = evaluate_identity(load_settings(), sources)
        first_keys = _keys(warehouse)
        first_truth = _truth(sources)
        first_evidence = _evidence(warehouse)
        generate_estate(sources, scale=SCALE, seed=SEED, days=DAYS + 1)
        land_and_build(sources, warehouse)
        second_summary = resolve(load_settings())
        second_keys = _keys(warehouse)
        second_truth = _truth(sources)
        second_evidence = _evidence(warehouse)
        second_scores = evaluate_identity(load_settings(), sources)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {
        "first": (first_summary, first_scores, first_keys, first_truth, first_evidence),
        "second": (second_summary, second_scores, second_keys, second_truth, second_evidence),
    }


def _keys(warehouse: Path) -> dict[tuple[str, str], str]:
    connection = DuckDBWarehouse(str(warehouse))
    try:
        frame = connection.query(
            "SELECT source_system, source_record_id, member_key FROM identity.member_xref "
            "WHERE valid_to IS NULL"
        )
    finally:
        connection.close()
    return {(r[0], r[1]): r[2] for r in frame.itertuples(index=False)}


def _evidence(warehouse: Path) -> dict[tuple[str, str], frozenset]:
    """What the identity step saw of each record: its registration and contact rows."""
    connection = DuckDBWarehouse(str(warehouse))
    try:
        rows = connection.query(
            "SELECT source_system, source_record_id, evidence_source, name, phone, email, "
            "union_id, city, card_no, first_seen_at, last_seen_at "
            "FROM intermediate.int_member_contacts_observed"
        )
    finally:
        connection.close()
    seen: dict[tuple[str, str], set] = defaultdict(set)
    for row in rows.itertuples(index=False, name=None):
        seen[(row[0], row[1])].add(tuple(str(v) for v in row[2:]))
    return {record: frozenset(values) for record, values in seen.items()}


def _truth(sources: Path) -> dict[tuple[str, str], str]:
    frame = pd.read_csv(sources / "_truth" / "persons.csv", dtype=str, keep_default_na=False)
    return {
        (r.source_system, r.source_record_id): r.person_id for r in frame.itertuples(index=False)
    }


def test_every_landed_customer_and_member_record_has_a_key(runs: dict) -> None:
    # the truth also counts cards registered in a drop still being written
    # (no _SUCCESS yet), which must not be loaded: only those may lack a key
    _, scores, keys, truth, _ = runs["first"]
    members = scores["members"]
    assert members["records_without_key"] <= 0.01 * members["records"], members
    assert len(set(truth) & set(keys)) == members["records"] - members["records_without_key"]


def test_member_matching_is_well_above_chance(runs: dict) -> None:
    for run in ("first", "second"):
        members = runs[run][1]["members"]
        assert members["precision"] >= 0.88, members
        assert members["recall"] >= 0.75, members
        assert members["b3_f1"] >= 0.93, members
        # no matcher finds a pair the evidence cannot reach; cards only ever swiped
        # at a till without a phone are in every demo estate
        ceiling = members["ceiling"]
        assert members["recall"] <= ceiling["recall"] < 1.0, members
        assert ceiling["unreachable_records"] > 0, members


def test_products_map_almost_entirely_and_correctly(runs: dict) -> None:
    products = runs["second"][1]["products"]
    assert products["mapped_share"] >= 0.97, products
    assert products["correct_share"] >= 0.995, products


def test_a_day_of_new_data_changes_no_unchanged_persons_key(runs: dict) -> None:
    _, _, first_keys, first_truth, first_evidence = runs["first"]
    _, _, second_keys, second_truth, second_evidence = runs["second"]
    records_of: dict[str, set] = defaultdict(set)
    for record, person in first_truth.items():
        records_of[person].add(record)
    later: dict[str, set] = defaultdict(set)
    for record, person in second_truth.items():
        later[person].add(record)
    # unchanged: the same records in both runs, all landed the first time, and
    # nothing new seen of any of them (a new till capture is new evidence)
    unchanged = [
        person
        for person, records in records_of.items()
        if later[person] == records
        and records <= first_keys.keys()
        and all(first_evidence.get(r) == second_evidence.get(r) for r in records)
    ]
    assert unchanged
    moved = [
        person
        for person in unchanged
        if {first_keys[r] for r in records_of[person]}
        != {second_keys[r] for r in records_of[person]}
    ]
    assert moved == []


def test_each_run_reports_the_records_it_saw_first(runs: dict) -> None:
    summary = runs["second"][0]["members"]
    assert summary["records_new"] > 0
    first = runs["first"][0]["members"]
    assert first["records_new"] == first["records"]
