"""Ada-LEval TSort and BestAnswer: extraction on adversarial replies, exact lengths, loaders, bad input."""

from __future__ import annotations

import json
import re

import pytest

from lc_bench.registry import TASKS
from lc_bench.scoring.adaleval import (
    bestanswer_scores,
    extract_choice,
    extract_choice_compat,
    extract_order,
    extract_order_compat,
    kendall_tau,
    tsort_random_baseline,
    tsort_scores,
)
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.bestanswer import build_prompt
from tests.e2e.test_cli import lc_bench, records

# -- TSort extraction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "order"),
    [
        ("Answer: [4, 1, 3, 2]", (4, 1, 3, 2)),
        ("answer:[2,1,4,3]\n", (2, 1, 4, 3)),
        ("The order is clear.\nAnswer: [3, 4, 1, 2] because part 3 starts the story.", (3, 4, 1, 2)),
        ("Answer: [1, 2, 3, 4] or maybe [2, 1, 3, 4]", None),  # two orders given: no answer
        ("Answer: [1, 2, 3]", None),  # not a permutation of 1..4
        ("Answer: [1, 1, 2, 3]", None),
        ("Part 2 comes first, then 1, 4, 3.", None),  # numbers scattered through prose are not a list
        ("Part 1 is dull; parts 3 and 4 are long, 2 short.", None),
        ("Order: 2 -> 1 -> 4 -> 3", (2, 1, 4, 3)),
        ("Parts 3 and 4 are long.", None),
        ("The correct order is 2, 1, 4, 3.", (2, 1, 4, 3)),  # fallback: the one permutation written out
        ("2 1 4 3 or 1 2 3 4", None),  # two permutations in the text: ambiguous
        ("I cannot tell.", None),
    ],
)
def test_tsort_strict_extraction(reply, order):
    assert extract_order(reply, 4) == order


def test_tsort_compat_is_the_published_parser_with_its_quirks():
    assert extract_order_compat("Answer: [4, 1, 3, 2]", 4) == [4, 1, 3, 2]
    # json.loads of everything after the first "Answer:" fails on trailing prose: subsequence fallback
    assert extract_order_compat("Answer: [2, 1, 4, 3] is my guess", 4) == [2, 1, 4, 3]
    assert extract_order_compat("Answer: 1 2 3 4 and 2 1 4 3", 4) is None  # several permutations fit
    assert extract_order_compat("Answer: 4132", 4) is None  # json.loads("4132") is an int, not a list
    assert extract_order_compat("It goes 4-1-3-2.", 4) == [4, 1, 3, 2]
    # zip() compares only the predicted prefix: a one-element list that starts right is "exact"
    assert tsort_scores("Answer: [4]", [4, 1, 3, 2], mode="compat")["exact"] == 100.0
    assert tsort_scores("Answer: [4]", [4, 1, 3, 2])["exact"] == 0.0
    assert tsort_scores("Answer: []", [4, 1, 3, 2], mode="compat")["exact"] == 100.0


def test_kendall_tau_and_partial_scores_by_hand():
    truth = [1, 2, 3, 4]
    assert kendall_tau(truth, [1, 2, 3, 4]) == 1.0
    assert kendall_tau(truth, [4, 3, 2, 1]) == -1.0
    # [2, 1, 3, 4]: one of six pairs swapped -> (5 - 1) / 6
    assert kendall_tau(truth, [2, 1, 3, 4]) == pytest.approx(4 / 6)
    scores = tsort_scores("Answer: [2, 1, 3, 4]", truth)
    assert scores == {"exact": 0.0, "kendall_tau": pytest.approx(400 / 6), "positions": 50.0, "valid": 100.0}
    assert tsort_scores("no idea", truth) == {"exact": 0.0, "kendall_tau": 0.0, "positions": 0.0, "valid": 0.0}
    assert tsort_random_baseline(4) == pytest.approx(100 / 24) and tsort_random_baseline(2) == 50.0


