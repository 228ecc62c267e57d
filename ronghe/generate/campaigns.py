"""Marketing campaigns (erp_campaign), their sales uplift and the coupons they issue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ronghe.generate.clock import DAY, Clock

CHANNEL_KEYS = ("STORE", "MALL", "TMALL", "JD")


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    tag: str
    channel: str
    """`ALL` or one channel."""
    start_t: int
    end_t: int
    marketing_cost_fen: int
    coupon_value_fen: int
    uplift: dict[str, float]
    """Daily sales multiplier per channel while the campaign runs."""
    peak_day: int | None = None
    """The day of the big bang (11.11, 6.18): a much larger multiplier."""
    peak_uplift: dict[str, float] = field(default_factory=dict)

    def applies_to(self, channel: str) -> bool:
        return self.channel in ("ALL", channel)


@dataclass(frozen=True)
class _Template:
    tag: str
    name: str
    channel: str
    start: tuple[int, int, int]
    """(month, day, hour)."""
    end: tuple[int, int]
    """(month, day), ends at 23:59:59."""
    coupon_yuan: int
    cost_yuan: int
    uplift: dict[str, float]
    peak: tuple[int, int] | None = None
    peak_uplift: dict[str, float] = field(default_factory=dict)


TEMPLATES = (
    _Template(
        "NEWYEAR",
        "年货节",
        "ALL",
        (1, 5, 0),
        (1, 20),
        50,
        300_000,
        {"STORE": 1.15, "MALL": 1.3, "TMALL": 1.3, "JD": 1.3},
    ),
    _Template(
        "618",
        "618年中大促",
        "ALL",
        (6, 1, 0),
        (6, 18),
        100,
        800_000,
        {"STORE": 1.15, "MALL": 1.5, "TMALL": 1.5, "JD": 1.8},
        (6, 18),
        {"STORE": 1.3, "MALL": 3.0, "TMALL": 3.0, "JD": 4.0},
    ),
    _Template("618", "京东618专场", "JD", (6, 10, 0), (6, 18), 80, 400_000, {"JD": 1.3}),
    _Template(
        "BACK2SCHOOL",
        "开学季",
        "ALL",
        (8, 15, 0),
        (9, 10),
        50,
        250_000,
        {"STORE": 1.1, "MALL": 1.2, "TMALL": 1.2, "JD": 1.2},
    ),
    _Template(
        "NATIONAL_DAY", "国庆黄金周", "STORE", (9, 30, 0), (10, 7), 80, 300_000, {"STORE": 1.35}
    ),
    _Template(
        "DOUBLE11",
        "双11狂欢节",
        "ALL",
        (10, 31, 20),
        (11, 11),
        100,
        1_200_000,
        {"STORE": 1.15, "MALL": 1.6, "TMALL": 1.9, "JD": 1.6},
        (11, 11),
        {"STORE": 1.45, "MALL": 4.0, "TMALL": 6.0, "JD": 4.0},
    ),
    _Template(
        "DOUBLE11", "天猫双11品牌日", "TMALL", (11, 1, 0), (11, 11), 200, 600_000, {"TMALL": 1.2}
    ),
    _Template("DOUBLE12", "双12", "TMALL", (12, 10, 0), (12, 12), 50, 200_000, {"TMALL": 1.5}),
    _Template("MEMBER_DAY", "会员日", "MALL", (0, 18, 0), (0, 18), 30, 30_000, {"MALL": 1.4}),
)


def build_campaigns(clock: Clock, first_day: int, last_day: int, scale: float) -> list[Campaign]:
    """Every campaign touching [first_day, last_day] (window days), ordered by start."""
    start_date = clock.date_of(first_day)
    end_date = clock.date_of(last_day)
    out: list[tuple[int, Campaign]] = []
    for year in range(start_date.year, end_date.year + 1):
        for template in TEMPLATES:
            months = range(1, 13) if template.start[0] == 0 else (template.start[0],)
            for month in months:
                start = datetime(year, month, template.start[1], template.start[2])
                end_month = month if template.end[0] == 0 else template.end[0]
                end = datetime(year, end_month, template.end[1], 23, 59, 59)
                start_t = _window_seconds(clock, start)
                end_t = _window_seconds(clock, end)
                if end_t < first_day * DAY or start_t > (last_day + 1) * DAY:
                    continue
                suffix = f"{year}{month:02d}" if template.start[0] == 0 else str(year)
                peak_day = None
                if template.peak:
                    peak_day = _window_seconds(clock, datetime(year, *template.peak)) // DAY
                cid = f"CP-{template.tag}-{template.channel}-{suffix}"
                out.append(
                    (
                        start_t,
                        Campaign(
                            campaign_id=cid,
                            name=f"{year}{template.name}"
                            if template.start[0]
                            else f"{year}年{month}月{template.name}",
                            tag=template.tag,
                            channel=template.channel,
                            start_t=start_t,
                            end_t=end_t,
                            marketing_cost_fen=int(template.cost_yuan * max(scale, 0.05)) * 100,
                            coupon_value_fen=template.coupon_yuan * 100,
                            uplift=template.uplift,
                            peak_day=peak_day,
                            peak_uplift=template.peak_uplift,
                        ),
                    )
                )
    out.sort(key=lambda pair: (pair[0], pair[1].campaign_id))
    return [c for _, c in out]


def _window_seconds(clock: Clock, moment: datetime) -> int:
    days = (moment.date() - clock.start).days
    return days * DAY + moment.hour * 3600 + moment.minute * 60 + moment.second


def active_on(campaigns: list[Campaign], channel: str, t: int) -> list[Campaign]:
    return [c for c in campaigns if c.start_t <= t <= c.end_t and c.applies_to(channel)]


def day_uplift(campaigns: list[Campaign], channel: str, day: int) -> float:
    """The sales multiplier of a channel on a day (campaigns running at noon)."""
    factor = 1.0
    noon = day * DAY + 12 * 3600
    for c in campaigns:
        if not c.applies_to(channel) or not (
            c.start_t <= noon <= c.end_t or c.start_t // DAY == day
        ):
            continue
        factor *= (
            c.peak_uplift.get(channel, 1.0) if c.peak_day == day else c.uplift.get(channel, 1.0)
        )
    return factor


def default_start() -> date:
    """A 90-day window from here covers the national day week and DOUBLE11."""
    return date(2025, 8, 20)
