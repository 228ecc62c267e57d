"""Scoring a finished run against the estate's `_truth/` (`ronghe eval`)."""
