"""`ronghe trace`: a mart figure and an order, back to the exact source rows of the estate.

Every test runs on two warehouses built from the same estate: the DuckDB file
of the session fixture, and a real PostgreSQL server on which the same
extractors, dbt builds and identity step ran.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from extractors.contracts import load_source
from ronghe.identity.step import resolve
from ronghe.lineage.trace import TraceError, trace_member, trace_order, trace_sales_daily
from ronghe.quality.connection import warehouse_url
from ronghe.settings import Settings
from tests.dbt.pipeline import build, land_estate, settings_for
from tests.lineage.conftest import AFTER_IDENTITY, BEFORE_IDENTITY

# Over a generated estate landed and built with dbt (the session fixture).
pytestmark = pytest.mark.slow

SCHEMA = "marts_candidate"


def _postgres_warehouse(lineage_estate, server, home: Path) -> Settings:
    """The lineage estate landed and built on PostgreSQL as the fixture built it on DuckDB."""
    assert lineage_estate.settings.sources_dir is not None
    url = server.create_database("lineage_trace")
    settings = settings_for(lineage_estate.settings.sources_dir, url, home)
    land_estate(settings)
    build(settings, home / "target_before_identity", *BEFORE_IDENTITY)
    resolve(settings)
    build(settings, home / "target_after_identity", *AFTER_IDENTITY)
    return settings


@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def connection(request, lineage_estate, tmp_path_factory):
    if request.param == "postgres":
        settings = _postgres_warehouse(
            lineage_estate,
            request.getfixturevalue("postgres_server"),
            tmp_path_factory.mktemp("trace_postgres"),
        )
        engine = sa.create_engine(warehouse_url(settings))
    else:
        # Read-only: the file stays free for other readers while the module runs.
        engine = sa.create_engine(
            warehouse_url(lineage_estate.settings), connect_args={"read_only": True}
        )
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _busiest_row(connection, channel: str) -> dict:
    return dict(
        connection.execute(
            sa.text(
                f"select * from {SCHEMA}.mart_sales_daily where channel_code = :channel "
                "order by orders desc, sales_daily_key limit 1"
            ),
            {"channel": channel},
        )
        .one()
        ._mapping
    )


def _file_row(sources: Path, origin: str, line: int, stream: str) -> dict[str, str]:
    """The row at a physical line of a till file, under the contract's field names."""
    raw = (sources / origin).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gbk")
    rows = list(csv.reader(io.StringIO(text)))
    names = load_source("pos").stream(stream).header_map()
    return {names[name]: value for name, value in zip(rows[0], rows[line - 1], strict=True)}


def test_a_store_day_figure_traces_to_the_till_file_lines_it_adds_up(connection, lineage_estate):
    row = _busiest_row(connection, "STORE")
    (trace,) = trace_sales_daily(
        connection, str(row["sales_date"])[:10], "STORE", row["store_code"], SCHEMA
    )
    assert trace.reconciles, trace.figures
    assert trace.figures["net_sales"]["mart"] == row["net_sales"]
    assert trace.lines
    sources = lineage_estate.settings.sources_dir
    for traced in trace.lines:
        line_record = next(r for r in traced.records if r.role == "line")
        header = next(r for r in traced.records if r.role == "transaction header")
        assert line_record.origin.startswith(f"pos/{row['store_code']}/")
        in_file = _file_row(sources, line_record.origin, line_record.origin_line, "lines")
        assert (in_file["txn_id"], in_file["line_no"]) == (
            traced.line["order_id"],
            traced.line["line_id"],
        )
        assert in_file["qty"] == line_record.fields["qty"]
        header_in_file = _file_row(sources, header.origin, header.origin_line, "transactions")
        assert header_in_file["txn_id"] == traced.line["order_id"]


@pytest.mark.parametrize("platform", ["MALL", "TMALL", "JD"])
def test_an_online_figure_traces_to_the_api_objects_the_estate_served(
    connection, lineage_estate, platform
):
    row = _busiest_row(connection, platform)
    (trace,) = trace_sales_daily(
        connection, str(row["sales_date"])[:10], platform, row["store_code"], SCHEMA
    )
    assert trace.reconciles, trace.figures
    assert trace.lines
    served = {}
    for path in (lineage_estate.settings.sources_dir / "ecommerce" / platform).glob("orders*"):
        for text in path.read_text(encoding="utf-8").splitlines():
            order = json.loads(text)
            served[(order["order_id"], order["updated_at"])] = order
    for traced in trace.lines:
        item = next(r for r in traced.records if r.role == "line")
        assert item.origin.startswith(f"GET /v1/orders?platform={platform}")
        version = served[(item.fields["order_id"], item.fields["order_updated_at"])]
        (source_item,) = [
            i for i in version["items"] if str(i["line_id"]) == item.fields["line_id"]
        ]
        assert int(item.fields["qty"]) == source_item["qty"]
        assert item.fields["order_id"] == traced.line["order_id"]


def test_an_order_traces_to_its_lines_and_header(connection, lineage_estate):
    order_id, store = connection.execute(
        sa.text(
            "select order_id, order_scope from unified.fct_order_lines "
            "where source_system = 'POS' order by order_id limit 1"
        )
    ).one()
    trace = trace_order(connection, "POS", order_id, store)
    assert trace.lines
    assert {r.raw_table for t in trace.lines for r in t.records} == {
        "raw.pos_lines",
        "raw.pos_transactions",
    }


def test_an_unknown_row_is_a_clear_error(connection):
    with pytest.raises(TraceError, match="no row for 1999-01-01"):
        trace_sales_daily(connection, "1999-01-01", "STORE", "S0001", SCHEMA)


def test_a_member_traces_to_every_record_assigned_and_withholds_personal_fields(connection):
    (member_key,) = connection.execute(
        sa.text(
            "select member_key from identity.member_xref where valid_to is null "
            "group by member_key order by count(distinct source_system) desc, member_key limit 1"
        )
    ).one()
    trace = trace_member(connection, member_key)
    open_records = {
        (a["source_system"], a["source_record_id"])
        for a in trace.assignments
        if a["valid_to"] is None
    }
    assert len({system for system, _ in open_records}) > 1
    traced = set()
    for record in trace.records:
        system = record.role.removesuffix(" record")
        record_id = record.fields.get("member_card_no") or record.fields.get("buyer_id")
        traced.add((system, record_id))
        for column in ("phone", "member_phone", "buyer_phone", "name", "buyer_name"):
            value = record.fields.get(column)
            assert value is None or value.endswith("withheld)"), (column, value)
    assert traced == open_records


def test_an_unknown_member_is_a_clear_error(connection):
    with pytest.raises(TraceError, match="never assigned member key MNOSUCHKEY"):
        trace_member(connection, "MNOSUCHKEY")
