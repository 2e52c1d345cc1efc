"""LongGenBench as published (mozhu621/LongGenBench): parsing, counts and denominators by hand, the
judge's wording and verdict rule, the raw prompt + output prefix, the loader, and the paper suite end
to end with its judge setting."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.schema import Completion, Request
from lc_bench.scoring.longgenbench import (
    check_questions,
    completion_rate,
    full_text,
    judge_prompt,
    longgenbench_scores,
    parse_blocks,
    pooled_accuracy,
    says_yes,
)
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.generation_judges import LongGenBenchChecks
from lc_bench.tasks.longgenbench import fixture_folder, load_prompts, select, split_prompt

PREFIX = "#*# Week 1 (Jan 1st):"
METADATA = {
    "type": "Week", "number": 4, "prefix": PREFIX,
    "checks_once": {"2": "my wife birthday", "9": "a trip to Rome"},  # unit 9 does not exist
    "checks_range": {"3": "Attending a fair", "4": "Attending a fair"},
    "checks_periodic": {"1": "Attend a workshop", "3": "Attend a workshop"},
}
# What the model writes after the prefix. Blocks (split on #*#): Week 1; Week 2; a second Week 2
# (the first one wins); "week 3" (lower case: the search is case-sensitive, so no unit 3); a block
# whose header has no number but whose text says "Week 4" (the search is unanchored: unit 4).
OUTPUT = (
    " We attend a workshop on pottery.\n"
    "#*# Week 2 (Jan 8th): Dinner for my wife birthday.\n"
    "#*# Week 2 (again): Attending a fair.\n"
    "#*# week 3: Attending a fair; attend a workshop.\n"
    "#*# Notes: in Week 4 we rested."
)
TEXT = PREFIX + OUTPUT


def test_blocks_are_split_on_the_separator_and_numbered_as_eval_py_does():
    blocks = parse_blocks(TEXT, "Week")
    assert sorted(blocks) == [1, 2, 4]
    assert blocks[1] == " Week 1 (Jan 1st): We attend a workshop on pottery.\n"
    assert blocks[2] == " Week 2 (Jan 8th): Dinner for my wife birthday.\n"  # the first Week 2 wins
    assert blocks[4] == " Notes: in Week 4 we rested."
    assert completion_rate(blocks, 4) == 75.0  # units 1, 2, 4 of 1..4
    assert completion_rate({1: "", 7: ""}, 4) == 25.0  # a number outside 1..N does not count


def test_counts_and_rates_by_hand_with_the_stand_in_rule():
    scores = longgenbench_scores(TEXT, METADATA)
    # once: unit 2 asked (9 has no block) and it mentions the event -> 1 of 1
    assert (scores["once_checks"], scores["once_checked"], scores["once_yes"], scores["once"]) == (2, 1, 1, 100.0)
    # range: unit 4 asked (3 has no block), "Attending a fair" is not in it -> 0 of 1
    assert (scores["range_checks"], scores["range_checked"], scores["range_yes"], scores["range"]) == (2, 1, 0, 0.0)
    # periodic: unit 1 asked (3 has no block), "attend a workshop" is in it (any case) -> 1 of 1
    assert (scores["periodic_checked"], scores["periodic_yes"], scores["periodic"]) == (1, 1, 100.0)
    assert scores["average"] == pytest.approx(200 / 3)
    assert scores["completion"] == 75.0
    assert scores["word_count"] == len(TEXT.split())  # inference.py's word_count, prefix included


def test_checks_whose_unit_is_missing_are_in_no_denominator():
    nothing = longgenbench_scores(PREFIX + " a short week, then silence.", METADATA)
    assert nothing["completion"] == 25.0  # only unit 1
    assert nothing["once_checked"] == 0 and "once" not in nothing  # nothing asked: no rate
    assert nothing["range_checked"] == 0 and "range" not in nothing
    assert nothing["periodic_checked"] == 1 and nothing["periodic"] == 0.0  # unit 1 asked, event absent
    assert nothing["average"] == 0.0  # the mean of the one defined rate
    empty = longgenbench_scores("no headers at all", METADATA)
    assert empty["average"] == 0.0 and empty["completion"] == 0.0
    assert all(empty[f"{kind}_checked"] == 0 for kind in ("once", "range", "periodic"))


def test_pooled_accuracy_weights_samples_by_their_asked_checks():
    # sample A: once 1 yes of 1 asked; sample B: once 0 yes of 3 asked
    a = {"completion": 100.0, "once_yes": 1, "once_checked": 1, "range_yes": 2, "range_checked": 2,
         "periodic_yes": 0, "periodic_checked": 0}
    b = {"completion": 50.0, "once_yes": 0, "once_checked": 3, "range_yes": 1, "range_checked": 2,
         "periodic_yes": 1, "periodic_checked": 4}
    pooled = pooled_accuracy([a, b])
    assert pooled["once"] == 25.0  # 1 / 4, where the mean of per-sample rates would be 50
    assert pooled["range"] == 75.0  # 3 / 4
    assert pooled["periodic"] == 25.0  # 1 / 4: A asked nothing of this kind and weighs nothing
    assert pooled["average"] == pytest.approx(125 / 3)
    assert pooled["completion"] == 75.0  # completion is a mean of per-sample rates (eval.py:125-127)


def test_the_judge_prompt_is_eval_pys_wording_exactly():
    assert judge_prompt(" Week 2 (Jan 8th): Dinner.\n", "my wife birthday") == (
        "Context:  Week 2 (Jan 8th): Dinner.\n### Instruction: Does this context include the my wife birthday? "
        "Please answer with 'yes' or 'no' only."
    )
    questions = check_questions(TEXT, METADATA)
    assert [(kind, unit) for kind, unit, _, _ in questions] == [("once", "2"), ("range", "4"), ("periodic", "1")]
    assert questions[0][3] == (
        "Context:  Week 2 (Jan 8th): Dinner for my wife birthday.\n### Instruction: Does this context include the "
        "my wife birthday? Please answer with 'yes' or 'no' only."
    )


@pytest.mark.parametrize(("reply", "verdict"), [
    ("Yes.", True), ("  YES", True), ("no", False), ("No, it does not.", False),
    ("The answer is yes", True), ("no - but yesterday it did", True),  # "yes" anywhere counts
    ("", False), ("I cannot tell.", False),
])
def test_yes_anywhere_counts(reply, verdict):
    assert says_yes(reply) is verdict


def test_the_judge_plan_asks_the_prefixed_output_and_recomputes_the_scores():
    plan = LongGenBenchChecks()
    record = {"metadata": METADATA, "completion": {"text": OUTPUT}}
    assert plan.prompts(record) == [q[3] for q in check_questions(TEXT, METADATA)]
    scores, parsed = plan.scores(record, ["NO.", "Yes", "no, but yesterday"])
    assert parsed == {"once": {"2": "no"}, "range": {"4": "yes"}, "periodic": {"1": "yes"}}
    assert (scores["once"], scores["range"], scores["periodic"]) == (0.0, 100.0, 100.0)
    assert scores["once_yes"] == 0 and scores["range_yes"] == 1 and scores["average"] == pytest.approx(200 / 3)
    assert plan.paper_sampling.temperature == 0.95 and plan.paper_sampling.top_p == 0.95
    assert plan.paper_sampling.seed == 42 and plan.paper_sampling.max_new_tokens == 50
    assert plan.paper_sampling.use_chat_template is False and plan.paper_sampling.attempts == 1


def _fixture_rows(name: str) -> list[dict]:
    return json.loads((fixture_folder() / name).read_text(encoding="utf-8"))


def test_the_raw_prompt_and_output_prefix_are_the_official_ones(tiny_tokenizer):
    task = make_task(TASKS.get("longgenbench"), {"data": "fixture"})
    samples = task.build(BuildContext(tiny_tokenizer, (32768,), (), 1, 0))
    short, long = _fixture_rows("Dataset_short.json")[0], _fixture_rows("Dataset_long.json")[0]
    assert [s.sample_id for s in samples] == ["longgenbench/32k/short/0", "longgenbench/32k/long/0"]
    for sample, row in zip(samples, (short, long), strict=True):
        assert sample.use_chat_template is False
        assert sample.answer_prefix == row["prefix"]
        # the text the model continues is the file's prompt, character for character
        assert tiny_tokenizer.render(sample.messages, sample.use_chat_template, sample.answer_prefix) == row["prompt"]
        assert sample.messages[0].content + sample.answer_prefix == row["prompt"]
        assert sample.stop == ("*** finished",)
        assert sample.input_tokens == tiny_tokenizer.count(sample.messages, False, row["prefix"])
    assert short["prompt"].endswith("*** started ***\n#*# Week 1 (January 1st - January 7th):")
    assert [s.max_new_tokens for s in samples] == [16000, 32000]  # Run_short / Run_long MAX_LENGTH
    assert [s.metadata["setting"] for s in samples] == ["16K", "32K"]
    # the output is scored behind its prefix: "Week 1" is found in the prefix's block
    assert task.score(" a calm week", (), samples[0].metadata)["completion"] == pytest.approx(100 / 52)
    # a prompt that does not end with its prefix is kept whole; the prefix is still put back when scoring
    assert split_prompt({"prompt": "Write.", "prefix": "#*# Day 1:"}) == ("Write.", "")
    assert full_text("#*# Day 1:", " x") == "#*# Day 1: x"


def test_budgets_follow_the_window_and_the_override(tiny_tokenizer, capsys):
    task = make_task(TASKS.get("longgenbench"), {"data": "fixture", "subset": "long"})
    sample = task.build(BuildContext(tiny_tokenizer, (16384,), (), 1, 0))[0]
    assert sample.max_new_tokens == 16384 - sample.input_tokens  # the room the window leaves
    assert "get fewer new tokens than LongGenBench's budget" in capsys.readouterr().err
    override = task.build(BuildContext(tiny_tokenizer, (32768,), (), 1, 0, max_new_tokens=500))[0]
    assert override.max_new_tokens == 500


def test_small_samples_take_every_scenario_in_turn():
    prompts, source = load_prompts("fixture")
    assert source == "fixture"
    chosen = select(prompts, "short", 4)
    assert [p.row["type"] for p in chosen] == ["Week", "Floor", "Menu Week", "Block"]
    assert [p.index for p in chosen] == [0, 1, 2, 3]
    assert [p.row["type"] for p in select(prompts, "long", 5)] == ["Day", "Floor", "Menu Day", "Block", "Day"]
    assert len(select(prompts, "both", 400)) == 16  # the fixture has 8 of each set


def test_official_files_load_from_a_file_or_the_repository(tmp_path):
    rows = _fixture_rows("Dataset_long.json")
    (tmp_path / "Dataset").mkdir()
    (tmp_path / "Dataset" / "Dataset_long.json").write_text(json.dumps(rows), encoding="utf-8")
    prompts, source = load_prompts(str(tmp_path))  # the repository's root: its Dataset/ folder
    assert source == str(tmp_path) and {p.subset for p in prompts} == {"long"} and len(prompts) == 8
    single, _ = load_prompts(str(tmp_path / "Dataset" / "Dataset_long.json"))
    assert [p.row for p in single] == rows


@pytest.mark.parametrize(("content", "problem"), [
    (None, "not found"),
    ("{}", "does not hold a JSON list"),
    ("[]", "holds no records"),
    ('[{"prompt": "p", "prefix": "x", "type": "Week", "number": 4}]', "lacks checks_once"),
    ('[{"prompt": "p", "prefix": "x", "type": "Week", "number": 4, "checks_once": {"two": "e"}, '
     '"checks_range": {}, "checks_periodic": {}}]', "field 'checks_once' should be an object of unit number"),
    ('[{"prompt": "p", "prefix": "x", "type": "Week", "number": 0, "checks_once": {}, '
     '"checks_range": {}, "checks_periodic": {}}]', "units above 0"),
])
def test_missing_or_invalid_official_data_is_one_line_saying_where_to_get_it(tmp_path, content, problem):
    path = tmp_path / "Dataset_short.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    task = make_task(TASKS.get("longgenbench"), {"data": str(path)})
    with pytest.raises(UsageError) as caught:
        task.build(BuildContext(None, (32768,), (), 1, 0))
    message = str(caught.value)
    assert problem in message and "\n" not in message
    assert "github.com/mozhu621/LongGenBench" in message and "data=PATH" in message


def test_a_folder_without_the_official_files_is_refused(tmp_path):
    with pytest.raises(UsageError, match="holds neither Dataset_short.json nor Dataset_long.json.*data=PATH"):
        load_prompts(str(tmp_path))


def test_auto_says_it_uses_the_fixture(capsys):
    load_prompts.cache_clear()
    prompts, source = load_prompts("auto")
    assert source == "fixture" and len(prompts) == 16
    assert "using the shipped LongGenBench fixture, not the real dataset" in capsys.readouterr().err


class RecordingJudge:
    """A judge runner that answers every question "Yes." and keeps the requests it was sent."""

    name = "recording"

    def __init__(self) -> None:
        self.requests: list[Request] = []

    def generate(self, requests: Sequence[Request]) -> Iterator[Completion]:
        for request in requests:
            self.requests.append(request)
            yield Completion(key=request.key, text="Yes.")


def test_the_paper_suite_runs_end_to_end_and_is_judged_with_the_paper_setting(tiny_model_dir, tmp_path):
    from lc_bench.api import evaluate
    from lc_bench.judge import judge_run

    # every unit of the diary present, each mentioning nothing: the stand-in rule says no
    reply = "".join(f"\n#*# Week {n} (2018): A calm week." for n in range(2, 53))
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"contains": "weekly diary", "reply": reply}]))
    result = evaluate(suite="longgenbench-paper", runner="constant", runner_options={"script": str(script)},
                      model=str(tiny_model_dir), samples=1, out=tmp_path, allow_fixtures=True)
    rows = {row["sample_id"]: row for row in map(json.loads, (result.run_dir / "records.jsonl").open())}
    assert sorted(rows) == ["longgenbench/32k/long/0", "longgenbench/32k/short/0"]
    short, long = rows["longgenbench/32k/short/0"], rows["longgenbench/32k/long/0"]
    assert short["protocol"] == "longgenbench-paper+fixtures"
    assert (short["max_new_tokens"], long["max_new_tokens"]) == (16000, 32000)
    assert short["scores"]["completion"] == 100.0 and short["scores"]["average"] == 0.0
    checks = _fixture_rows("Dataset_short.json")[0]
    asked = sum(len(checks[f"checks_{kind}"]) for kind in ("once", "range", "periodic"))
    assert short["scores"]["once_checked"] + short["scores"]["range_checked"] + \
        short["scores"]["periodic_checked"] == asked
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["config"]["temperature"] == 0.95 and manifest["config"]["top_p"] == 0.95
    assert "longgenbench" in result.tables["scores"]["task"].astype(str).tolist()
    secondary = result.tables["secondary"]
    assert {"completion", "once_yes", "once_checked"} <= set(secondary.columns)

    judge = RecordingJudge()
    summary = judge_run(result.run_dir, judge, "judge-model")
    assert (summary.judged, summary.failures, summary.retried) == (2, 0, 0)
    assert len(judge.requests) == asked  # the long sample's output has no Day blocks: nothing to ask
    first = judge.requests[0]
    assert first.use_chat_template is False and first.max_new_tokens == 50
    assert (first.params.temperature, first.params.top_p, first.params.seed) == (0.95, 0.95, 42)
    assert first.messages[0].content.startswith("Context:  Week 12 (2018): A calm week.")
    assert first.messages[0].content.endswith("### Instruction: Does this context include the my sister birthday? "
                                              "Please answer with 'yes' or 'no' only.")
    latest = {}
    for row in map(json.loads, (result.run_dir / "records.jsonl").open()):
        latest[row["sample_id"]] = row
    judged = latest["longgenbench/32k/short/0"]
    assert judged["score"] == 100.0 and judged["scores"]["once_yes"] == judged["scores"]["once_checked"] == 2
    assert judged["judge"]["setting"] == "paper" and judged["judge"]["sampling"]["temperature"] == 0.95
    assert judged["judge"]["parsed"]["once"] == {"12": "yes", "30": "yes"}
    assert latest["longgenbench/32k/long/0"]["judge"]["prompts"] == []


def test_the_paper_suite_declares_the_published_setting():
    from lc_bench.run_config import resolve_run_config
    from lc_bench.suites.loader import load_suite

    suite = load_suite("longgenbench-paper")
    assert suite.protocol == "longgenbench-paper" and suite.changes and "\n" not in suite.changes
    assert suite.tasks == ["longgenbench"] and suite.samples == 400
    assert (suite.generation.temperature, suite.generation.top_p) == (0.95, 0.95)
    assert suite.max_new_tokens is None  # the budgets are per set: 16000 and 32000 (the task's)
    assert TASKS.get("longgenbench").default_max_new_tokens == 16000
    config = resolve_run_config(suite="longgenbench-paper")
    assert (config.temperature, config.top_p, config.lengths) == (0.95, 0.95, (32768,))
