"""Staging: the source entities after typing and deduplication.

dbt's tests own each staging model's grain (keys unique and not null), so
these suites hold only what dbt does not check: how late data arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from expectations.checks import no_rows
from ronghe.quality.spec import Suite

# `wms/movements/<YYYYMMDDHH>[_N].jsonl` (CONTRACT.md section 3): the hour the file covers.
_FILE_HOUR = (
    "cast(substring(_origin, 15, 4) || '-' || substring(_origin, 19, 2) || '-' || "
    "substring(_origin, 21, 2) || ' ' || substring(_origin, 23, 2) || ':00:00' as timestamp)"
)


def _wms_movements(rules: Mapping[str, Any]) -> Suite:
    zone = rules["local_timezone"]
    return Suite(
        layer="staging",
        schema="staging",
        table="stg_wms__movements",
        name="staging.wms_movement_arrival",
        row_key=("movement_id",),
        checks=(
            no_rows(
                "movements_arrive_in_their_hour",
                "timeliness",
                f"""
                select movement_id, warehouse_code, wms_sku, qty, movement_type, moved_at,
                    local_moved_at, file_hour, _origin, _origin_line
                from (
                    select *,
                        cast((moved_at at time zone 'UTC') at time zone '{zone}' as timestamp)
                            as local_moved_at,
                        {_FILE_HOUR} as file_hour
                    from {{batch}}
                    where _origin like 'wms/movements/%'
                ) as movements
                where local_moved_at < file_hour or substring(_origin, 25, 1) = '_'
                """,
                "Each movement arrives in the first delivery of the hourly file of the hour it "
                "happened in; the rows listed came late (in a later hour's file, or only in a "
                "re-delivery `_N`), so figures of their hour were first built without them.",
            ),
        ),
    )


def suites(config: Mapping[str, Any]) -> list[Suite]:
    return [_wms_movements(config["business_rules"])]