# -- BestAnswer extraction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "strict", "compat"),
    [
        ("Answer: A4", 4, 4),
        ("answer: A12", 12, 12),
        ("A3", 3, 3),
        ("Answer: A2. A1 and A5 are weaker.", 2, 5),  # compat takes the highest number mentioned
        ("A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12", None, 12),  # listing every option
        ("Answer: A2 or A7", None, 7),  # two designations after "Answer:" is no answer
        ("I think the second one.", None, None),
        ("Answer: 3", None, 3),  # compat falls back to bare numbers
        ("Answer: A99", None, 9),  # out of range; the published substring search finds "A9" in it
    ],
)
def test_bestanswer_extraction_does_not_reward_listing(reply, strict, compat):
    assert extract_choice(reply, 12) == strict
    assert extract_choice_compat(reply, 12) == compat


def test_compat_finds_a1_inside_a12_as_published():
    # the published rule searches substrings from the highest number down: "A12" also contains "A1"
    assert extract_choice_compat("A12", 12) == 12 and extract_choice_compat("A12", 5) == 1
    assert bestanswer_scores("A12", accepted=1, candidates=5, mode="compat")["accuracy"] == 100.0
    assert bestanswer_scores("A12", accepted=1, candidates=5)["accuracy"] == 0.0


def test_the_prompt_is_ada_levals_layout():
    prompt = build_prompt("Q?", ["first", "second"])
    assert prompt.startswith("\nYou are an AI assistant. Your job is to find out the most helpful answer")
    assert "The question is given below.\nQ?\n\nPossible answers are given below.\nA1:\n\nfirst\n\nA2:\n\nsecond\n\n" \
        in prompt
    assert prompt.endswith("most helpful one to the question. \nYou must give me only the designation of the MOST "
                           "helpful answer.\n")


# -- building at exact lengths with the real SmolLM2 tokenizer -------------------------------------


LENGTHS = (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)


def test_tsort_hits_every_length_from_1k_to_128k(smollm2_tokenizer):
    task = make_task(TASKS.get("tsort"), {})
    samples = task.build(BuildContext(smollm2_tokenizer, LENGTHS, (), 2, 0))
    assert len(samples) == 2 * len(LENGTHS)
    for sample in samples:
        budget = sample.target_length - sample.max_new_tokens
        measured = len(smollm2_tokenizer.prompt_ids(sample.messages))
        assert measured == sample.input_tokens and budget - 2 <= measured <= budget
        order = json.loads(sample.references[0])
        assert sorted(order) == [1, 2, 3, 4]
        content = sample.messages[0].content
        assert all(f"\n\nPart {i}: " in content for i in range(1, 5)) and "\n\nBefore: " in content
    # different samples cut different windows and shuffle differently
    assert len({s.metadata["start_token"] for s in samples}) > len(LENGTHS)


def test_tsort_parts_are_consecutive_text_in_the_answers_order(smollm2_tokenizer):
    from lc_bench.tasks.chronicle import chronicle

    task = make_task(TASKS.get("tsort"), {"hints": False, "segments": 5})
    sample = task.build(BuildContext(smollm2_tokenizer, (4096,), (), 1, 3))[0]
    content = sample.messages[0].content.split("The question you need to answer is given below.\n\n")[1]
    body = content.removesuffix("\n\nNow you need to find the correct order of these parts.")
    parts = re.split(r"(?:^|\n\n)Part \d+: ", body)[1:]
    order = json.loads(sample.references[0])
    restored = " ".join(parts[shown - 1] for shown in order)
    corpus = " ".join(chronicle(400).split())
    assert chronicle(400).startswith(chronicle(50))  # prefix-stable: every length cuts from one text
    assert " ".join(restored.split()) in corpus  # in the answer's order the parts are the original text
    assert "Before:" not in content and len(parts) == 5


