"""Hand-computed cases for RULER's string_match_all / string_match_part."""

import pytest

from lc_bench.scoring.ruler import postprocess, string_match_all, string_match_part


def test_postprocess_strips_and_replaces_control_characters():
    assert postprocess("  12\x0034\t5 \n") == "12\n34\n5"


def test_all_is_the_share_of_references_found_case_insensitively():
    assert string_match_all("The numbers are 111 and 333.", ["111", "222", "333", "444"]) == 50.0
    assert string_match_all("UUID ABC-def", ["abc-DEF"]) == 100.0
    assert string_match_all("nothing", ["1"]) == 0.0


def test_part_is_one_if_any_reference_is_found():
    assert string_match_part("Paris is the answer", ["paris", "Lyon"]) == 100.0
    assert string_match_part("Rome", ["paris", "Lyon"]) == 0.0


def test_substring_matching_is_raw_not_tokenised():
    # RULER does a plain substring test: "12345" is found inside "9123456".
    assert string_match_all("9123456", ["12345"]) == 100.0


def test_control_characters_split_a_reference():
    assert string_match_all("12\x003", ["123"]) == 0.0


def test_mean_over_samples_reproduces_ruler_task_score():
    preds = ["a b", "a", "", "b"]
    refs = [["a", "b"], ["a", "b"], ["a"], ["a", "b"]]
    scores = [string_match_all(p, r) for p, r in zip(preds, refs, strict=True)]
    # RULER: (1 + 0.5 + 0 + 0.5) / 4 * 100 = 50
    assert sum(scores) / len(scores) == 50.0


def test_no_references_is_a_programming_error():
    with pytest.raises(ValueError):
        string_match_all("x", [])
