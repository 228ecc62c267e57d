"""Generate a complete demo estate: ERP, POS, WMS, e-commerce and `_truth/`.

The world (stores, items, people before the window) is built from the seed
and scale; then each day is simulated in order from streams seeded by
(seed, day). Writers emit only what has happened by the cut-off (the end of
the last day), so a longer estate extends a shorter one and leaves the
files of earlier days untouched.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ronghe.generate.campaigns import build_campaigns, day_uplift, default_start
from ronghe.generate.clock import Clock
from ronghe.generate.coupons import Coupons
from ronghe.generate.defects import DefectLog, DefectPlan
from ronghe.generate.ecommerce_writer import EcommerceWriter
from ronghe.generate.erp import Erp
from ronghe.generate.files import EstateFiles, needs_stale_tracking
from ronghe.generate.inventory import Inventory
from ronghe.generate.online import Online
from ronghe.generate.people import People
from ronghe.generate.pos import StoreSales
from ronghe.generate.pos_writer import PosWriter
from ronghe.generate.products import build_catalog
from ronghe.generate.sellin import dealer_orders
from ronghe.generate.stores import build_network
from ronghe.generate.streams import stream
from ronghe.generate.truth import TruthWriter
from ronghe.generate.volumes import volumes_for
from ronghe.generate.wms import WmsDay
from ronghe.generate.wms_writer import WmsWriter

# Bump whenever the same arguments would give different bytes: a folder holding an estate of
# another version is then cleaned of stale files when regenerated.
GENERATOR_VERSION = "1.0.0"
CAMPAIGN_HORIZON_DAYS = 400


@dataclass
class EstateSummary:
    root: Path
    scale: float
    seed: int
    days: int
    start_date: date
    counts: dict[str, int]
    defects: dict[str, int]
    files_changed: int
    seconds: float
    manifest: dict = field(default_factory=dict)
    phase_seconds: dict[str, float] = field(default_factory=dict)


def generate_estate(
    out: Path,
    scale: float,
    seed: int,
    days: int = 90,
    start_date: date | None = None,
) -> EstateSummary:
    """Write an estate (scale, seed, days, start_date) to `out`; same arguments, same bytes."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    started = time.perf_counter()
    timer = _PhaseTimer()
    start = start_date or default_start()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    volumes = volumes_for(scale)
    clock = Clock(start)
    network = build_network(seed, volumes)
    catalog = build_catalog(seed, volumes.items)
    people = People(seed, volumes, network)
    inventory = Inventory(seed, network, catalog, volumes)
    erp = Erp(seed, network, catalog, volumes.rate_scale)
    campaigns = build_campaigns(clock, -60, days + CAMPAIGN_HORIZON_DAYS, scale)
    coupons = Coupons(seed, campaigns, volumes.online_lines_per_day)
    plan = DefectPlan(seed, volumes.rate_scale)
    log = DefectLog()
    sales = StoreSales(seed, volumes, network, catalog, people, inventory, erp, coupons, clock)
    online = Online(
        seed, volumes, network, catalog, people, inventory, erp, coupons, campaigns, clock
    )
    wms_day = WmsDay(seed, inventory, clock, volumes.rate_scale)

    identity = {
        "generator_version": GENERATOR_VERSION,
        "scale": scale,
        "seed": seed,
        "start_date": start.isoformat(),
    }
    files = EstateFiles(out, track_stale=needs_stale_tracking(out, identity, days))
    pos_writer = PosWriter(seed, files, clock, people, days, len(network.stores))
    wms_writer = WmsWriter(seed, files, clock, inventory, catalog)
    ecom_writer = EcommerceWriter(files, clock, people, coupons, campaigns)
    truth = TruthWriter(files, out, clock, catalog, people, days)
    ecom_writer.write_history()

    timer.lap("world")
    for day in range(days):
        plan.start_day(day)
        inventory.start_day(day, stream(seed, "day", day, "transfers"))
        for store in erp.daily_changes(day, plan, log, clock):
            dealer = store.store_type == "DEALER"
            inventory.dealer_position[inventory.store_positions[store.index]] = dealer
        registrations, profile_changes = people.advance(day)
        coupon_ids = coupons.issue(day, people)
        timer.lap("people")
        uplift = {ch: day_uplift(campaigns, ch, day) for ch in ("STORE", "MALL", "TMALL", "JD")}
        online.create_day(day, uplift, plan, log)
        online.process_day(day)
        timer.lap("online")
        members_by_store: dict[int, list[int]] = {}
        for reg in registrations:
            if reg.kind == "MEMBER":
                members_by_store.setdefault(int(people.members["store"][reg.record]), []).append(
                    reg.record
                )
        store_days = sales.run_day(
            day, uplift["STORE"], members_by_store, online.pickups.pop(day, {}), plan, log
        )
        timer.lap("stores")
        dealer_orders(seed, day, network, erp, inventory, sales, plan, log, clock)
        wms_day.close_day(day, plan, log)
        timer.lap("wms")
        pos_writer.write_day(day, store_days, plan, log, sales.spike_days)
        timer.lap("write_pos")
        wms_writer.write_day(day, online.take_shipments(day), plan, log)
        timer.lap("write_wms")
        ecom_writer.write_day(
            day, online.take_versions(day), registrations + profile_changes, coupon_ids
        )
        timer.lap("write_ecommerce")
        truth.orders(online.created)
        truth.store_days(store_days, pos_writer.available_day)
        sales.finish_day(day)
        timer.lap("write_truth")

    erp_bytes = erp.export(out / "erp" / "erp.db", days, clock, campaigns)
    files.write("erp/erp.db", erp_bytes)
    wms_writer.write_items(days)
    ecom_writer.finish(days, catalog)
    truth.finish_sales_lines()
    counts: Counter[str] = Counter()
    counts.update(pos_writer.counts)
    counts.update(wms_writer.counts)
    counts.update(ecom_writer.counts)
    counts.update({f"erp_{table}_rows": n for table, n in erp.row_counts(erp_bytes).items()})
    counts["truth_sales_lines"] = truth.rows
    counts["truth_persons"] = truth.persons()
    counts["truth_products"] = truth.products()
    defects = log.counts()
    counts["truth_defects"] = len(log.rows)
    files.write("_truth/defects.csv", log.to_csv())
    manifest = {
        **identity,
        "days": days,
        "cutoff": f"{clock.date_str(days)}T00:00:00+08:00",
        "counts": dict(sorted(counts.items())),
        "defects": defects,
        "stores": len(network.stores),
        "items": catalog.size,
    }
    truth.manifest(manifest)
    files.remove_stale()
    timer.lap("finish")
    return EstateSummary(
        root=out,
        scale=scale,
        seed=seed,
        days=days,
        start_date=start,
        counts=dict(counts),
        defects=defects,
        files_changed=files.changed,
        seconds=time.perf_counter() - started,
        manifest=manifest,
        phase_seconds=timer.seconds,
    )


class _PhaseTimer:
    """Wall time per phase of the run (reported by benchmarks, never written to the estate)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - self._last
        self._last = now
