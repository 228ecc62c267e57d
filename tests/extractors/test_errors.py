"""Landing errors are verdicts on the data: the task retry policy must recognise them."""

from __future__ import annotations

import pytest

from extractors.errors import LedgerImbalanceError, RejectedDeliveriesError
from ronghe.orchestration.failures import RongheRetryPolicy


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (LedgerImbalanceError("pos.lines: read 3 != loaded 2"), "ledger did not balance"),
        (RejectedDeliveriesError("pos", [(None, "pos/S1/20250301", "x")]), "rejected"),
    ],
)
def test_landing_verdicts_are_not_retried(error: Exception, reason: str) -> None:
    decision = RongheRetryPolicy().evaluate(error, try_number=1, max_tries=3)
    assert decision.action.value == "fail"
    assert reason in decision.reason