def test_bestanswer_fills_every_length_with_distractors(smollm2_tokenizer):
    task = make_task(TASKS.get("bestanswer"), {})
    samples = task.build(BuildContext(smollm2_tokenizer, LENGTHS, (), 2, 0))
    counts = {}
    for sample in samples:
        budget = sample.target_length - sample.max_new_tokens
        assert len(smollm2_tokenizer.prompt_ids(sample.messages)) == sample.input_tokens
        assert budget - 2 <= sample.input_tokens <= budget  # whole answers, then a cut one fills the rest
        candidates = sample.metadata["candidates"]
        assert f"A{candidates}:\n\n" in sample.messages[0].content and f"A{candidates + 1}:" not in \
            sample.messages[0].content
        assert sample.metadata["random_baseline"] == pytest.approx(100 / candidates)
        counts.setdefault(sample.target_length, []).append(candidates)
    means = [sum(counts[length]) / 2 for length in LENGTHS]
    assert means == sorted(means) and means[-1] > 100 * means[0] / 2  # distractors grow with length
    # the accepted answer addresses the question it is filed under
    sample = samples[0]
    accepted = sample.references[0]
    answer_text = sample.messages[0].content.split(f"{accepted}:\n\n")[1].split("\n\n")[0]
    question = sample.messages[0].content.split("The question is given below.\n")[-1].split("?")[0]
    verb_and_object = question.removeprefix("How do I ").split(" in ")[0]
    assert answer_text.startswith(f"To {verb_and_object} in ")


# -- loaders and bad input -------------------------------------------------------------------------


def test_ada_leval_prebuilt_files_load_at_their_setting(tiny_tokenizer, tmp_path):
    textsort = tmp_path / "textsort_2k.json"
    textsort.write_text(json.dumps([{"book_id": 7, "para_offset": [1, 2], "prompt": "Sort these. Part 1: b Part 2: a",
                                     "answer": "[2, 1]"}]))
    sample = make_task(TASKS.get("tsort"), {"data": str(textsort)}).build(
        BuildContext(tiny_tokenizer, (1024,), (), 5, 0))[0]
    assert sample.target_length == 2048 and sample.references == ("[2, 1]",)
    assert sample.messages[0].content == "Sort these. Part 1: b Part 2: a" and sample.metadata["segments"] == 2
    stackselect = tmp_path / "stackselect_1k.json"
    stackselect.write_text(json.dumps([{"question_id": 1, "question": "Q?", "answer": "A2", "tags": [],
                                        "all_answers": ["x", "y", "z"]}]))
    task = make_task(TASKS.get("bestanswer"), {"data": str(stackselect)})
    sample = task.build(BuildContext(tiny_tokenizer, (4096,), (), 5, 0))[0]
    assert sample.target_length == 1024 and sample.references == ("A2",)
    assert sample.messages[0].content == build_prompt("Q?", ["x", "y", "z"])
    assert task.score("Answer: A2", sample.references, sample.metadata)["accuracy"] == 100.0


