"""The append-only audit log of runs, publishes, steward overrides and erasures."""
