"""Column lineage kept between builds: reused while its inputs are unchanged, else recomputed."""

from __future__ import annotations

from ronghe.lineage.column_cache import ColumnLineageCache
from ronghe.lineage.columns import Catalog, full_column_lineage
from tests.lineage.test_columns import MODEL_SQL

INPUTS = ["wh.staging.stg_lines", "wh.staging.stg_stores"]


def _catalog(region_column: str = "region") -> Catalog:
    return {
        "wh": {
            "staging": {
                "stg_lines": {
                    "txn_id": "VARCHAR",
                    "store_code": "VARCHAR",
                    "qty": "INTEGER",
                    "unit_price": "DECIMAL(18,2)",
                },
                "stg_stores": {"store_code": "VARCHAR", region_column: "VARCHAR"},
            },
            # Tables the model does not read: changing them must not invalidate it.
            "ops": {"dq_results": {"run_id": "VARCHAR"}},
        }
    }


def test_a_saved_lineage_is_reused_by_the_next_build(tmp_path):
    path = tmp_path / "lineage" / "column_cache.json"
    first = ColumnLineageCache(path, _catalog(), "duckdb")
    computed = first.lineage(MODEL_SQL, INPUTS)
    assert first.lineage(MODEL_SQL, INPUTS) == computed
    assert first.computed == 1
    first.save()

    catalog = _catalog()
    catalog["wh"]["ops"]["dq_results"]["checked_at"] = "TIMESTAMP"
    second = ColumnLineageCache(path, catalog, "duckdb")
    assert second.lineage(MODEL_SQL, INPUTS) == computed
    assert second.computed == 0
    expected = full_column_lineage(MODEL_SQL, first.schema, "duckdb")
    assert computed == expected


def test_a_changed_input_table_or_sql_computes_it_again(tmp_path):
    path = tmp_path / "column_cache.json"
    cache = ColumnLineageCache(path, _catalog(), "duckdb")
    cache.lineage(MODEL_SQL, INPUTS)
    cache.save()

    widened = _catalog()
    widened["wh"]["staging"]["stg_lines"]["channel"] = "VARCHAR"
    same_sql = ColumnLineageCache(path, widened, "duckdb")
    same_sql.lineage(MODEL_SQL, INPUTS)
    assert same_sql.computed == 1

    renamed = ColumnLineageCache(path, _catalog(region_column="sales_region"), "duckdb")
    direct, _ = renamed.lineage(MODEL_SQL.replace("stores.region", "stores.sales_region"), INPUTS)
    assert direct["sales_region"] == [("staging", "stg_stores", "sales_region")]
    assert renamed.computed == 1


def test_a_damaged_cache_file_is_recomputed_not_trusted(tmp_path):
    path = tmp_path / "column_cache.json"
    path.write_text('{"truncated', encoding="utf-8")
    cache = ColumnLineageCache(path, _catalog(), "duckdb")
    direct, _ = cache.lineage(MODEL_SQL, INPUTS)
    assert direct["region"] == [("staging", "stg_stores", "region")]
    assert cache.computed == 1
    cache.save()
    assert ColumnLineageCache(path, _catalog(), "duckdb").entries
