"""A small, consistent sales warehouse for the quality tests, on DuckDB or PostgreSQL.

It holds `unified.fct_order_lines` (the columns the mart suites read) and the
`marts_candidate.mart_sales_daily` dbt would build from it, written in
portable SQL through SQLAlchemy so the same builder serves both engines.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
import yaml

from ronghe.quality.connection import warehouse_url
from ronghe.settings import REPO_ROOT, Settings

CHANNELS = ("STORE", "MALL", "TMALL")
STORES = ("S0001", "S0002")
FIRST_DAY = date(2025, 3, 1)
# The one mart this warehouse holds: its suite is the gate these tests run.
SALES_MART_SUITE = "marts.mart_sales_daily"


def settings_for(warehouse: str | Path, home: Path, config_path: Path | None = None) -> Settings:
    return Settings(
        home=home,
        sources_dir=None,
        warehouse=str(warehouse),
        erp_url=None,
        ecom_api_url=None,
        ecom_api_token=None,
        config_path=config_path or REPO_ROOT / "config" / "ronghe.yml",
    )


def sales_settings(
    tmp_path: Path, warehouse: str | Path | None = None, **changes: object
) -> Settings:
    """Settings for the sales warehouse: its publish gate runs the sales mart's suite
    only (the warehouse has no identity, business-rule or other mart tables), plus
    `changes`."""
    config = config_with(tmp_path, publish__gate_layers=[SALES_MART_SUITE], **changes)
    return settings_for(warehouse or tmp_path / "warehouse.duckdb", tmp_path / "home", config)


def config_with(tmp_path: Path, **quality_changes: object) -> Path:
    """A copy of the reviewed configuration with some `quality` values changed
    (`publish__serving_copy=False` sets quality.publish.serving_copy)."""
    config = yaml.safe_load((REPO_ROOT / "config" / "ronghe.yml").read_text(encoding="utf-8"))
    for dotted, value in quality_changes.items():
        node = config["quality"]
        *parents, leaf = dotted.split("__")
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    path = tmp_path / "ronghe.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _order_lines(days: int) -> list[dict]:
    lines = []
    for day in range(days):
        for number in range(12):
            channel = CHANNELS[number % 3]
            is_return = number == 11
            qty = -1 if is_return else 1 + number % 3
            unit_price = 100 + 10 * number
            discount = 0 if is_return else 5
            lines.append(
                {
                    "order_line_key": f"L{day:03d}{number:02d}",
                    "order_key": f"O{day:03d}{number // 2:02d}",
                    "event_local_date": FIRST_DAY + timedelta(days=day),
                    "ordering_channel_code": channel,
                    "store_code": STORES[number % 2],
                    "line_type": "RETURN" if is_return else "SALE",
                    "qty": qty,
                    "gross_amount": qty * unit_price,
                    "discount_amount": discount,
                    "net_amount": qty * unit_price - discount,
                }
            )
    return lines


def _mart_rows(lines: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for line in lines:
        groups[
            (line["event_local_date"], line["ordering_channel_code"], line["store_code"])
        ].append(line)
    rows = []
    for (day, channel, store), members in sorted(groups.items()):
        sales = [m for m in members if m["line_type"] == "SALE"]
        returns = [m for m in members if m["line_type"] == "RETURN"]
        gross = sum(m["gross_amount"] for m in sales)
        discounts = sum(m["discount_amount"] for m in sales)
        returned = -sum(m["net_amount"] for m in returns)
        rows.append(
            {
                "sales_daily_key": hashlib.md5(f"{day}{channel}{store}".encode()).hexdigest(),
                "sales_date": day,
                "channel_key": hashlib.md5(channel.encode()).hexdigest(),
                "channel_code": channel,
                "store_code": store,
                "orders": len({m["order_key"] for m in sales}),
                "units": sum(m["qty"] for m in sales),
                "returned_units": -sum(m["qty"] for m in returns),
                "gross_sales": gross,
                "discounts": discounts,
                "returns": returned,
                "net_sales": gross - discounts - returned,
            }
        )
    return rows


FACT_COLUMNS = """
    order_line_key varchar(40), order_key varchar(40), event_local_date date,
    ordering_channel_code varchar(10), store_code varchar(10), line_type varchar(10),
    qty integer, gross_amount decimal(18, 2), discount_amount decimal(18, 2),
    net_amount decimal(18, 2)
"""
MART_COLUMNS = """
    sales_daily_key varchar(40), sales_date date, channel_key varchar(40),
    channel_code varchar(10), store_code varchar(10), orders integer, units integer,
    returned_units integer, gross_sales decimal(18, 2), discounts decimal(18, 2),
    returns decimal(18, 2), net_sales decimal(18, 2)
"""


def build_sales_warehouse(settings: Settings, days: int = 5) -> dict[str, int]:
    """Create the fact and the candidate mart (replacing earlier ones); return row counts."""
    lines = _order_lines(days)
    mart = _mart_rows(lines)
    engine = sa.create_engine(warehouse_url(settings))
    try:
        with engine.begin() as connection:
            for schema in ("unified", "marts_candidate"):
                connection.execute(sa.text(f"create schema if not exists {schema}"))
            _replace_table(connection, "unified.fct_order_lines", FACT_COLUMNS, lines)
            _replace_table(connection, "marts_candidate.mart_sales_daily", MART_COLUMNS, mart)
    finally:
        engine.dispose()
    return {"fct_order_lines": len(lines), "mart_sales_daily": len(mart)}


def _replace_table(connection: sa.Connection, table: str, columns: str, rows: list[dict]) -> None:
    connection.execute(sa.text(f"drop table if exists {table}"))
    connection.execute(sa.text(f"create table {table} ({columns})"))
    names = list(rows[0])
    connection.execute(
        sa.text(
            f"insert into {table} ({', '.join(names)}) "
            f"values ({', '.join(':' + name for name in names)})"
        ),
        rows,
    )


def execute(settings: Settings, *statements: str) -> None:
    """Run statements on the warehouse (to break a build on purpose)."""
    engine = sa.create_engine(warehouse_url(settings))
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def query(settings: Settings, statement: str, **params: object) -> list[tuple]:
    engine = sa.create_engine(warehouse_url(settings))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(statement), params)]
    finally:
        engine.dispose()


def as_json(value: object) -> object:
    """A JSON column's value as Python (drivers return text or already-parsed values)."""
    return json.loads(value) if isinstance(value, str) else value
