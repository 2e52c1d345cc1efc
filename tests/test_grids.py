import pytest

from lc_bench.errors import UsageError
from lc_bench.grids import parse_depths, sigmoid_depths


def test_explicit_list():
    assert parse_depths("100,0,50") == [0.0, 50.0, 100.0]


def test_linear_range():
    assert parse_depths("0:100:11") == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert parse_depths("20:20:1") == [20.0]


def test_sigmoid_is_denser_near_the_ends():
    depths = sigmoid_depths(11)
    assert depths[0] == 0.0 and depths[-1] == 100.0 and depths[5] == pytest.approx(50.0)
    gaps = [b - a for a, b in zip(depths, depths[1:], strict=False)]
    assert gaps[0] < gaps[4] and gaps[-1] < gaps[5]
    assert parse_depths("sigmoid:11") == depths


@pytest.mark.parametrize("text", ["101", "-5", "a,b", "0:100", "0:100:x", "0:100:0", "sigmoid:0", ","])
def test_bad_depths(text):
    with pytest.raises(UsageError):
        parse_depths(text)
