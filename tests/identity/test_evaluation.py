"""The scores the evaluation reports, on clusterings small enough to count by hand."""

from __future__ import annotations

from ronghe.identity.evaluation import evidence_ceiling, score_members, score_products
from tests.identity.builders import Rec, records_of

TRUTH = {("POS_MEMBER", "a"): "p1", ("MALL", "b"): "p1", ("TMALL", "c"): "p1", ("JD", "d"): "p2"}


def test_a_perfect_clustering_scores_one() -> None:
    predicted = {
        ("POS_MEMBER", "a"): "K1",
        ("MALL", "b"): "K1",
        ("TMALL", "c"): "K1",
        ("JD", "d"): "K2",
    }
    scores = score_members(TRUTH, predicted)
    assert scores["precision"] == scores["recall"] == scores["f1"] == scores["b3_f1"] == 1.0


def test_a_missed_link_costs_recall_and_a_false_link_costs_precision() -> None:
    split = {
        ("POS_MEMBER", "a"): "K1",
        ("MALL", "b"): "K1",
        ("TMALL", "c"): "K3",
        ("JD", "d"): "K2",
    }
    scores = score_members(TRUTH, split)
    assert scores["precision"] == 1.0
    assert scores["recall"] == round(1 / 3, 6)
    merged = {
        ("POS_MEMBER", "a"): "K1",
        ("MALL", "b"): "K1",
        ("TMALL", "c"): "K1",
        ("JD", "d"): "K1",
    }
    scores = score_members(TRUTH, merged)
    assert scores["recall"] == 1.0
    assert scores["precision"] == 0.5
    assert scores["b3_precision"] == round((3 * 3 / 4 + 1 / 4) / 4, 6)


def test_records_without_a_key_count_as_alone_and_extra_records_are_ignored() -> None:
    predicted = {("POS_MEMBER", "a"): "K1", ("MALL", "b"): "K1", ("POS_MEMBER", "zz"): "K1"}
    scores = score_members(TRUTH, predicted)
    assert scores["records_without_key"] == 2
    assert scores["precision"] == 1.0 and scores["recall"] == round(1 / 3, 6)


def test_product_shares() -> None:
    truth = {("POS_BARCODE", "1"): "A", ("WMS", "W1"): "A", ("JD", "J1"): "B", ("MALL", "M1"): "C"}
    mapped = {("POS_BARCODE", "1"): "A", ("WMS", "W1"): "B", ("JD", "J1"): None}
    scores = score_products(truth, mapped)
    assert scores["mapped_share"] == 0.5
    assert scores["correct_share"] == 0.5
    assert scores["missing_from_crosswalk"] == 1


def test_the_evidence_ceiling_leaves_out_pairs_no_shared_key_can_reach() -> None:
    # p1: a member and a mall account on one phone, and a card only ever swiped at a
    # till (no phone, no name): nothing in the sources ties the card to them
    records = records_of(
        [
            Rec("POS_MEMBER", "a", name="张伟", phone="13800138000"),
            Rec("MALL", "b", name="张伟", phone="+86 13800138000"),
            Rec("POS_MEMBER", "c"),
            Rec("JD", "d", name="tb1234", phone="139****0000"),
        ]
    )
    truth = {("POS_MEMBER", "a"): "p1", ("MALL", "b"): "p1", ("POS_MEMBER", "c"): "p1",
             ("JD", "d"): "p2"}  # fmt: skip
    ceiling = evidence_ceiling(truth, records, max_block_size=12)
    assert ceiling["recall"] == round(1 / 3, 6)
    assert ceiling["f1"] == 0.5
    assert ceiling["unreachable_records"] == 1
