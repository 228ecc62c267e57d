"""The DuckDB workarounds for GX: each one is needed today, and together they work.

If a test marked "still needed" fails, upstream fixed that bug: delete the
workaround from ronghe/quality/gx_duckdb.py, and this test with it.
"""

from __future__ import annotations

import warnings

import duckdb
import great_expectations as gx
import pytest
import sqlalchemy as sa

from ronghe.quality.gx_context import ephemeral_context
from ronghe.quality.gx_duckdb import (
    keep_one_connection_open,
    make_duckdb_engine_work,
    reflect_columns_from_information_schema,
)


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.lines as select range as line_no, "
            "case when range % 10 = 0 then null else range end as qty from range(100)"
        )
    return path


def _validate(path, repair):
    """Validate raw.lines (100 rows, 10 null qty) through GX; return the two results."""
    context = ephemeral_context()
    datasource = context.data_sources.add_sql(name="w", connection_string=f"duckdb:///{path}")
    engine = datasource.get_execution_engine()
    repair(engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        asset = datasource.add_table_asset(name="raw.lines", table_name="lines", schema_name="raw")
    suite = context.suites.add(gx.ExpectationSuite(name="lines"))
    suite.add_expectation(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column="qty"))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name="lines", data=asset.add_batch_definition_whole_table("all"), suite=suite
        )
    )
    try:
        results = definition.run().results
    finally:
        engine.engine.dispose()
        datasource.get_engine().dispose()
    return {result.expectation_config.type: result for result in results}


def _errors(result) -> str:
    return " ".join(
        str(info.get("exception_message"))
        for info in result.exception_info.values()
        if isinstance(info, dict)
    ) + str(result.exception_info.get("exception_message"))


def test_without_workarounds_gx_gets_no_metric_rows_still_needed(warehouse):
    results = _validate(warehouse, repair=lambda engine: None)

    row_count = results["expect_table_row_count_to_be_between"]
    assert not row_count.success
    assert "list index out of range" in _errors(row_count)


def test_without_column_reflection_column_checks_lose_the_schema_still_needed(warehouse):
    results = _validate(warehouse, repair=keep_one_connection_open)

    assert results["expect_table_row_count_to_be_between"].success
    not_null = results["expect_column_values_to_not_be_null"]
    assert not not_null.success
    assert "does not exist" in _errors(not_null)


def test_with_both_workarounds_gx_validates_duckdb_in_sql(warehouse):
    def repair(engine):
        keep_one_connection_open(engine)
        reflect_columns_from_information_schema(engine.engine)

    results = _validate(warehouse, repair=repair)

    assert results["expect_table_row_count_to_be_between"].result["observed_value"] == 100
    not_null = results["expect_column_values_to_not_be_null"]
    assert not not_null.success
    assert not_null.result["unexpected_count"] == 10
    assert not_null.result["element_count"] == 100


def test_primary_keys_are_reflected_from_duckdb_s_catalog(tmp_path):
    path = tmp_path / "k.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute("create table marts.keyed (store_id varchar primary key, n int)")
        connection.execute("create table marts.unkeyed (n int)")
    engine = sa.create_engine(f"duckdb:///{path}")
    try:
        with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError):
            sa.inspect(connection).get_pk_constraint("keyed", schema="marts")  # still needed

        reflect_columns_from_information_schema(engine)
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            keyed = inspector.get_pk_constraint("keyed", schema="marts")
            unkeyed = inspector.get_pk_constraint("unkeyed", schema="marts")
    finally:
        engine.dispose()

    assert keyed["constrained_columns"] == ["store_id"]
    assert unkeyed["constrained_columns"] == []


@pytest.mark.filterwarnings("ignore:You are using a generic SQLDatasource")
def test_the_workaround_leaves_other_dialects_alone(tmp_path):
    context = ephemeral_context()
    datasource = context.data_sources.add_sql(
        name="s", connection_string=f"sqlite:///{tmp_path / 's.db'}"
    )
    engine = datasource.get_execution_engine()

    assert make_duckdb_engine_work(engine) is None
    assert "get_columns" not in vars(engine.engine.dialect)


def test_a_process_holding_the_file_differently_gets_a_clear_error(tmp_path):
    from ronghe.quality.connection import WarehouseHeldInProcessError, check_not_locked
    from tests.quality.builders import settings_for

    settings = settings_for(tmp_path / "w.duckdb", tmp_path)
    held = duckdb.connect(str(settings.warehouse_path), config={"threads": 1})
    try:
        with pytest.raises(WarehouseHeldInProcessError, match="process of its own"):
            check_not_locked(settings)
    finally:
        held.close()
