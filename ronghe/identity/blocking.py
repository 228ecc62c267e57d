"""Candidate pairs: only records sharing a key are compared.

Keys: union_id, e-mail, full phone, member card (shown when collecting an
online order, or a buyer's coupon was redeemed with), mask key (a masked phone meets every
phone, full or masked, with the same first three and last four digits), and
pinyin of a real name plus birth date. A key value shared by more records
than `max_block_size` is a placeholder (a shop's own phone typed for walk-in
customers, `none@none.com`), not evidence: it links nobody, and the run
summary reports it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from ronghe.identity.records import MemberRecord


@dataclass(frozen=True)
class Blocking:
    pairs: list[tuple[int, int]]
    """Index pairs (i < j) into the record list, each once, in order."""
    oversized_keys: dict[str, int]
    """Key -> number of records, for keys dropped as placeholders."""


def candidate_pairs(
    records: Sequence[MemberRecord],
    max_block_size: int,
    placeholders: Collection[str] = (),
) -> Blocking:
    """Candidate pairs among `records`. `placeholders` are keys known to be oversized
    in the whole estate, for when `records` is only the part of it a run re-matches."""
    blocks: dict[str, list[int]] = defaultdict(list)
    masked_members: dict[str, set[int]] = defaultdict(set)
    for index, record in enumerate(records):
        for key in blocking_keys(record):
            blocks[key].append(index)
        for mask in record.masks:
            masked_members[f"mask:{mask}"].add(index)
    pairs: set[tuple[int, int]] = set()
    oversized: dict[str, int] = {}
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        if len(members) > max_block_size or key in placeholders:
            oversized[key] = len(members)
            continue
        masked = masked_members.get(key)
        for i, j in _pairs(members):
            # two full phones with the same mask key are not evidence of anything
            if masked is not None and i not in masked and j not in masked:
                continue
            pairs.add((i, j))
    return Blocking(sorted(pairs), oversized)


def blocking_keys(record: MemberRecord) -> Iterator[str]:
    """The keys a record is blocked on, each once."""
    seen: set[str] = set()
    candidates = [f"union:{value}" for value in record.union_ids]
    candidates += [f"email:{value}" for value in record.emails]
    candidates += [f"phone:{value}" for value in record.phones]
    candidates += [f"card:{value}" for value in record.cards | record.coupon_cards]
    candidates += [f"mask:{value}" for value in record.masks]
    candidates += [f"mask:{value}" for value in record.phone_masks.values()]
    if record.birth_date is not None:
        candidates += [f"name:{n.pinyin_key}:{record.birth_date}" for n in record.real_names]
    for key in candidates:
        if key not in seen:
            seen.add(key)
            yield key


def _pairs(members: list[int]) -> Iterator[tuple[int, int]]:
    ordered = sorted(set(members))
    for position, i in enumerate(ordered):
        for j in ordered[position + 1 :]:
            yield (i, j)
