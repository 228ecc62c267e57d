"""Campaigns follow the calendar: a window over 6.18 holds the 618 campaign and its uplift."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from ronghe.generate import generate_estate
from tests.generate.sources import erp, jsonl


def test_618_window_has_the_campaign_and_its_peak(estate_factory):
    root = estate_factory(scale=0.01, seed=3, days=10, start_date=date(2025, 6, 10))
    tags = {r[0] for r in erp(root).execute("SELECT tag FROM erp_campaign")}
    assert "618" in tags
    per_day = Counter()
    for o in jsonl(root / "ecommerce" / "JD" / "orders.jsonl"):
        if o["status"] == "CREATED":
            local = datetime.strptime(o["created_at"], "%Y-%m-%dT%H:%M:%SZ") + timedelta(hours=8)
            per_day[local.date()] += 1
    peak = per_day.pop(date(2025, 6, 18))
    assert peak > 2 * max(per_day.values())


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError):
        generate_estate(tmp_path / "a", 0, 1, 10)
    with pytest.raises(ValueError):
        generate_estate(tmp_path / "b", 0.01, 1, 0)
