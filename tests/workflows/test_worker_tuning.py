"""A worker's cache of running reviews and the share of its polls that take
new tasks come from the settings (``PINGYI_WORKER_CACHED_WORKFLOWS``,
``PINGYI_WORKER_NEW_TASK_POLL_RATIO``) to the Temporal worker that
``reviewctl serve`` and ``worker.py`` build; a value out of range is refused
naming the setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import Settings
from worker import build_worker, worker_tuning


def test_the_settings_reach_the_worker(time_env, log_engine, task_queue, monkeypatch, tmp_path):
    monkeypatch.setenv("PINGYI_WORKER_CACHED_WORKFLOWS", "4000")
    monkeypatch.setenv("PINGYI_WORKER_NEW_TASK_POLL_RATIO", "0.5")
    settings = Settings(data_dir=tmp_path)
    assert worker_tuning(settings) == {"cached_workflows": 4000, "new_task_poll_ratio": 0.5}
    config = build_worker(time_env.client, log_engine, task_queue, **worker_tuning(settings)).config()
    assert (config["max_cached_workflows"], config["nonsticky_to_sticky_poll_ratio"]) == (4000, 0.5)
    monkeypatch.delenv("PINGYI_WORKER_CACHED_WORKFLOWS")
    monkeypatch.delenv("PINGYI_WORKER_NEW_TASK_POLL_RATIO")
    default = build_worker(time_env.client, log_engine, task_queue + "-default", **worker_tuning(Settings(data_dir=tmp_path))).config()
    assert (default["max_cached_workflows"], default["nonsticky_to_sticky_poll_ratio"]) == (1000, 0.2)  # the SDK's own


@pytest.mark.parametrize("name, value", [("PINGYI_WORKER_CACHED_WORKFLOWS", "0"), ("PINGYI_WORKER_NEW_TASK_POLL_RATIO", "0"), ("PINGYI_WORKER_NEW_TASK_POLL_RATIO", "1.5"),
                                         ("PINGYI_WORKER_CACHED_WORKFLOWS", "many")])
def test_a_value_out_of_range_is_refused_naming_the_setting(name, value, monkeypatch, tmp_path):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as err:
        Settings(data_dir=tmp_path)
    assert name.removeprefix("PINGYI_").lower() in str(err.value)
