"""Sell-in to dealers: dealers re-order what their stores sold, so sell-in tracks sell-out.

Each dealer orders on its own cadence; each order line is an `erp_sell_in`
document shipped the next day as a transfer from the regional warehouse to
the dealer's store (ref_id = doc_no). A few documents are cancelled before
shipping and hard-deleted. Channel stuffing is a document far larger than
anything the dealer sells.
"""

from __future__ import annotations

from ronghe.generate.clock import DAY, Clock
from ronghe.generate.defects import DefectLog, DefectPlan
from ronghe.generate.erp import Erp
from ronghe.generate.inventory import Inventory
from ronghe.generate.pos import StoreSales
from ronghe.generate.stores import Network
from ronghe.generate.streams import stream

CANCELLED_SHARE = 0.02


def dealer_orders(
    seed: int,
    day: int,
    network: Network,
    erp: Erp,
    inventory: Inventory,
    sales: StoreSales,
    plan: DefectPlan,
    log: DefectLog,
    clock: Clock,
) -> None:
    rng = stream(seed, "day", day, "sellin")
    dealer_stores: dict[str, list[int]] = {}
    for s in network.stores:
        if s.store_type == "DEALER" and s.dealer_code:
            dealer_stores.setdefault(s.dealer_code, []).append(s.index)
    for dealer in network.dealers:
        stores = dealer_stores.get(dealer.code, [])
        if (
            not stores
            or day % dealer.order_every_days != dealer.order_phase % dealer.order_every_days
        ):
            continue
        owed: dict[int, dict[int, int]] = {}
        for store in stores:
            for item in inventory.store_items[store]:
                qty = sales.dealer_sold.get((store, int(item)), 0)
                if qty > 0:
                    owed.setdefault(int(item), {})[store] = qty
        for item in sorted(owed):
            if not erp.known(item, day * DAY):
                continue
            per_store = owed[item]
            cancelled = rng.random() < CANCELLED_SHARE
            doc = erp.add_sell_in(
                day, rng, dealer.code, item, sum(per_store.values()), clock, cancelled
            )
            if cancelled:
                continue
            for store, qty in per_store.items():
                _ship(inventory, network, store, item, qty, day + 1, doc.doc_no)
                sales.dealer_sold[(store, item)] -= qty
    if plan.pending("channel_stuffing"):
        # Long-standing dealer stores only: a converted store's earlier sales blur its sell-out.
        candidates = [
            (code, s)
            for code, stores in sorted(dealer_stores.items())
            for s in stores
            if network.stores[s].type_changed_day is None
        ]
        if candidates:
            code, store = candidates[int(rng.integers(len(candidates)))]
            # Stuffing pushes slow movers: the less popular half of the store's range.
            known = [int(i) for i in inventory.store_items[store] if erp.known(int(i), day * DAY)]
            known.sort(key=lambda i: (erp.catalog.popularity[i], i))
            items = known[: len(known) // 2]
            if items:
                plan.take("channel_stuffing")
                item = items[int(rng.integers(len(items)))]
                qty = int(rng.integers(40, 80))
                doc = erp.add_sell_in(day, rng, code, item, qty, clock)
                _ship(inventory, network, store, item, qty, day + 1, doc.doc_no)
                log.add(
                    "channel_stuffing",
                    "erp_sell_in",
                    f"{code}/{erp.catalog.item_no[item]}",
                    f"sell-in {doc.doc_no} of {qty} units, far above the dealer's sell-out",
                )


def _ship(
    inventory: Inventory, network: Network, store: int, item: int, qty: int, day: int, ref: str
) -> None:
    dst = inventory.position(network.stores[store].location, item)
    if dst is None:
        return
    inventory.schedule_transfer(day, int(inventory.parent[dst]), dst, qty, ref)
