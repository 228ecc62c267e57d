"""The `identity:` section of config/ronghe.yml, typed and checked once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ronghe.config import section

PRIOR_KEYS = ("phone", "masked_phones", "email", "pickup_card", "coupon_card")
EVIDENCE_KEYS = ("city", "nickname", "nickname_name", "gender", "email")


@dataclass(frozen=True)
class Evidence:
    """Fellegi-Sunter probabilities of one comparison."""

    m: float
    """P(agrees | the two records are one person)."""
    u: float
    """P(agrees | they are different people sharing the candidate key)."""

    @property
    def agree_factor(self) -> float:
        return self.m / self.u

    @property
    def disagree_factor(self) -> float:
        return (1.0 - self.m) / (1.0 - self.u)


@dataclass(frozen=True)
class MemberRules:
    default_phone_region: str
    max_block_size: int
    recycled_phone_gap_days: int
    tenure_tolerance_days: int
    known_buyer_share: float
    known_buyer_min_sample: int
    double_registration_share: float
    accept_probability: float
    review_probability: float
    prior: dict[str, float]
    evidence: dict[str, Evidence]


@dataclass(frozen=True)
class ProductRules:
    listing_fuzzy_min_score: float
    listing_fuzzy_min_margin: float


@dataclass(frozen=True)
class IdentityConfig:
    model_version: str
    members: MemberRules
    products: ProductRules
    config_hash: str
    """Short hash of the whole section: logged with every merge and split."""

    @property
    def version(self) -> str:
        """`<model_version>+<config hash>`, as recorded in the logs."""
        return f"{self.model_version}+{self.config_hash}"


def load_identity_config(path: Path | None = None) -> IdentityConfig:
    """Read and validate the `identity:` section."""
    return parse_identity_config(section("identity", path))


def parse_identity_config(raw: dict[str, Any]) -> IdentityConfig:
    """Validate a mapping shaped like the `identity:` section; errors name the bad key."""
    members = raw["members"]
    prior = {key: _probability(members["prior"], key, "members.prior") for key in PRIOR_KEYS}
    evidence = {}
    for key in EVIDENCE_KEYS:
        entry = members["evidence"][key]
        evidence[key] = Evidence(
            m=_probability(entry, "m", f"members.evidence.{key}"),
            u=_probability(entry, "u", f"members.evidence.{key}"),
        )
    rules = MemberRules(
        default_phone_region=str(members["default_phone_region"]),
        max_block_size=int(members["max_block_size"]),
        recycled_phone_gap_days=int(members["recycled_phone_gap_days"]),
        tenure_tolerance_days=int(members["tenure_tolerance_days"]),
        known_buyer_share=_probability(members, "known_buyer_share", "members"),
        known_buyer_min_sample=int(members["known_buyer_min_sample"]),
        double_registration_share=_probability(members, "double_registration_share", "members"),
        accept_probability=_probability(members, "accept_probability", "members"),
        review_probability=_probability(members, "review_probability", "members"),
        prior=prior,
        evidence=evidence,
    )
    if rules.review_probability > rules.accept_probability:
        raise ValueError("identity.members: review_probability must not exceed accept_probability")
    if rules.max_block_size < 2:
        raise ValueError("identity.members.max_block_size must be at least 2")
    products = raw["products"]
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    return IdentityConfig(
        model_version=str(raw["model_version"]),
        members=rules,
        products=ProductRules(
            listing_fuzzy_min_score=float(products["listing_fuzzy_min_score"]),
            listing_fuzzy_min_margin=float(products["listing_fuzzy_min_margin"]),
        ),
        config_hash=digest[:12],
    )


def _probability(mapping: dict[str, Any], key: str, where: str) -> float:
    value = float(mapping[key])
    if not 0.0 < value < 1.0:
        raise ValueError(f"identity.{where}.{key} must lie strictly between 0 and 1, not {value}")
    return value
