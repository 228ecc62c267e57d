"""Running the dbt project against the configured warehouse."""
