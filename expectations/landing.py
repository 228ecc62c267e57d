"""Landing: the load ledger, batch volumes, duplicate rates and freshness, per source.

The extractors record every batch in `ops.load_batches` and, per stream and
origin, what happened to every row read in `ops.load_ledger`
(`read = loaded + quarantined + duplicate + superseded`). These suites check
that book against the rows where they ended up (rule 1: nothing is lost
silently), and watch each source's newest batch: its volume against the
trailing average of the batches before it, its duplicate rate, and how long
ago the source last landed anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from expectations.checks import no_rows
from ronghe.quality.spec import Check, Suite


@cache
def streams_by_raw_table() -> dict[str, tuple[str, str]]:
    """raw table -> (source, stream), as the extractors' contracts declare it."""
    from extractors.contracts import all_sources

    return {
        stream.raw_table: (source.name, stream.name)
        for source in all_sources()
        for stream in source.streams.values()
    }


def rows_match_ledger(table: str) -> Check | None:
    """Raw rows per batch equal what the ledger says that batch loaded into the table."""
    if table not in streams_by_raw_table():
        return None
    source, stream = streams_by_raw_table()[table]
    return no_rows(
        "rows_match_ledger",
        "conservation",
        f"""
        with landed as (
            select _batch_id as batch_id, count(*) as raw_rows
            from {{batch}} as landed_rows
            group by _batch_id
        ),
        booked as (
            select batch_id, sum(loaded) as ledger_loaded
            from ops.load_ledger
            where source = '{source}' and stream = '{stream}' and entry = 'landing'
            group by batch_id
        )
        select coalesce(landed.batch_id, booked.batch_id) as batch_id,
            landed.raw_rows, booked.ledger_loaded
        from landed
        full outer join booked on landed.batch_id = booked.batch_id
        where coalesce(landed.raw_rows, 0) <> coalesce(booked.ledger_loaded, 0)
        """,
        f"Every batch's rows in raw.{table} equal the rows the load ledger says it loaded "
        f"for {source}.{stream}: no row was added or lost outside the book.",
    )


