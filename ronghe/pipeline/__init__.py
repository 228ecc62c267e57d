"""Running the whole pipeline through Airflow (`ronghe run`)."""
