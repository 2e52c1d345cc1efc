import pytest

from lc_bench.errors import UsageError
from lc_bench.lengths import check_context_window, format_length, input_budget, parse_length, parse_lengths


def test_k_is_1024():
    assert parse_length("4k") == 4096
    assert parse_length("128K") == 131072
    assert parse_length("1m") == 1048576
    assert parse_length("1500") == 1500


def test_list_is_sorted_and_deduplicated():
    assert parse_lengths("4k,1k,2k,4k") == [1024, 2048, 4096]


def test_range_doubles_from_start_to_stop():
    assert parse_lengths("4k:128k") == [4096, 8192, 16384, 32768, 65536, 131072]
    assert parse_lengths("1k:1k") == [1024]
    assert parse_lengths("1k:3k,8k") == [1024, 2048, 8192]


@pytest.mark.parametrize("text", ["", "4x", "k", "1k,,2k", "-1k", "4k:1k", "0", "1.5k"])
def test_malformed_lists_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_lengths(text)


def test_format_length_round_trips():
    for text in ["1k", "128k", "1m", "1500"]:
        assert format_length(parse_length(text)) == text


def test_budget_reserves_the_output():
    assert input_budget(4096, 128) == 3968
    with pytest.raises(UsageError, match="no room"):
        input_budget(100, 128)


def test_context_window_check_names_the_offending_length():
    check_context_window([1024, 8192], 8192, "m")
    with pytest.raises(UsageError, match="16k exceeds the context window of m"):
        check_context_window([1024, 16384], 8192, "m")
    check_context_window([10**6], None, "unknown-window")