def _ledger(config: Mapping[str, Any]) -> Suite:
    quality = config["quality"]
    trend = quality["volume_trend"]
    history = int(trend["trailing_batches"])
    low, high = float(trend["min_ratio"]), float(trend["max_ratio"])
    duplicates = quality["duplicate_rate"]
    duplicate_bounds = " ".join(
        f"when '{stream}' then {float(rate)}" for stream, rate in duplicates["max"].items()
    )
    duplicate_min_rows = int(duplicates["min_rows"])
    return Suite(
        layer="raw",
        schema="ops",
        table="load_ledger",
        row_key=("batch_id", "source", "stream", "origin"),
        checks=(
            no_rows(
                "rows_add_up",
                "conservation",
                "select batch_id, source, stream, origin, entry, read, loaded, quarantined, "
                "duplicate, superseded from {batch} "
                "where read <> loaded + quarantined + duplicate + superseded",
                "Every ledger entry accounts for every row read: read = loaded + quarantined "
                "+ duplicate + superseded.",
            ),
            no_rows(
                "quarantine_matches_ledger",
                "conservation",
                """
                with booked as (
                    select batch_id, source, stream, sum(quarantined) as ledger_quarantined
                    from {batch} as entries
                    group by batch_id, source, stream
                ),
                kept as (
                    select batch_id, source, stream, count(*) as quarantine_rows
                    from ops.quarantine
                    group by batch_id, source, stream
                )
                select coalesce(booked.batch_id, kept.batch_id) as batch_id,
                    coalesce(booked.source, kept.source) as source,
                    coalesce(booked.stream, kept.stream) as stream,
                    booked.ledger_quarantined, kept.quarantine_rows
                from booked
                full outer join kept
                    on booked.batch_id = kept.batch_id and booked.source = kept.source
                    and booked.stream = kept.stream
                where coalesce(booked.ledger_quarantined, 0) <> coalesce(kept.quarantine_rows, 0)
                """,
                "Every row the ledger counts as quarantined is in ops.quarantine with its "
                "reason, and no quarantined row is missing from the ledger.",
            ),
            no_rows(
                "duplicates_match_ledger",
                "conservation",
                """
                with booked as (
                    select batch_id, source, stream, sum(duplicate) as ledger_duplicates
                    from {batch} as entries
                    group by batch_id, source, stream
                ),
                kept as (
                    select batch_id, source, stream, count(*) as duplicate_rows
                    from ops.skipped_rows
                    where disposition = 'duplicate'
                    group by batch_id, source, stream
                )
                select coalesce(booked.batch_id, kept.batch_id) as batch_id,
                    coalesce(booked.source, kept.source) as source,
                    coalesce(booked.stream, kept.stream) as stream,
                    booked.ledger_duplicates, kept.duplicate_rows
                from booked
                full outer join kept
                    on booked.batch_id = kept.batch_id and booked.source = kept.source
                    and booked.stream = kept.stream
                where coalesce(booked.ledger_duplicates, 0) <> coalesce(kept.duplicate_rows, 0)
                """,
                "Every row the ledger counts as a duplicate is recorded in ops.skipped_rows, "
                "so each can be traced to its origin line.",
            ),
            no_rows(
                "duplicate_rate_within_bounds",
                "duplicate_rate",
                f"""
                with newest as (
                    select source, max(seq) as seq from ops.load_batches group by source
                ),
                rates as (
                    select entries.source || '.' || entries.stream as stream, entries.batch_id,
                        sum(entries.read) as rows_read, sum(entries.duplicate) as duplicates,
                        cast(sum(entries.duplicate) as double precision)
                            / nullif(sum(entries.read), 0) as duplicate_rate
                    from {{batch}} as entries
                    join ops.load_batches as batches on batches.batch_id = entries.batch_id
                    join newest on newest.source = batches.source and newest.seq = batches.seq
                    where entries.entry = 'landing'
                    group by entries.source, entries.stream, entries.batch_id
                )
                select stream, batch_id, rows_read, duplicates, duplicate_rate,
                    case stream {duplicate_bounds} end as max_rate
                from rates
                where rows_read >= {duplicate_min_rows}
                    and duplicate_rate > case stream {duplicate_bounds} end
                """,
                "In each source's newest batch, the share of a stream's rows that were exact "
                "duplicates stays within its bound (quality.duplicate_rate); more means a "
                "source system is re-sending or a till is retrying abnormally.",
            ),
            no_rows(
                "volume_within_trailing_range",
                "volume_trend",
                f"""
                with per_batch as (
                    select entries.source, entries.stream, entries.batch_id, batches.seq,
                        sum(entries.read) as rows_read
                    from {{batch}} as entries
                    join ops.load_batches as batches on batches.batch_id = entries.batch_id
                    where entries.entry = 'landing'
                    group by entries.source, entries.stream, entries.batch_id, batches.seq
                ),
                trended as (
                    select source, stream, batch_id, seq, rows_read,
                        avg(rows_read) over previous_batches as trailing_average,
                        count(*) over previous_batches as trailing_batches,
                        max(seq) over (partition by source, stream) as newest_seq
                    from per_batch
                    window previous_batches as (
                        partition by source, stream order by seq
                        rows between {history} preceding and 1 preceding
                    )
                )
                select source, stream, batch_id, rows_read, trailing_average, trailing_batches
                from trended
                where seq = newest_seq and trailing_batches >= {history}
                    and (rows_read < {low} * trailing_average
                        or rows_read > {high} * trailing_average)
                """,
                f"Each stream's newest batch reads between {low:g}x and {high:g}x the average "
                f"of its {history} previous batches; outside that, a delivery is likely "
                "missing or repeated.",
            ),
        ),
    )


def _batches(config: Mapping[str, Any]) -> Suite:
    allowances = config["quality"]["freshness_minutes"]
    expected = ", ".join(f"('{source}', {int(minutes)})" for source, minutes in allowances.items())
    return Suite(
        layer="raw",
        schema="ops",
        table="load_batches",
        row_key=("batch_id",),
        checks=(
            no_rows(
                "sources_fresh",
                "freshness",
                f"""
                select expected.source, expected.allowed_minutes,
                    max(landed.committed_at) as last_landed_at
                from (values {expected}) as expected(source, allowed_minutes)
                left join {{batch}} as landed on landed.source = expected.source
                group by expected.source, expected.allowed_minutes
                having max(landed.committed_at) is null
                    or max(landed.committed_at) < (now() at time zone 'UTC')
                        - expected.allowed_minutes * interval '1 minute'
                """,
                "Every source landed a batch within its allowance (quality.freshness_minutes: "
                "e-commerce every 15 minutes, POS and WMS hourly, ERP daily, plus slack).",
            ),
        ),
    )


def suites(config: Mapping[str, Any]) -> list[Suite]:
    return [_ledger(config), _batches(config)]
