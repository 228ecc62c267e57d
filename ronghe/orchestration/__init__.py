"""What the DAGs share: pools, asset names, task defaults."""
