"""Coupons: issued by campaigns to platform buyers, redeemed once online or at a till."""

from __future__ import annotations

import numpy as np

from ronghe.generate.campaigns import Campaign
from ronghe.generate.clock import DAY
from ronghe.generate.people import People
from ronghe.generate.streams import pick, stream

ISSUE_LEAD_DAYS = 5
VALID_AFTER_END_DAYS = 3
ISSUE_PLATFORM_CUM = np.cumsum((0.7, 0.15, 0.15))
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class Coupons:
    def __init__(self, seed: int, campaigns: list[Campaign], online_lines_per_day: float) -> None:
        self.seed = seed
        self.campaigns = campaigns
        self.rate = 0.08 * online_lines_per_day
        self.code: list[str] = []
        self.campaign: list[int] = []
        self.platform: list[str] = []
        self.buyer: list[int] = []
        self.issued_t: list[int] = []
        self.expires_t: list[int] = []
        self.redemptions: list[int] = []
        self.by_buyer: dict[tuple[str, int], list[int]] = {}
        self.index_of: dict[str, int] = {}
        self.redeemed_pool: list[int] = []

    def issue(self, day: int, people: People) -> list[int]:
        """Coupons issued today (returned in issue order)."""
        rng = stream(self.seed, "day", day, "coupons")
        issued: list[tuple[int, int]] = []
        for ci, campaign in enumerate(self.campaigns):
            if not (campaign.start_t - ISSUE_LEAD_DAYS * DAY <= day * DAY <= campaign.end_t):
                continue
            share = 1.0 if campaign.channel == "ALL" else 0.5
            for _ in range(int(rng.poisson(self.rate * share))):
                if campaign.channel in ("MALL", "TMALL", "JD"):
                    platform = campaign.channel
                elif campaign.channel == "STORE":
                    platform = "MALL"
                else:
                    platform = ("MALL", "TMALL", "JD")[pick(rng, ISSUE_PLATFORM_CUM)]
                pool = people.buyer_pool[platform]
                if not pool:
                    continue
                buyer = pool[rng.integers(len(pool))]
                t = day * DAY + int(rng.integers(8 * 3600, 23 * 3600))
                idx = len(self.code)
                self.code.append(self._new_code(rng, campaign.tag, day))
                self.campaign.append(ci)
                self.platform.append(platform)
                self.buyer.append(buyer)
                self.issued_t.append(t)
                self.expires_t.append(campaign.end_t + VALID_AFTER_END_DAYS * DAY)
                self.redemptions.append(0)
                self.by_buyer.setdefault((platform, buyer), []).append(idx)
                issued.append((t, idx))
        issued.sort(key=lambda pair: (pair[0], self.code[pair[1]]))
        return [idx for _, idx in issued]

    def _new_code(self, rng: np.random.Generator, tag: str, day: int) -> str:
        prefix = "".join(c for c in tag if c.isalnum())[:3].upper()
        while True:
            body = "".join(_ALPHABET[i] for i in rng.integers(0, len(_ALPHABET), size=8))
            code = f"{prefix}{day % 100:02d}{body}"
            if code not in self.index_of:
                self.index_of[code] = len(self.code)
                return code

    def usable(self, platform: str, buyer: int, t: int, channel: str) -> int | None:
        for idx in self.by_buyer.get((platform, buyer), ()):
            campaign = self.campaigns[self.campaign[idx]]
            if (
                self.redemptions[idx] == 0
                and self.issued_t[idx] <= t <= self.expires_t[idx]
                and campaign.applies_to(channel)
            ):
                return idx
        return None

    def redeem(self, idx: int) -> None:
        self.redemptions[idx] += 1
        if self.redemptions[idx] == 1:
            self.redeemed_pool.append(idx)

    def value(self, idx: int) -> int:
        return self.campaigns[self.campaign[idx]].coupon_value_fen
