"""What becomes of each valid row: `loaded`, `duplicate` or `superseded`, and why.

The stream's `dedup` scope decides what a row is compared with:
- `origin`: earlier lines of the same origin (a till retry repeats a line);
- `history`: the previous version of its key in this batch, or else the
  latest version already landed;
- `versions`: every version of its key read earlier in this batch or landed
  before (change feeds re-read from an inclusive watermark).
A row of an origin replaced by a later delivery is `superseded`.

Each function builds a staging table of the rows (`_row`, `_ord`, `_origin_line`)
with `_disposition` and `_detail`, and returns its name; the rows' values stay
in the checked rows they came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from extractors.raw_columns import ROW_HASH_COLUMN, ROW_ID, sql_literal
from extractors.sinks import qualified, quote

if TYPE_CHECKING:
    from extractors.stream_landing import StreamLanding


def dispositions(stream: StreamLanding, hashed: str, origins: str) -> str:
    """The disposition of every row of `hashed` (valid rows with their `_row_hash`)."""
    out = stream.batch.temp_name("dispositions")
    if stream.contract.dedup == "origin":
        return _origin_dispositions(stream, hashed, origins, out)
    if stream.contract.dedup == "versions":
        return _version_dispositions(stream, hashed, origins, out)
    return _history_dispositions(stream, hashed, origins, out)


def _origin_dispositions(stream: StreamLanding, hashed: str, origins: str, out: str) -> str:
    key = ", ".join(quote(k) for k in stream.contract.natural_key)
    stream.batch.staging.execute(
        f"""CREATE TEMP TABLE {out} AS
        SELECT h.{ROW_ID}, h._ord, h._origin_line, CASE
            WHEN first_line < h._origin_line THEN 'duplicate'
            WHEN o._superseded_by IS NOT NULL THEN 'superseded'
            ELSE 'loaded' END AS _disposition,
          CASE WHEN first_line < h._origin_line THEN 'repeats line ' || first_line
            WHEN o._superseded_by IS NOT NULL THEN 'superseded by ' || o._superseded_by
          END AS _detail
        FROM (SELECT {ROW_ID}, _ord, _origin_line, min(_origin_line) OVER (
                PARTITION BY _ord, {key}, {ROW_HASH_COLUMN}) AS first_line FROM {hashed}) h
        JOIN {origins} o USING (_ord)"""
    )
    return out


def _history_dispositions(stream: StreamLanding, hashed: str, origins: str, out: str) -> str:
    latest = _latest_landed(stream, hashed)
    keys = [quote(k) for k in stream.contract.natural_key]
    partition = ", ".join(keys)
    on_latest = " AND ".join(f"h.{k} = l.{k}" for k in keys)
    on_repeated = " AND ".join(f"h.{k} = r.{k}" for k in keys)
    # Versions within the batch are compared in order (window) only for the few keys
    # that occur more than once; every other row is compared with the landed version.
    stream.batch.staging.execute(
        f"""CREATE TEMP TABLE {out} AS
        WITH repeated AS (
          SELECT {partition} FROM {hashed} GROUP BY ALL HAVING count(*) > 1),
        joined AS (
          SELECT h.{ROW_ID}, h._ord, h._origin_line, {", ".join(f"h.{k}" for k in keys)},
                 h.{ROW_HASH_COLUMN}, o._origin AS _this_origin, o._superseded_by,
                 l._row_hash AS _landed_hash, l._batch_id AS _landed_batch,
                 l._origin AS _landed_origin, l._origin_line AS _landed_line,
                 r.{keys[0]} IS NOT NULL AS _repeated
          FROM {hashed} h JOIN {origins} o USING (_ord)
          LEFT JOIN {latest} l ON {on_latest}
          LEFT JOIN repeated r ON {on_repeated}),
        ordered AS (
          SELECT *, lag({ROW_HASH_COLUMN}) OVER w AS _prev_hash,
                 lag(_this_origin) OVER w AS _prev_origin,
                 lag(_origin_line) OVER w AS _prev_line
          FROM joined WHERE _repeated
          WINDOW w AS (PARTITION BY {partition} ORDER BY _ord, _origin_line)
          UNION ALL
          SELECT *, NULL AS _prev_hash, NULL AS _prev_origin, NULL AS _prev_line
          FROM joined WHERE NOT _repeated)
        SELECT {ROW_ID}, _ord, _origin_line,
          CASE WHEN {ROW_HASH_COLUMN} = coalesce(_prev_hash, _landed_hash) THEN 'duplicate'
               WHEN _superseded_by IS NOT NULL THEN 'superseded'
               ELSE 'loaded' END AS _disposition,
          CASE WHEN {ROW_HASH_COLUMN} = _prev_hash
                 THEN 'repeats ' || _prev_origin || ' line ' || _prev_line
               WHEN _prev_hash IS NULL AND {ROW_HASH_COLUMN} = _landed_hash
                 THEN 'equals the latest landed version (' || _landed_batch || ', '
                      || _landed_origin || ' line ' || _landed_line || ')'
               WHEN _superseded_by IS NOT NULL THEN 'superseded by ' || _superseded_by
          END AS _detail
        FROM ordered"""
    )
    return out


def _version_dispositions(stream: StreamLanding, hashed: str, origins: str, out: str) -> str:
    """`dedup: versions`: a row is new unless its key and content were read or landed before."""
    b = stream.batch
    natural_key = [quote(k) for k in stream.contract.natural_key]
    version = [*natural_key, ROW_HASH_COLUMN]
    landed = b.temp_name("landed_versions")
    wh_versions = b.temp_name("wh_versions")
    b.sink.to_warehouse_temp(f"SELECT DISTINCT {', '.join(version)} FROM {hashed}", wh_versions)
    b.sink.to_staging(
        f"""SELECT {", ".join(f"r.{c}" for c in version)},
                   r._batch_id, r._origin, r._origin_line
            FROM (SELECT r.*, row_number() OVER (
                    PARTITION BY {", ".join(f"r.{c}" for c in version)}
                    ORDER BY r._batch_id, r._origin, r._origin_line) AS rn
                  FROM {qualified("raw", stream.contract.raw_table)} r
                  JOIN {quote(wh_versions)} v
                    ON {" AND ".join(f"r.{c} = v.{c}" for c in version)}) r
            WHERE rn = 1""",
        landed,
    )
    b.staging.execute(
        f"""CREATE TEMP TABLE {out} AS
        WITH ordered AS (
          SELECT h.{ROW_ID}, h._ord, h._origin_line, {", ".join(f"h.{c}" for c in version)},
                 o._superseded_by, row_number() OVER w AS _seen,
                 first_value(o._origin) OVER w AS _first_origin,
                 first_value(h._origin_line) OVER w AS _first_line
          FROM {hashed} h JOIN {origins} o USING (_ord)
          WINDOW w AS (PARTITION BY {", ".join(f"h.{c}" for c in version)}
                       ORDER BY h._ord, h._origin_line))
        SELECT d.{ROW_ID}, d._ord, d._origin_line,
          CASE WHEN d._seen > 1 OR l._batch_id IS NOT NULL THEN 'duplicate'
               WHEN d._superseded_by IS NOT NULL THEN 'superseded'
               ELSE 'loaded' END AS _disposition,
          CASE WHEN d._seen > 1
                 THEN 'repeats ' || d._first_origin || ' line ' || d._first_line
               WHEN l._batch_id IS NOT NULL
                 THEN 'equals a version already landed (' || l._batch_id || ', '
                      || l._origin || ' line ' || l._origin_line || ')'
               WHEN d._superseded_by IS NOT NULL THEN 'superseded by ' || d._superseded_by
          END AS _detail
        FROM ordered d LEFT JOIN {quote(landed)} l
          ON {" AND ".join(f"d.{c} = l.{c}" for c in version)}"""
    )
    return out


def _latest_landed(stream: StreamLanding, hashed: str) -> str:
    """Staging table: per natural key of this batch, the latest version already landed."""
    b = stream.batch
    key_cols = [quote(k) for k in stream.contract.natural_key]
    table = qualified("raw", stream.contract.raw_table)
    # The batch's range of the first key column bounds the scan: raw is appended in
    # arrival order, so zone maps skip the history outside it (dates, rising ids).
    low, high = b.staging.execute(
        f"SELECT min({key_cols[0]}), max({key_cols[0]}) FROM {hashed}"
    ).fetchone()
    if low is None:
        return _no_landed_versions(stream, key_cols)
    bounded = b.sink.text_between(f"r.{key_cols[0]}", sql_literal(low), sql_literal(high))
    # Nothing landed in that range (a first load, or a chunk of days after those an
    # earlier chunk landed): no key can match, so ship none to the warehouse.
    if not b.sink.fetch(f"SELECT 1 FROM {table} r WHERE {bounded} LIMIT 1"):
        return _no_landed_versions(stream, key_cols)
    keys = ", ".join(key_cols)
    wh_keys = b.temp_name("wh_keys")
    b.sink.to_warehouse_temp(f"SELECT DISTINCT {keys} FROM {hashed}", wh_keys)
    join = " AND ".join(f"r.{k} = k.{k}" for k in key_cols)
    latest = b.temp_name("latest")
    b.sink.to_staging(
        f"""SELECT {", ".join(f"r.{k}" for k in key_cols)}, r._row_hash, r._batch_id, r._origin,
                   r._origin_line
            FROM (SELECT r.*, row_number() OVER (
                    PARTITION BY {", ".join(f"r.{k}" for k in key_cols)}
                    ORDER BY coalesce(lb.seq, {b.seq}) DESC, r._origin DESC,
                             r._origin_line DESC) AS rn
                  FROM {table} r JOIN {quote(wh_keys)} k ON {join}
                  LEFT JOIN ops.load_batches lb ON lb.batch_id = r._batch_id
                  WHERE {bounded}) r
            WHERE rn = 1""",
        latest,
    )
    return quote(latest)


def _no_landed_versions(stream: StreamLanding, key_cols: list[str]) -> str:
    empty = stream.batch.temp_name("latest")
    columns = ", ".join(f"CAST(NULL AS VARCHAR) AS {k}" for k in key_cols)
    stream.batch.staging.execute(
        f"CREATE TEMP TABLE {empty} AS SELECT {columns}, CAST(NULL AS BIGINT) AS _row_hash, "
        "CAST(NULL AS VARCHAR) AS _batch_id, CAST(NULL AS VARCHAR) AS _origin, "
        "CAST(NULL AS BIGINT) AS _origin_line WHERE false"
    )
    return empty
