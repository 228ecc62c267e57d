"""The contract checks and the row hash as SQL: the fast path agrees with the exact checks,
and the hash is the documented MD5, so rows landed by earlier versions still compare."""

from __future__ import annotations

import hashlib
import random

import duckdb
import pyarrow as pa
import pytest

from extractors.contracts import load_source
from extractors.row_checks import exact_reason_sql, reason_sql, row_hash_sql

TRICKY_VALUES = [
    None, "", " ", "\u3000", "12", " 12", "12 ", "+3", "-0", "1e3", "1_000", "0x1F", "1.50",
    ".5", "5.", "1.2.3", "true", "FALSE", " 1", "2025-03-01", "2025-3-1", "2025-02-30",
    " 2025-03-01", "2025-03-01T10:00:00+08:00", "2025-03-01 10:00:00Z", "2025-03-01T10:00",
    "2025-03-01T10:00:00.123456789+0800", "2025-02-30T10:00:00+08:00", "2025-03-01T25:00:00Z",
    "2025-03-01T10:00:00", "2025-03-01T10:00:00+08:00 ", "abc", "零",
]  # fmt: skip

STREAMS = [
    (source, stream)
    for source in ("erp", "pos", "wms", "ecommerce")
    for stream in load_source(source).streams
]


@pytest.mark.parametrize(("source", "stream"), STREAMS)
def test_fast_path_agrees_with_the_exact_checks(source: str, stream: str) -> None:
    contract = load_source(source).stream(stream)
    rng = random.Random(f"{source}.{stream}")
    rows = 4000
    table = pa.table(
        {
            **{
                name: pa.array([rng.choice(TRICKY_VALUES) for _ in range(rows)], pa.string())
                for name in contract.field_names
            },
            "_reason": pa.array(
                [rng.choice([None, None, None, "not valid JSON"]) for _ in range(rows)],
                pa.string(),
            ),
        }
    )
    # Rows made of valid values too, so the fast path is taken, not only the exact one.
    valid = {"integer": "12", "decimal": "1.50", "date": "2025-03-01", "boolean": "true"}
    valid |= dict.fromkeys(("timestamp", "timestamptz"), "2025-03-01T10:00:00+08:00")
    good = {f.name: valid.get(f.type, "x") for f in contract.fields}
    table = pa.concat_tables(
        [
            table,
            pa.table(
                {
                    **{n: pa.array([v] * 10, pa.string()) for n, v in good.items()},
                    "_reason": pa.nulls(10, pa.string()),
                }
            ),
        ]
    )
    con = duckdb.connect()
    con.register("rows", table)
    pairs = con.execute(
        f"SELECT {reason_sql(contract)}, {exact_reason_sql(contract)} FROM rows"
    ).fetchall()
    assert [fast for fast, _ in pairs] == [exact for _, exact in pairs]
    accepted = sum(fast is None for fast, _ in pairs)
    assert accepted >= 10  # at least the rows of valid values are accepted


def _documented_hash(row: dict[str, str | None]) -> int:
    text = "".join(f"{k}\x1f{v}\x1e" for k, v in sorted(row.items()) if v is not None)
    lower = int.from_bytes(hashlib.md5(text.encode()).digest()[8:], "little")
    return lower >> 1


def test_row_hash_is_the_documented_md5() -> None:
    rows = [
        {"sku": "A-1", "qty": "12", "note": None},
        {"sku": "A-1", "qty": "12", "note": ""},
        {"sku": "零售", "qty": " 1.50 ", "note": "a\tb"},
        {"sku": None, "qty": None, "note": None},
    ]
    con = duckdb.connect()
    con.register("rows", pa.Table.from_pylist(rows))
    sql = f"SELECT {row_hash_sql(['sku', 'qty', 'note'])} FROM rows"
    hashes = [h for (h,) in con.execute(sql).fetchall()]
    assert hashes == [_documented_hash(r) for r in rows]
    # A NULL contributes nothing, an empty string does: the two must differ.
    assert hashes[0] != hashes[1]
