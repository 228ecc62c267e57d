"""What a landing batch raises when it cannot land, or lands only part of a run."""

from __future__ import annotations

from collections.abc import Sequence


class LandingError(RuntimeError):
    """A batch could not be landed; nothing of it was committed."""


class LedgerImbalanceError(LandingError):
    """Rows read and rows accounted for differ for some origin; the batch was rolled back."""


class RejectedDeliveriesError(RuntimeError):
    """Some deliveries were refused; everything else of the batch was committed."""

    def __init__(self, source: str, rejections: Sequence[tuple[str | None, str, str]]):
        self.source = source
        self.rejections = list(rejections)
        listed = "\n".join(f"  - {origin}: {reason}" for _, origin, reason in rejections)
        super().__init__(
            f"{source}: {len(rejections)} deliveries were rejected and not landed "
            f"(they are retried on the next run once fixed):\n{listed}"
        )
