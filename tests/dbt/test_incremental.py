"""Incremental builds end where a full refresh of the same raw data ends.

The estate lands in two steps. The first step sees the estate's first five
days with every POS re-send still being written (no `_SUCCESS` yet); the
second sees all eight days, the re-sends complete, and one more re-send of an
already built store-day that holds no rows at all. In between, online orders
move on (shipped, delivered, returned, cancelled), so their latest versions
arrive late. After the second incremental build every model must equal what
`--full-refresh` builds from the same raw tables. Between the two steps the
identity engine also assigns a member and a SKU key that facts already built
must pick up (fct_orders, incremental by document, included).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ronghe.generate import generate_estate
from ronghe.settings import Settings
from ronghe.transform.dbt_invocation import run_dbt
from ronghe.warehouse import connect
from tests.dbt.conftest import BUILT_MODELS, SCALE, SEED
from tests.dbt.pipeline import land_estate, model_contents, settings_for

pytestmark = pytest.mark.slow

EARLY_DAYS = 5
BUILT_SCHEMAS = ("staging", "intermediate", "unified", "marts_candidate")
POS_FILES = ("transactions.csv", "lines.csv", "members.csv")


def _hold_back_resends(sources: Path) -> list[Path]:
    """Make every POS re-send incomplete (still being written); returns them."""
    resends = sorted(path for path in sources.glob("pos/*/*_*") if path.is_dir())
    for folder in resends:
        (folder / "_SUCCESS").unlink()
    return resends


def _store_day_with_sales(sources: Path) -> tuple[str, str]:
    """A store-day (store code, YYYYMMDD) whose first delivery has transactions."""
    for folder in sorted(sources.glob("pos/*/*")):
        if "_" not in folder.name and (folder / "transactions.csv").read_bytes().count(b"\n") > 2:
            return folder.parent.name, folder.name
    raise AssertionError("the estate has no store-day with sales")


def _resend_empty(sources: Path, store_code: str, day: str) -> Path:
    """A complete re-send of a store-day whose files hold only their header lines."""
    store = sources / "pos" / store_code
    deliveries = [p.name for p in store.glob(f"{day}*")]
    highest = max(int(name.partition("_")[2] or 1) for name in deliveries)
    source = store / (day if highest == 1 else f"{day}_{highest}")
    target = store / f"{day}_{highest + 1}"
    target.mkdir()
    for name in POS_FILES:
        content = (source / name).read_bytes()
        (target / name).write_bytes(content[: content.index(b"\n") + 1])
    (target / "_SUCCESS").write_bytes(b"")
    return target


def _run(settings: Settings, target: Path, *args: str) -> None:
    run_dbt(
        [
            "run",
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
            "--select",
            *BUILT_MODELS,
            *args,
        ],
        settings,
    )


def _query(settings: Settings, sql: str) -> list[tuple]:
    con = connect(settings.warehouse_path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _assign_identity_keys(settings: Settings, restated: list[tuple[str, str]]) -> tuple[str, str]:
    """Key a member card and a till barcode already in the facts, as the identity step would.

    Both are taken from store-days the second step does not restate, so only
    the identity change can bring their facts up to date.
    """
    untouched = " and ".join(
        f"not (order_scope = '{store}' and pos_business_date = '{day}')" for store, day in restated
    )
    card, barcode = _query(
        settings,
        "select min(member_source_record_id) filter (where member_source_system = 'POS_MEMBER'),"
        " min(product_code) filter (where product_source_system = 'POS_BARCODE')"
        f" from unified.fct_order_lines where source_system = 'POS' and {untouched}",
    )[0]
    _query(
        settings,
        "insert into identity.member_xref (source_system, source_record_id, member_key,"
        " matched_by, match_score, valid_from, valid_to, run_id) values"
        f" ('POS_MEMBER', '{card}', 'M-TEST', 'test', 1.0, timestamp '2025-01-01', null, 'r1')",
    )
    _query(
        settings,
        "insert into identity.sku_xref (source_system, product_code, sku_key, item_no,"
        " matched_by, confidence, normalised_code, updated_at, run_id) values"
        f" ('POS_BARCODE', '{barcode}', 'SKU-TEST', null, 'test', 1.0, null,"
        " timestamp '2025-01-01', 'r1')",
    )
    return card, barcode


def _iso(day: str) -> str:
    return f"{day[:4]}-{day[4:6]}-{day[6:]}"


def test_incremental_build_equals_full_refresh(sales_estate: Path, tmp_path: Path) -> None:
    early = tmp_path / "early" / "sources"
    generate_estate(early, SCALE, SEED, EARLY_DAYS)
    held_back = _hold_back_resends(early)
    assert held_back, "the estate has POS re-sends"

    late = tmp_path / "late" / "sources"
    shutil.copytree(sales_estate, late)
    store_code, day = _store_day_with_sales(early)
    emptied = _resend_empty(late, store_code, day)
    store_day = (store_code, _iso(day))

    warehouse = str(tmp_path / "warehouse.duckdb")
    target = tmp_path / "target"
    first = settings_for(early, warehouse, tmp_path / "home")
    land_estate(first)
    _run(first, target)
    before = _query(
        first,
        "select count(*) from staging.stg_pos__transactions "
        f"where store_code = '{store_day[0]}' and business_date = '{store_day[1]}'",
    )
    assert before[0][0] > 0, "the store-day emptied later had sales at first"

    restated_days = [(f.parent.name, _iso(f.name.partition("_")[0])) for f in held_back]
    card, barcode = _assign_identity_keys(first, [*restated_days, store_day])

    second = settings_for(late, warehouse, tmp_path / "home")
    land_estate(second)
    _run(second, target)
    incremental = model_contents(second, BUILT_SCHEMAS)

    restated = _query(
        second,
        "select count(*) from (select store_code, business_date from raw.pos_drops "
        "group by 1, 2 having count(distinct _batch_id) > 1)",
    )
    assert restated[0][0] >= len(held_back), "re-sends restated store-days built before"
    late_versions = _query(
        second,
        "select count(*) from (select platform, order_id from raw.ecom_orders "
        "group by 1, 2 having count(distinct _batch_id) > 1)",
    )
    assert late_versions[0][0] > 0, "orders changed after their first build"
    for relation in ("staging.stg_pos__transactions", "unified.fct_order_lines"):
        store_column = "store_code" if relation.startswith("staging") else "order_scope"
        date_column = "business_date" if relation.startswith("staging") else "pos_business_date"
        left = _query(
            second,
            f"select count(*) from {relation} where {store_column} = '{store_day[0]}' "
            f"and {date_column} = '{store_day[1]}'",
        )
        assert left == [(0,)], f"{emptied.name} emptied the store-day in {relation}"

    member_keys, document_member_keys = (
        _query(
            second,
            "select count(*), count(*) filter (where member_key = 'M-TEST')"
            f" from unified.{fact} where member_source_record_id = '{card}'",
        )
        for fact in ("fct_order_lines", "fct_orders")
    )
    sku_keys = _query(
        second,
        "select count(*), count(*) filter (where sku_key = 'SKU-TEST')"
        f" from unified.fct_order_lines where product_code = '{barcode}'",
    )
    for (rows, keyed), what in (
        (member_keys[0], "member"),
        (document_member_keys[0], "document's member"),
        (sku_keys[0], "SKU"),
    ):
        assert rows > 0 and keyed == rows, f"facts built earlier took the new {what} key"

    _run(second, target, "--full-refresh")
    assert model_contents(second, BUILT_SCHEMAS) == incremental
