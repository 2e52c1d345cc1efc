import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import RUNNERS, TASKS, Registry


def test_builtins_are_registered():
    assert {"niah", "niah_single_1", "niah_multiquery"} <= set(TASKS.names())
    assert {"hf", "echo", "constant"} <= set(RUNNERS.names())


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UsageError, match="did you mean niah_single_3, niah_single_2, niah_single_1"):
        TASKS.get("niah_singel")
    with pytest.raises(UsageError, match="unknown runner 'zzz'"):
        RUNNERS.get("zzz")


def test_a_name_cannot_be_registered_twice():
    registry: Registry = Registry("thing", ())
    registry.register("a")(object)
    with pytest.raises(ValueError):
        registry.register("a")(int)