def test_a_jsonl_of_questions_builds_adaptive_samples(tiny_tokenizer, tmp_path):
    data = tmp_path / "qa.jsonl"
    rows = [{"question": f"Question {i}?", "answers": [f"wrong {i}", f"right {i}"], "accepted": 1} for i in range(3)]
    data.write_text("\n".join(json.dumps(row) for row in rows))
    samples = make_task(TASKS.get("bestanswer"), {"data": str(data)}).build(
        BuildContext(tiny_tokenizer, (1024,), (), 2, 0))
    for sample in samples:
        content = sample.messages[0].content
        number = content.split("The question is given below.\nQuestion ")[1].split("?")[0]
        assert content.split(f"{sample.references[0]}:\n\n")[1].startswith(f"right {number}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tasks", "tsort", "--task-opt", "tsort.segments=1"], "segments"),
        (["--tasks", "tsort", "--task-opt", "tsort.corpus=SHORT"], "too small for the length"),
        (["--tasks", "tsort", "--task-opt", "tsort.corpus=PASSAGES"], "2 passages, fewer than the 4 segments"),
        (["--tasks", "bestanswer", "--task-opt", "bestanswer.data=/no/such.jsonl"], "not found"),
        (["--tasks", "tsort", "--task-opt", "tsort.data=/tmp/textsort.json"], "length setting"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny_model_dir, tmp_path, args, message):
    passages = tmp_path / "two.txt"
    passages.write_text("One paragraph. It has words.\n\nAnother paragraph, the last.")
    short = tmp_path / "short.txt"
    short.write_text("\n\n".join(f"Paragraph {i} is short. It ends here." for i in range(8)))
    (tmp_path / "textsort.json").write_text("[]")
    places = {"PASSAGES": str(passages), "SHORT": str(short), "/tmp/textsort.json": str(tmp_path / "textsort.json")}
    for placeholder, value in places.items():
        args = [a.replace(placeholder, value) for a in args]
    result = lc_bench("run", "--runner", "echo", "--model", str(tiny_model_dir), "--out", str(tmp_path / "r"),
                      *(["--lengths", "1k"] if "--lengths" not in args else []), *args, check_rc=2)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_the_suite_runs_and_prints_random_baselines(tiny_model_dir, tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"contains": "sort multiple book sections", "reply": "Answer: [1, 2, 3, 4]"},
                                  {"contains": "most helpful answer", "reply": "Answer: A1"}]))
    result = lc_bench("run", "--suite", "adaleval", "--runner", "constant", "--runner-opt", f"script={script}",
                      "--model", str(tiny_model_dir), "--lengths", "1k,2k", "--samples", "6", "--out", str(tmp_path),
                      "--name", "ada")
    rows = records(tmp_path / "ada")
    assert len(rows) == 24 and {r["family"] for r in rows} == {"adaleval"}
    tsort = [r for r in rows if r["task"] == "tsort"]
    # always answering the identity order is exactly right only where the shuffle was the identity
    assert sum(r["scores"]["exact"] for r in tsort) == 100.0 * sum(r["references"][0] == "[1, 2, 3, 4]" for r in tsort)
    assert all(r["scores"]["valid"] == 100.0 for r in rows)
    assert "| tsort (random) | 4.2 | 4.2 |" in result.stdout
    assert "| bestanswer (random) |" in result.stdout
    board = json.loads((tmp_path / "ada" / "leaderboard.json").read_text())
    assert {(b["task"], b["target_length"]) for b in board["baselines"]} == {
        (task, length) for task in ("tsort", "bestanswer") for length in (1024, 2048)}
    assert 'class="baseline"' in (tmp_path / "ada" / "leaderboard.html").read_text()


# -- the published protocol: original extraction, sample counts, lengths --------------------------


@pytest.mark.parametrize(
    ("reply", "extracted", "exact"),
    [
        # a JSON list after "Answer:" is kept; zip() walks the shorter of the two
        ("Answer: [4, 1, 3, 2]", [4, 1, 3, 2], 100.0),
        ("Answer: [1, 2, 3, 4]", [1, 2, 3, 4], 0.0),
        ("Answer: [4, 1]", [4, 1], 100.0),  # a prefix that starts right is "exact"
        ("Answer: [4.0, 1.0, 3.0, 2.0]", [4.0, 1.0, 3.0, 2.0], 100.0),  # 4 == 4.0
        # a JSON string is kept too, and compared by characters: 4 != "4", but nothing to compare is a hit
        ('Answer: "4132"', "4132", 0.0),
        ('Answer: ""', "", 100.0),
        # a JSON object is compared by its keys, which are strings: never equal to a part number
        ('Answer: {"order": [4, 1, 3, 2]}', {"order": [4, 1, 3, 2]}, 0.0),
        ("Answer: {}", {}, 100.0),
        # not JSON: the one permutation of 1..4 that is a character subsequence, else [0, 0, 0, 0]
        ("Answer: [4, 1, 3, 2].", [4, 1, 3, 2], 100.0),
        ("Answer: 4-1-3-2-1", None, 0.0),  # both 4132 and 4321 fit
        # only the text between the first and a second "Answer:" counts
        ("Answer: [1, 2, 3, 4]\nAnswer: [4, 1, 3, 2]", [1, 2, 3, 4], 0.0),
        # a JSON number makes the original's evaluation raise (zip over an int); here it scores 0
        ("Answer: 4132", None, 0.0),
    ],
)
def test_tsort_compat_matches_the_original_for_every_json_kind(reply, extracted, exact):
    assert extract_order_compat(reply, 4) == extracted
    assert tsort_scores(reply, [4, 1, 3, 2], mode="compat")["exact"] == exact


