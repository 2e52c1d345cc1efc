"""A run gives up on the hub after its first connection failure: offline, a suite's hub-backed
tasks fall back to their fixtures at once instead of each waiting through the client's retries."""

from __future__ import annotations

import pytest

from lc_bench.tasks.datafiles import hub_load, one_warning_per_run


class LocalEntryNotFoundError(Exception):  # huggingface_hub's offline error, by name
    pass


def test_after_a_connection_failure_later_hub_loads_in_the_run_fail_at_once():
    calls: list[str] = []

    def offline() -> None:
        calls.append("tried")
        raise ConnectionError("Couldn't reach 'org/data' on the Hub (LocalEntryNotFoundError)")

    with one_warning_per_run():
        with pytest.raises(ConnectionError):
            hub_load(offline)
        with pytest.raises(ConnectionError, match="unreachable earlier in this run"):
            hub_load(offline)
    assert calls == ["tried"]
    with one_warning_per_run():  # a new run tries again
        with pytest.raises(ConnectionError):
            hub_load(offline)
    assert calls == ["tried", "tried"]


def test_a_missing_dataset_or_a_load_outside_a_run_does_not_give_up_on_the_hub():
    calls: list[str] = []

    def missing() -> None:
        calls.append("tried")
        raise FileNotFoundError("no such dataset")

    def chained() -> None:
        calls.append("chained")
        try:
            raise LocalEntryNotFoundError("cannot find the file in the local cache")
        except LocalEntryNotFoundError as exc:
            raise RuntimeError("wrapped") from exc

    with one_warning_per_run():
        for _ in range(2):
            with pytest.raises(FileNotFoundError):
                hub_load(missing)
        assert hub_load(lambda: 7) == 7
        with pytest.raises(RuntimeError):
            hub_load(chained)  # the cause's class name marks the hub down
        with pytest.raises(ConnectionError):
            hub_load(missing)
    for _ in range(2):  # no run: every load is tried
        with pytest.raises(FileNotFoundError):
            hub_load(missing)
    assert calls == ["tried", "tried", "chained", "tried", "tried"]
