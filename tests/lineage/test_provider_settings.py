"""The Airflow OpenLineage provider stays off under Ronghe's Airflow, endpoint or not.

(The provider reads its settings afresh under pytest; it caches them only in a
real Airflow process.)
"""

from __future__ import annotations

from airflow.providers.openlineage import conf

from ronghe.pipeline.airflow_env import airflow_environment


def test_an_endpoint_for_ronghes_events_does_not_switch_the_provider_on(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:5000")
    assert not conf.is_disabled()  # the URL alone would switch it on
    for name, value in airflow_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    assert conf.is_disabled()
    assert conf.namespace() == "ronghe"
