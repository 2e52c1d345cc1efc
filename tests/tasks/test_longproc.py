"""LongProc (princeton-pli/LongProc): the rule-based evaluators by hand (quirks under compat), the
reference procedures, the data loader with its fixtures, tiers and budgets, and the suite end to end
with the echo and constant runners."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lc_bench.errors import UsageError
from lc_bench.registry import TASKS
from lc_bench.scoring.longproc import (
    CPP_HEADER,
    countdown_procedure_partial,
    countdown_solution_ok,
    extract_cpp,
    extract_tag,
    normalize_cell,
    normalize_tom,
    parse_plan,
    score_countdown,
    score_html_to_tsv,
    score_path_traversal,
    score_pseudo_to_code,
    score_tom_tracking,
    score_travel_planning,
    travel_procedure_partial,
)
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.longproc import TASK_TIERS, fixture_root, parse_tiers
from lc_bench.tasks.longproc_data import load_tier
from lc_bench.tasks.longproc_search import countdown_demonstration, countdown_procedure, travel_procedure

TASK_NAMES = [f"longproc_{name}" for name in TASK_TIERS]

# --- scorers by hand ---------------------------------------------------------------------------------


def test_tags_are_the_first_open_and_first_close():
    assert extract_tag("x <Route>\n a \n</Route> <Route>b</Route>", "Route") == "a"
    assert extract_tag("<Route> no close", "Route") is None


GOLD_ROUTE = "From A, take a bus to B.\nFrom B, take a train to C.\nFrom C, take a ferry to D."


def test_path_traversal_exact_partial_and_the_counted_wrong_line():
    assert score_path_traversal(f"<Route>\n{GOLD_ROUTE}\n</Route>", GOLD_ROUTE)["accuracy"] == 100.0
    wrong = GOLD_ROUTE.replace("take a train", "take a plane")  # line 2 of 3 is wrong
    scores = score_path_traversal(f"<Route>{wrong}</Route>", GOLD_ROUTE)
    # the original's `i += 1` after the loop counts the wrong line: (1 + 1) / 3
    assert scores == {"accuracy": 0.0, "partial_accuracy": pytest.approx(200 / 3), "extraction_rate": 100.0}
    assert score_path_traversal(f"<Route>{wrong}</Route>", GOLD_ROUTE, compat=False)["partial_accuracy"] == (
        pytest.approx(100 / 3)
    )
    # a correct prefix: min(2, 3) / 3 either way
    prefix = "\n".join(GOLD_ROUTE.split("\n")[:2])
    assert score_path_traversal(f"<Route>{prefix}</Route>", GOLD_ROUTE)["partial_accuracy"] == pytest.approx(200 / 3)
    assert score_path_traversal(GOLD_ROUTE, GOLD_ROUTE) == {
        "accuracy": 0.0,
        "partial_accuracy": 0.0,
        "extraction_rate": 0.0,
    }


GOLD_TOM = (
    "Ann's belief on the key:\n"
    "- Step 0: (initial state) {Ann location: den; key location: den's desk; Ann sees key: True; "
    "Ann's belief on key: den's desk}\n"
    "- Step 1: (Ann location changed; key location unchanged) {Ann location: attic; key location: den's desk; "
    "Ann sees key: False; Ann's belief on key: den's desk}\n"
    "- Step 2: (Ann location unchanged; key location changed) {Ann location: attic; key location: den's shelf; "
    "Ann sees key: False; Ann's belief on key: den's desk}\n"
    "- Step 3: (Ann location changed; key location unchanged) {Ann location: den; key location: den's shelf; "
    "Ann sees key: True; Ann's belief on key: den's shelf}\n"
    "Final Answer: the den's shelf"
)


def test_tom_normalisation_drops_punctuation_and_the_listed_words():
    assert normalize_tom("Step 1: The key IS in the Den’s desk.") == "1 key dens desk"
    lines = GOLD_TOM.split("\n")
    # case, articles and "location"/"belief" words do not matter; only '-' lines are compared
    loose = "\n".join(["Thinking...", *(line.upper() for line in lines[1:5]), "Final Answer: none"])
    assert score_tom_tracking(loose, GOLD_TOM)["accuracy"] == 100.0
    step_3 = "Ann's belief on key: den's desk}\n- Step 3"
    third_wrong = GOLD_TOM.replace(step_3, step_3.replace("desk", "shelf"))
    assert score_tom_tracking(third_wrong, GOLD_TOM) == {
        "accuracy": 0.0,
        "partial_accuracy": 50.0,  # the first mismatch is line 2 (0-based) of 4
        "extraction_rate": 100.0,
    }
    assert score_tom_tracking("\n".join(lines[:2]), GOLD_TOM)["partial_accuracy"] == 25.0  # 1 of 4, no mismatch
    # indented lines pass the first filter but not the second, except the first (the joined text is stripped)
    indented = "\n".join("  " + line for line in lines)
    assert score_tom_tracking(indented, GOLD_TOM)["partial_accuracy"] == 25.0


def test_countdown_solution_check_follows_the_original_and_never_evaluates_code():
    nums = [40, 19, 23, 7]
    assert countdown_solution_ok(nums, 29, "40 - 19 = 21\n23 - 7 = 16\n21 + 16 = 37") is False  # 37 != 29
    assert countdown_solution_ok([9, 16, 6, 18], 12, "18 - 16 = 2\n9 - 6 = 3\n2 * 3 = 6") is False
    steps, reference = countdown_procedure(nums, 29)
    assert countdown_solution_ok(nums, 29, "\n".join(steps))
    assert reference.startswith("# Search Procedure\nInitial number set: [40, 19, 23, 7], target: 29.")
    assert countdown_solution_ok(nums, 29, "\n".join(steps[:2])) is False  # three lines are needed
    assert countdown_solution_ok(nums, 29, "40 + 40 = 80\n19 + 23 = 42\n80 - 42 = 38") is False  # 40 used twice
    assert countdown_solution_ok(nums, 29, "40 / 7 = 5\n19 + 23 = 42\n42 - 5 = 37") is False  # 40 / 7 is 5.7
    # text the original would hand to eval (and crash on) is simply wrong here
    assert countdown_solution_ok(nums, 29, "__import__('os').getcwd() = 1\na\nb") is False
    assert countdown_solution_ok(nums, 29, "40 - -19 = 59\nx\ny") is False


def test_countdown_procedure_partial_keeps_the_index_over_length_quirk():
    gold = (
        "Initial number set: [1, 2, 3], target: 6.\n |- Pick two numbers (1, 2) (numbers left: [3]).\n"
        "  |- Try 2 + 1 = 3. Add 3 to the number set.\n  |- Try 2 - 1 = 1. Evaluate 1 != 6, drop this branch."
    )
    assert countdown_procedure_partial(gold, gold) == pytest.approx(2 / 3)  # a complete procedure: (3 - 1) / 3
    assert countdown_procedure_partial(gold, gold, compat=False) == 1.0
    only_first = gold.split("\n")[0]
    assert countdown_procedure_partial(only_first, gold) == pytest.approx(-1 / 3)  # below zero, as the original
    assert countdown_procedure_partial(only_first, gold, compat=False) == 0.0
    # a Try line that differs after '=' but drops the branch alike still counts
    other = gold.replace("Evaluate 1 != 6, drop this branch", "1 is too small, drop this branch")
    assert countdown_procedure_partial(other, gold) == pytest.approx(2 / 3)
    picked = gold.replace("Pick two numbers (1, 2)", "Pick two numbers (1, 3)")
    assert countdown_procedure_partial(picked, gold) == 0.0  # breaks at index 0
    assert countdown_procedure_partial("Initial number set: [9]", gold) == 0.0
    scores = score_countdown("# Search Procedure\n" + gold, [1, 2, 3], 6, "# Search Procedure\n" + gold)
    assert scores == {"accuracy": 0.0, "partial_accuracy": pytest.approx(200 / 3), "extraction_rate": 0.0}
    assert score_countdown("no procedure", [1, 2, 3], 6, gold)["partial_accuracy"] == 0.0


def test_countdown_examples_are_the_published_demonstrations():
    text = countdown_demonstration()
    assert text.startswith("# Example\nNumbers: [40, 19, 23, 7]\nTarget: 29\n\n# Search Procedure\nInitial number set")
    assert "\n\n# Example\nNumbers: [9, 16, 6, 18]\nTarget: 12\n\n" in text
    assert text.endswith("</Solution>\n")
    assert "  |- Try 40 + 19 = 59. Add 59 to the number set. Current number set: [59, 23, 7], target: 29." in text


TSV_GOLD = "name\tage\nAnn\t3\nBob\t4\nCy\t5"


def test_tsv_rows_are_matched_unordered_after_normalisation():
    assert normalize_cell("The  Old-Town, Inc.") == "oldtowninc"
    # Ann matches (punctuation), Bob does not (age), "the Cy" matches (article); the last line is an end marker
    pred = "```tsv\nname\tage\nann\t3.\nBob\t9\nthe Cy\t5\nThat is all\n```"
    scores = score_html_to_tsv(pred, TSV_GOLD)
    assert scores["precision"] == pytest.approx(200 / 3) and scores["recall"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(200 / 3) and scores["extraction_rate"] == 100.0
    # precision counts every predicted row found; recall every reference row found
    half = score_html_to_tsv("name\tage\nAnn\t3\nAnn\t3", TSV_GOLD)
    assert (half["precision"], half["recall"]) == (100.0, pytest.approx(100 / 3))
    assert half["f1"] == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3) * 100)
    # a row of the wrong width in the middle becomes N/A; another number of columns fails extraction
    assert score_html_to_tsv("name\tage\nAnn\t3\nBob\nCy\t5", TSV_GOLD)["precision"] == pytest.approx(200 / 3)
    assert score_html_to_tsv("a\tb\tc\n1\t2\t3", TSV_GOLD) == {
        "f1": 0.0,
        "precision": 0.0,
        "recall": 0.0,
        "extraction_rate": 0.0,
    }
    assert score_html_to_tsv("name\tage", TSV_GOLD)["extraction_rate"] == 0.0  # no data row
    assert score_html_to_tsv("```tsv\nname\tage\nBob\t4", TSV_GOLD)["recall"] == pytest.approx(100 / 3)  # no fence end


def test_pseudo_to_code_runs_through_the_given_runner_or_stays_unscored():
    seen = []

    def runner(program, cases):
        seen.append((program, cases))
        return "return 0" in program, ""

    pred = "Here it is:\n```c++\nint main() { return 0; }\n```"
    assert extract_cpp(pred) == "\nint main() { return 0; }\n"
    assert score_pseudo_to_code(pred, [[["1"], ["1"]]], runner) == {
        "accuracy": 100.0,
        "partial_accuracy": 100.0,
        "extraction_rate": 100.0,
    }
    assert seen[0][0] == CPP_HEADER + "\nint main() { return 0; }\n" and seen[0][0].startswith("#include <cstdio>\n")
    assert CPP_HEADER.endswith("#include <bitset>\nusing namespace std;\n")
    assert score_pseudo_to_code("```cpp\nint main() {}\n```", [], runner)["accuracy"] == 0.0
    assert score_pseudo_to_code("int main() {}", [], runner) == {
        "accuracy": 0.0,
        "partial_accuracy": 0.0,
        "extraction_rate": 0.0,
    }
    unscored = score_pseudo_to_code(pred, [], None)
    assert "accuracy" not in unscored and unscored["code_not_run"] == 100.0


PLAN = (
    "**Day 1-5:** Arriving in Helsinki and visit Helsinki for 5 days.\n**Day 5:** Fly from Helsinki to Barcelona.\n"
    "**Day 5-9:** Visit Barcelona for 5 days.\n**Day 9:** Fly from Barcelona to Florence.\n"
    "**Day 9-14:** Visit Florence for 6 days."
)


def test_travel_plan_is_parsed_by_its_flight_days():
    assert parse_plan(PLAN) == [("Helsinki", 5), ("Barcelona", 5), ("Florence", 6)]
    cities, days = "Helsinki**Barcelona**Florence", "5**5**6"
    reference = "<Solving Procedure>\nRead it.\nDay 1 now.\nDone.\n</Solving Procedure>\n\n<Plan>\nx\n</Plan>"
    assert score_travel_planning(f"<Plan>{PLAN}</Plan>", cities, days, reference)["accuracy"] == 100.0
    wrong = PLAN.replace("Day 9:", "Day 8:")  # Barcelona 4 days, Florence 7
    output = f"<Solving Procedure>\nread it!\nDay 2\n<Plan>{wrong}</Plan>"
    scores = score_travel_planning(output, cities, days, reference)
    # lines: "<Solving Procedure>", "read it!" (contains "read it"), "Day 2" (misses "day 1 now"): index 2 over the
    # reference's 8 non-blank lines (<Plan>, x and </Plan> included)
    assert scores == {"accuracy": 0.0, "partial_accuracy": 25.0, "extraction_rate": 100.0}
    assert travel_procedure_partial(output, reference, compat=False) == 25.0 / 100  # 2 lines matched of 8
    assert travel_procedure_partial(reference, reference) == pytest.approx(7 / 8)  # complete: index 7 of 8
    assert travel_procedure_partial(reference, reference, compat=False) == 1.0
    assert travel_procedure_partial("", reference) == 0.0


def test_travel_procedures_reproduce_the_published_examples():
    rows = json.loads((fixture_root() / "travel_planning" / "travel_planning_icl_examples.json").read_text())
    plan, procedure = travel_procedure(rows[0])
    assert plan == PLAN
    assert procedure.startswith("<Solving Procedure>\nRead the requirements and identify the cities that have fixed")
    assert "* City: Florence, Duration: 6 days, Fixed Schedule: Day 9 - 14." in procedure
    assert "  |- Check for direct flight from the starting point to Barcelona." not in procedure
    assert procedure.endswith(f"<Plan>\n{PLAN}\n</Plan>")
    broken = {**rows[0], "ground_truth_plan": "Here:\n\n**Day 1-2:** Visit Rome."}
    with pytest.raises(ValueError, match="not the record's ground_truth_plan"):
        travel_procedure(broken)


# --- tiers, samples, data --------------------------------------------------------------------------


def test_tiers_are_each_tasks_own():
    assert parse_tiers("travel_planning", "smallest") == ("2k",)
    assert parse_tiers("pseudo_to_code", "all") == ("0.5k", "2k")
    assert parse_tiers("countdown", "8k,0.5k") == ("0.5k", "8k")
    with pytest.raises(UsageError, match="has the tiers 2k, 8k"):
        make_task(TASKS.get("longproc_travel_planning"), {"tiers": "0.5k"})
    with pytest.raises(UsageError, match="tiers must be smallest, all or a list"):
        make_task(TASKS.get("longproc_countdown"), {"tiers": "4k"})


def test_data_tasks_build_from_the_fixture_with_tier_budgets(tiny_tokenizer):
    task = make_task(TASKS.get("longproc_html_to_tsv"), {"data": "fixture", "tiers": "all"})
    samples = task.build(BuildContext(tiny_tokenizer, (32768,), (), 2, 0))
    assert [s.sample_id for s in samples] == [
        "longproc_html_to_tsv/32k/0.5k/0",
        "longproc_html_to_tsv/32k/0.5k/1",
        "longproc_html_to_tsv/32k/2k/0",
        "longproc_html_to_tsv/32k/8k/0",
    ]
    assert [s.max_new_tokens for s in samples] == [1024, 1024, 3072, 10240]  # HELMET's generation_max_length
    assert [s.metadata["requested_length"] for s in samples] == [500.0, 500.0, 2000.0, 8000.0]
    assert [s.metadata["requested_label"] for s in samples] == ["0.5k", "0.5k", "2k", "8k"]
    first = samples[0]
    assert "[INPUT WEBPAGE]\n```html\n<!DOCTYPE html>" in first.messages[0].content
    assert "```tsv\nname\theight\tyear_lit\n{Your TSV output}\n```" in first.messages[0].content
    assert task.score(f"```tsv\n{first.references[0]}\n```", first.references, first.metadata)["f1"] == 100.0
    # a window too small for the prompt: skipped and counted; a tight one caps the budget
    context = BuildContext(tiny_tokenizer, (first.input_tokens + 10,), (), 1, 0)
    assert task.build(context)[0].max_new_tokens == 10
    assert context.skipped[("longproc_html_to_tsv", first.input_tokens + 10)] == 2  # the 2k and 8k pages


def test_travel_and_pseudo_code_fixtures_score_their_gold(tiny_tokenizer, capsys):
    travel = make_task(TASKS.get("longproc_travel_planning"), {"data": "fixture", "tiers": "all"})
    samples = travel.build(BuildContext(tiny_tokenizer, (32768,), (), 5, 0))
    assert [s.metadata["tier"] for s in samples] == ["2k", "2k", "8k", "8k"]  # by estimated_output_tokens
    prompt = samples[0].messages[0].content
    assert prompt.count("# Example\nYou plan to visit") == 4
    assert prompt.endswith("by taking direct flights to commute between them.")
    for sample in samples:
        assert travel.score(sample.references[0], sample.references, sample.metadata)["accuracy"] == 100.0
    code = make_task(TASKS.get("longproc_pseudo_to_code"), {"data": "fixture", "run_code": "no"})
    built = code.build(BuildContext(tiny_tokenizer, (32768,), (), 5, 0))
    assert "stay unscored (run_code=no)" in capsys.readouterr().err
    assert [s.metadata["problem_id"] for s in built] == ["FX1", "FX2"]
    tail = "[PSEUDOCODE]:\ndefine the main function\n    create integers a and b\n    read a and b\n    print a + b\n"
    assert built[0].messages[0].content.endswith(tail + "end of the block\n\n[CODE]:")
    first = built[0]
    assert "accuracy" not in code.score(f"```cpp\n{first.references[0]}\n```", first.references, first.metadata)


def test_published_folder_layout_and_one_line_errors(tmp_path, capsys):
    root = tmp_path / "LongProc" / "data"
    (root / "pseudo_to_code").mkdir(parents=True)
    source = fixture_root() / "pseudo_to_code"
    for name in ("prompts.yaml", "pseudo_to_code_0.5k.json"):
        (root / "pseudo_to_code" / name).write_bytes((source / name).read_bytes())
    rows, _, name = load_tier(str(tmp_path / "LongProc"), "pseudo_to_code", "0.5k")  # the repository root
    assert name == str(tmp_path / "LongProc") and [r["problem_id"] for r in rows] == ["FX1", "FX2"]
    with pytest.raises(UsageError, match=r"pseudo_to_code_2k.json not found.*data=PATH/LongProc/data"):
        load_tier(str(root), "pseudo_to_code", "2k")
    (root / "pseudo_to_code" / "pseudo_to_code_2k.json").write_text('[{"problem_id": "x", "pseudocode_lines": "a"}]')
    with pytest.raises(UsageError) as caught:
        load_tier(str(root), "pseudo_to_code", "2k")
    assert "record 1 lacks code_lines, testcases" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(UsageError, match="holds no html_to_tsv/ folder"):
        load_tier(str(root), "html_to_tsv", "0.5k")
    load_tier.cache_clear()
    load_tier("auto", "html_to_tsv", "0.5k")
    assert "using the shipped LongProc fixture, not the real dataset" in capsys.readouterr().err


def test_a_paper_protocol_refuses_the_fixture():
    from lc_bench.tasks.datafiles import fixture_policy

    with fixture_policy("helmet-paper", allowed=False), pytest.raises(UsageError, match="needs the real data"):
        load_tier("auto", "travel_planning", "2k")


# --- the suite end to end --------------------------------------------------------------------------


def test_the_suite_declares_the_smallest_tiers():
    from lc_bench.suites.loader import load_suite

    suite = load_suite("longproc")
    assert suite.tasks == TASK_NAMES and suite.lengths == "32k" and suite.samples == 100
    for name in TASK_NAMES:
        task = make_task(TASKS.get(name), {})
        assert task.family == "longproc" and task.tiers == (TASK_TIERS[name.removeprefix("longproc_")][0],)
        assert task.report.output_length is not None and task.report.output_length.unit == "tokens"


def _records(run_dir: Path) -> dict[str, dict]:
    return {row["sample_id"]: row for row in map(json.loads, (run_dir / "records.jsonl").open())}


@pytest.mark.parametrize("runner", ["echo", "constant"])
def test_the_suite_runs_end_to_end(tiny_model_dir, tmp_path, runner):
    from lc_bench.api import evaluate

    options = {}
    if runner == "constant":  # the travel fixture's gold procedure for the travel prompt, else the default text
        travel = load_tier("fixture", "travel_planning", "2k")[0][0]
        script = tmp_path / "script.json"
        script.write_text(json.dumps([{"contains": "create a trip plan", "reply": travel_procedure(travel)[1]}]))
        options = {"script": str(script)}
    result = evaluate(
        suite="longproc",
        runner=runner,
        runner_options=options,
        model=str(tiny_model_dir),
        samples=1,
        out=tmp_path,
        task_options={"longproc_pseudo_to_code": {"run_code": "no"}},
    )
    rows = _records(result.run_dir)
    assert sorted(rows) == sorted(
        [
            "longproc_html_to_tsv/32k/0.5k/0",
            "longproc_pseudo_to_code/32k/0.5k/0",
            "longproc_path_traversal/32k/0",
            "longproc_tom_tracking/32k/0",
            "longproc_countdown/32k/0",
            "longproc_travel_planning/32k/2k/0",
        ]
    )
    for sample_id, row in rows.items():
        assert row["family"] == "longproc" and row["metadata"]["requested_label"] in ("0.5k", "2k")
        if sample_id.startswith("longproc_pseudo_to_code") and runner == "echo":
            # the echoed prompt holds a ```cpp block: extracted, but the code is not run (run_code=no): unscored
            assert row["score"] is None and row["scores"] == {"extraction_rate": 100.0, "code_not_run": 100.0}
        else:
            assert row["score"] is not None
    travel = rows["longproc_travel_planning/32k/2k/0"]["score"]
    assert travel == (100.0 if runner == "constant" else 0.0)
    if runner == "constant":
        assert all(row["score"] in (0.0, None) for key, row in rows.items() if "travel" not in key)
    scores = result.tables["scores"]
    assert {f"longproc_{n}" for n in TASK_TIERS} - {"longproc_pseudo_to_code"} <= set(scores["task"].astype(str))
