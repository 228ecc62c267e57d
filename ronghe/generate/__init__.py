"""The demo estate generator (`ronghe generate`): four source systems plus ground truth."""

from ronghe.generate.estate import GENERATOR_VERSION, EstateSummary, generate_estate

__all__ = ["GENERATOR_VERSION", "EstateSummary", "generate_estate"]
