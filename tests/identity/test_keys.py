"""Stable member keys: survivors, retirements and splits between runs."""

from __future__ import annotations

from datetime import datetime

from ronghe.identity.keys import assign_keys, mint_key

A, B, C, D = ("POS_MEMBER", "A"), ("POS_MEMBER", "B"), ("MALL", "C"), ("TMALL", "D")
EARLY, LATE = datetime(2024, 1, 1), datetime(2024, 6, 1)


def test_new_clusters_get_keys_derived_from_their_oldest_record() -> None:
    result = assign_keys([A, B, C], [0, 0, 2], [1, 0, 2], {}, {})
    assert result.keys[A] == result.keys[B] == mint_key(B)
    assert result.keys[C] == mint_key(C)
    assert result.events == []


def test_unchanged_clusters_keep_their_keys_when_new_records_join() -> None:
    current = {A: "K1", B: "K1", C: "K2"}
    result = assign_keys(
        [A, B, C, D], [0, 0, 2, 2], [0, 1, 2, 3], current, {"K1": EARLY, "K2": EARLY}
    )
    assert result.keys == {A: "K1", B: "K1", C: "K2", D: "K2"}
    assert result.minted == {} and result.events == []


def test_a_merge_keeps_the_oldest_key_and_retires_the_other() -> None:
    current = {A: "K-NEW", B: "K-OLD"}
    result = assign_keys([A, B], [0, 0], [0, 1], current, {"K-OLD": EARLY, "K-NEW": LATE})
    assert result.keys == {A: "K-OLD", B: "K-OLD"}
    (event,) = result.events
    assert (event.kind, event.member_key, event.other_key, event.records) == (
        "MERGE",
        "K-OLD",
        "K-NEW",
        (A,),
    )


def test_a_split_keeps_the_key_on_the_larger_part() -> None:
    current = {A: "K1", B: "K1", C: "K1"}
    result = assign_keys([A, B, C], [0, 0, 2], [0, 1, 2], current, {"K1": EARLY})
    assert result.keys[A] == result.keys[B] == "K1"
    assert result.keys[C] != "K1"
    (event,) = result.events
    assert (event.kind, event.member_key, event.other_key, event.records) == (
        "SPLIT",
        result.keys[C],
        "K1",
        (C,),
    )


def test_an_even_split_keeps_the_key_on_the_part_with_the_oldest_record() -> None:
    current = {A: "K1", B: "K1"}
    result = assign_keys([A, B], [0, 1], [1, 0], current, {"K1": EARLY})
    assert result.keys[B] == "K1"
    assert result.keys[A] != "K1"


def test_a_minted_key_never_reuses_a_retired_one() -> None:
    retired = mint_key(A)
    result = assign_keys([A], [0], [0], {}, {retired: EARLY})
    assert result.keys[A] != retired
    assert result.keys[A] == mint_key(A, 1)
