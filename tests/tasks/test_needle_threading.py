"""Needle Threading: the published haystack format and question, scoring, exact lengths, threads a
solver can follow in the rendered prompt, determinism, and the suite end to end."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict

import pytest
from typer.testing import CliRunner

from lc_bench.registry import TASKS
from lc_bench.scoring.needle_threading import listed_values, single_value_correct, threading_scores
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.needle_threading import SINGLE_NEEDLE, new_uuid

PRESETS = (
    "nt_single_needle",
    "nt_multiple_needles",
    "nt_conditional_needles",
    "nt_single_thread",
    "nt_multi_thread",
    "nt_branched_thread",
)
PAIR = re.compile(r'"([^"]+)": "([^"]+)"')
KEY = re.compile(r'Key: "([^"]+)"')
KEYS = re.compile(r"Keys: (\[.*?\])\n")


def build(tokenizer, name, length=4096, depths=(), samples=1, seed=0, **params):
    task = make_task(TASKS.get(name), params)
    return task, task.build(BuildContext(tokenizer, (length,), depths, samples, seed))


def haystack_pairs(sample) -> list[tuple[str, str]]:
    content = sample.messages[0].content
    hay, _, _ = content.rpartition("}\n")
    return PAIR.findall(hay)


def solve(sample) -> tuple[list[str], list[list[int]]]:
    """Answers a reader gets by following every thread from the asked keys in the rendered prompt,
    and the positions of the pairs each thread went through."""
    pairs = haystack_pairs(sample)
    question = sample.messages[0].content.rpartition("}\n")[2]
    by_key: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for position, (key, value) in enumerate(pairs):
        by_key[key].append((position, value))
    mode = sample.metadata["mode"]
    if mode == "conditional_needles":
        char = re.search(r'the character "(.)"', question).group(1)
        found = [(p, v) for p, (k, v) in enumerate(pairs) if char in k]
        return [v for _, v in found], [[p] for p, _ in found]
    starts = json.loads(KEYS.search(question).group(1)) if "Keys: [" in question else [KEY.search(question).group(1)]
    answers, paths = [], []

    def follow(key: str, path: list[int]) -> None:
        if key not in by_key:
            answers.append(key)
            paths.append(path)
            return
        for position, value in by_key[key]:
            follow(value, [*path, position])

    for start in starts:
        if mode in ("single_needle", "multiple_needles"):
            ((position, value),) = by_key[start]
            answers.append(value)
            paths.append([position])
        else:
            follow(start, [])
    return answers, paths


# ---- the published format ----------------------------------------------------------------------------


def test_uuids_are_drawn_as_the_published_haystacks():
    assert new_uuid(random.Random(0)) == "e3e70682-c209-4cac-629f-6fbed82c07cd"  # the dataset's first key


def test_single_needle_prompt_is_the_published_haystack_then_question(tiny_tokenizer):
    _, (sample,) = build(tiny_tokenizer, "nt_single_needle", depths=(50.0,))
    content = sample.messages[0].content
    assert content.startswith('{"') and "}\nExtract the value corresponding to the specified key" in content
    pairs = json.loads(content[: content.index("}\n") + 1])  # one-line JSON, as json.dumps writes it
    assert content[: content.index("}\n") + 1] == json.dumps(pairs)
    key = KEY.search(content).group(1)
    assert content.endswith(SINGLE_NEEDLE.format(key=key)) and pairs[key] == sample.references[0]
    assert sample.metadata["num_kv_pairs"] == len(pairs)


# ---- scoring -------------------------------------------------------------------------------------------

GOLD = "1759edc3-72ae-2244-8b01-63c1cd9d2b7d"
OTHER = "f728b4fa-4248-5e3a-0a5d-2f346baa9455"


@pytest.mark.parametrize(
    ("output", "correct"),
    [
        (f'"{GOLD}"', True),  # literal_eval gives the string
        (f"  '{GOLD}'\n", True),
        (f"{GOLD} is the value", True),  # not a literal: the stripped reply starts with it
        (f'"{GOLD}" and more', True),
        (f"The value is {GOLD}", False),  # the README's rule is a prefix match
        (f'"{OTHER}"', False),
        (GOLD[:-1], False),
        ("", False),
    ],
)
def test_single_value_follows_the_readme_rule(output, correct):
    assert single_value_correct(output, GOLD) is correct
    assert threading_scores(output, [GOLD]) == {"accuracy": 100.0 * correct, "all_correct": 100.0 * correct}


def test_several_values_score_the_share_found_and_all_correct():
    third = "e3e70682-c209-4cac-629f-6fbed82c07cd"
    assert threading_scores(f'["{GOLD}", "{OTHER}"]', [GOLD, OTHER]) == {"accuracy": 100.0, "all_correct": 100.0}
    assert threading_scores(f'["{OTHER}", "{GOLD}"]', [GOLD, OTHER])["accuracy"] == 100.0  # order free
    assert threading_scores(f'["{GOLD}", "{third}"]', [GOLD, OTHER]) == {"accuracy": 50.0, "all_correct": 0.0}
    assert threading_scores(f'["{GOLD}", "{OTHER}", "{third}"]', [GOLD, OTHER]) == {
        "accuracy": 100.0,
        "all_correct": 0.0,
    }
    # not a list literal: the UUIDs in it, in order
    assert listed_values(f"First {GOLD}, then {third}.") == [GOLD, third]
    assert threading_scores(f"First {GOLD}, then {third}.", [GOLD, OTHER, third])["accuracy"] == pytest.approx(200 / 3)
    assert threading_scores("no idea", [GOLD, OTHER]) == {"accuracy": 0.0, "all_correct": 0.0}


# ---- threads a solver follows --------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESETS)
def test_a_solver_recovers_every_answer_from_the_rendered_prompt(tiny_tokenizer, name):
    task, samples = build(tiny_tokenizer, name, depths=(25.0,) if task_depths(name) else (), samples=2)
    assert len(samples) == 2
    for sample in samples:
        answers, paths = solve(sample)
        assert sorted(answers) == sorted(sample.references) and len(answers) == len(sample.references)
        assert sample.input_tokens <= 4096 - sample.max_new_tokens
        if sample.metadata["mode"] in ("single_thread", "multi_thread", "branched_thread"):
            assert all(len(path) == task.params.thread_length for path in paths)
            assert sample.metadata["thread_length"] == str(task.params.thread_length)


def task_depths(name: str) -> bool:
    return TASKS.get(name).grid_depths


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_thread_direction_orders_the_pairs_in_the_context(tiny_tokenizer, direction):
    _, samples = build(
        tiny_tokenizer, "nt_multi_thread", samples=2, thread_length=5, num_threads=3, direction=direction
    )
    for sample in samples:
        _, paths = solve(sample)
        assert len(paths) == 3
        for path in paths:
            assert path == (sorted(path) if direction == "forward" else sorted(path, reverse=True))
        assert sample.metadata["thread_direction"] == direction


def test_a_single_needle_sits_at_its_grid_depth(tiny_tokenizer):
    for depth in (0.0, 50.0, 100.0):
        _, (sample,) = build(tiny_tokenizer, "nt_single_needle", depths=(depth,))
        _, ((position,),) = solve(sample)
        units = sample.metadata["num_kv_pairs"]
        # placed at the depth of the estimated pair count, which the fit lands within ~1% of
        assert abs(position - round((units - 1) * depth / 100)) <= max(1, units // 50) and sample.depth == depth
        assert sample.metadata["actual_depth"] == round(100 * position / (units - 1), 2)


def test_conditional_keys_hold_the_character_and_no_other_key_does(tiny_tokenizer):
    _, (sample,) = build(tiny_tokenizer, "nt_conditional_needles", conditional_character="%", num_needles=3)
    marked = [key for key, _ in haystack_pairs(sample) if "%" in key]
    assert len(marked) == 3 and len(sample.references) == 3


def test_bad_parameters_are_one_line():
    from lc_bench.errors import UsageError

    with pytest.raises(UsageError, match="conditional_character"):
        make_task(TASKS.get("nt_conditional_needles"), {"conditional_character": "a"})
    with pytest.raises(UsageError, match="direction"):
        make_task(TASKS.get("nt_single_thread"), {"direction": "sideways"})


# ---- exact lengths, determinism ---------------------------------------------------------------------


def exact(tokenizer, sample) -> int:
    return len(tokenizer.encode_rendered(tokenizer.render(sample.messages, answer_prefix=sample.answer_prefix))[0])


@pytest.mark.parametrize("name", PRESETS)
def test_lengths_are_exact_within_a_pair(tiny_tokenizer, name):
    _, samples = build(tiny_tokenizer, name, length=8192, samples=2)
    for sample in samples:
        budget = 8192 - sample.max_new_tokens
        assert exact(tiny_tokenizer, sample) == sample.input_tokens <= budget
        assert budget - sample.input_tokens < 120  # a pair of two UUIDs is ~78 tiny-tokenizer tokens
        assert sample.metadata["seam_checked"]  # the cheap count held


def test_too_short_lengths_skip_and_count_the_sample(tiny_tokenizer):
    task = make_task(TASKS.get("nt_multi_thread"), {"num_threads": 20})
    context = BuildContext(tiny_tokenizer, (1024,), (), 2, 0)
    assert task.build(context) == [] and context.skipped == {("nt_multi_thread", 1024): 2}


def test_samples_are_deterministic_per_seed_and_index(tiny_tokenizer):
    _, first = build(tiny_tokenizer, "nt_multi_thread", samples=2, seed=3)
    _, again = build(tiny_tokenizer, "nt_multi_thread", samples=2, seed=3)
    _, other = build(tiny_tokenizer, "nt_multi_thread", samples=2, seed=4)
    assert first == again and first[0].messages != other[0].messages and first[0].messages != first[1].messages
    task = make_task(TASKS.get("nt_multi_thread"), {})
    (alone,) = task.build(BuildContext(tiny_tokenizer, (4096,), (), 2, 3, indices=(1,)))
    assert alone == first[1]  # built alone (resume, streaming) it is the same sample


@pytest.mark.integration
@pytest.mark.parametrize("name", ["nt_single_thread"])
def test_a_million_tokens_exactly_with_the_tiny_tokenizer(tiny_tokenizer, name):
    _, (sample,) = build(tiny_tokenizer, name, length=1 << 20)
    budget = (1 << 20) - sample.max_new_tokens
    assert exact(tiny_tokenizer, sample) == sample.input_tokens <= budget and budget - sample.input_tokens < 120
    assert sorted(solve(sample)[0]) == sorted(sample.references)


@pytest.mark.integration
@pytest.mark.parametrize("length", [4096, 32768, 131072])
def test_exact_lengths_with_smollm2(smollm2_tokenizer, length):
    for name in ("nt_single_needle", "nt_multi_thread"):
        _, (sample,) = build(smollm2_tokenizer, name, length=length)
        budget = length - sample.max_new_tokens
        assert exact(smollm2_tokenizer, sample) == sample.input_tokens <= budget
        assert budget - sample.input_tokens < 80 and sample.metadata["seam_checked"]


# ---- end to end ----------------------------------------------------------------------------------------


def test_the_suite_runs_end_to_end_with_the_echo_runner(tiny_model_dir, tmp_path):
    from lc_bench.cli import app

    out = tmp_path / "results"
    args = [
        "run",
        "--suite",
        "threading",
        "--model",
        str(tiny_model_dir),
        "--lengths",
        "1k,2k",
        "--samples",
        "1",
        "--runner",
        "echo",
        "--out",
        str(out),
        "--name",
        "nt",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "nt" / "records.jsonl").read_text().splitlines()]
    tasks = {row["task"] for row in rows}
    assert tasks == set(PRESETS)
    for row in rows:
        assert set(row["scores"]) == {"accuracy", "all_correct"}
        assert row["input_tokens"] + row["max_new_tokens"] <= row["target_length"]
    # the echoed prompt lists every uuid, so multi-answer tasks find all values: scores are x100
    assert {row["score"] for row in rows if row["task"] == "nt_multiple_needles"} == {100.0}
    threads = [row for row in rows if row["task"] == "nt_single_thread"]
    assert threads and all(row["metadata"]["thread_direction"] == "forward" for row in threads)
    manifest = json.loads((out / "nt" / "manifest.json").read_text())
    fields = [axis["field"] for axis in manifest["task_reports"]["nt_single_thread"]["axes"]["labels"]]
    assert fields == ["thread_length", "thread_direction"]


def test_the_full_fit_fallback_is_exact_too(tiny_tokenizer, monkeypatch):
    from lc_bench.tasks.needle_threading import NeedleThreading

    def full(self, tokenizer, head, closing, plan, filler, grow, budget, per_pair, estimate):
        return self._full_fit(tokenizer, head, closing, plan, filler, grow, budget, per_pair, estimate)

    monkeypatch.setattr(NeedleThreading, "_fit", full)
    _, samples = build(tiny_tokenizer, "nt_single_thread", samples=2)
    for sample in samples:
        assert not sample.metadata["seam_checked"]
        assert exact(tiny_tokenizer, sample) == sample.input_tokens <= 4096 - sample.max_new_tokens
        assert sorted(solve(sample)[0]) == sorted(sample.references)