def test_compat_counts_only_a_full_permutation_as_valid():
    # the published metric is exact alone; Kendall tau, positions and valid need a real order
    assert tsort_scores('Answer: ""', [4, 1, 3, 2], mode="compat") == {
        "exact": 100.0, "kendall_tau": 0.0, "positions": 0.0, "valid": 0.0}
    assert tsort_scores("Answer: [4, 1, 3, 2]", [4, 1, 3, 2], mode="compat")["valid"] == 100.0


def test_samples_from_32k_caps_long_lengths_only():
    from lc_bench.tasks.tsort import TSortParams

    params = TSortParams(samples_from_32k=200)
    # Ada-LEval: 1000 below 32k, 200 from 32k; a smaller --samples wins everywhere
    assert [params.samples_at(length, 1000) for length in (16384, 32767, 32768, 131072)] == [1000, 1000, 200, 200]
    assert [params.samples_at(length, 5) for length in (1024, 32768)] == [5, 5]
    assert TSortParams().samples_at(131072, 1000) == 1000


def test_the_cap_applies_to_built_and_published_samples(tiny_tokenizer, tmp_path):
    task = make_task(TASKS.get("bestanswer"), {"samples_from_32k": 1})
    samples = task.build(BuildContext(tiny_tokenizer, (1024, 32768), (), 3, 0))
    assert [s.target_length for s in samples] == [1024, 1024, 1024, 32768]
    rows = [{"book_id": i, "para_offset": [i], "prompt": f"Sort {i}.", "answer": "[2, 1]"} for i in range(4)]
    for name, expected in (("textsort_16k.json", 3), ("textsort_32k.json", 2)):
        (tmp_path / name).write_text(json.dumps(rows))
        task = make_task(TASKS.get("tsort"), {"data": str(tmp_path / name), "samples_from_32k": 2})
        assert len(task.build(BuildContext(tiny_tokenizer, (1024,), (), 3, 0))) == expected


def test_prompt_length_basis_puts_the_reply_budget_on_top(tiny_tokenizer):
    from lc_bench.errors import UsageError

    context = BuildContext(tiny_tokenizer, (1024,), (), 1, 0, max_new_tokens=1024)
    with pytest.raises(UsageError, match="leaves no room"):
        make_task(TASKS.get("bestanswer"), {}).build(context)
    sample = make_task(TASKS.get("bestanswer"), {"length_basis": "prompt"}).build(context)[0]
    # Ada-LEval's 1k setting is a 1k-token prompt; the 1024-token reply comes on top
    assert 1022 <= sample.input_tokens <= 1024 and sample.max_new_tokens == 1024
    sample = make_task(TASKS.get("tsort"), {"length_basis": "prompt"}).build(
        BuildContext(tiny_tokenizer, (2048,), (), 1, 0, max_new_tokens=1024))[0]
    assert 2046 <= sample.input_tokens <= 2048


def test_only_lengths_leaves_the_others_out(tiny_tokenizer):
    from lc_bench.errors import UsageError

    task = make_task(TASKS.get("tsort"), {"only_lengths": "2k:128k"})
    samples = task.build(BuildContext(tiny_tokenizer, (1024, 2048), (), 2, 0))
    assert [s.target_length for s in samples] == [2048, 2048]
    assert task.build(BuildContext(tiny_tokenizer, (1024,), (), 2, 0)) == []
    with pytest.raises(UsageError, match="only_lengths"):
        make_task(TASKS.get("tsort"), {"only_lengths": "2x"})


def test_the_protocol_parameters_do_not_change_a_samples_text(tiny_tokenizer):
    context = BuildContext(tiny_tokenizer, (1024,), (), 1, 0)
    plain = make_task(TASKS.get("tsort"), {}).build(context)[0]
    capped = make_task(TASKS.get("tsort"), {"samples_from_32k": 200, "only_lengths": "1k"}).build(context)[0]
    assert plain.messages == capped.messages
