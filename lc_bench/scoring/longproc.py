"""LongProc's rule-based evaluators (Ye et al. 2025; github.com/princeton-pli/LongProc, longproc/*.py),
reimplemented to give the same numbers. Scores are percentages (the original's 0-1 values x 100).

Every evaluator returns `accuracy` (or `f1`), `partial_accuracy` and `extraction_rate` as the original's
`eval_*` functions in longproc_data.py do. Quirks the original has are kept under `compat=True` (the
default); `compat=False` gives the evident intent instead:

* path_traversal: the partial accuracy counts the first wrong line as right (`i += 1` after the loop
  over lines, longproc_data.py eval_path_traversal): compat=False counts the correct leading lines.
* countdown: the search-procedure partial accuracy is the index of the first wrong line (or of the
  last compared line) over the number of reference lines after the first, so a complete, correct
  procedure scores below 1 and an output holding only the first line scores -1/N
  (countdown_evaluator.py evaluate_countdown_search_procedure): compat=False counts the matching
  lines and never goes below 0.
* travel_planning: the same index-over-length partial accuracy (travel_planning_evaluator.py
  evaluate_travel_plan_search_procedure): compat=False counts the matching lines.
* countdown's solution check runs `eval` on the model's text: here an arithmetic-only evaluator
  (numbers, + - * /, parentheses) stands in, and text `eval` would raise on (names, calls, a bad
  expression: the original crashes the whole evaluation) makes the solution wrong instead.
"""

from __future__ import annotations

import ast
import csv
import re
import string
from collections.abc import Callable, Sequence
from typing import Any

_PUNCT = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_TOM_WORDS = re.compile(
    r"\b(a|an|the|on|in|at|the|step|thinks|think|believes|believe|is|are|of|location|know|knows|belief)\b"
)


def extract_tag(response: str, tag: str) -> str | None:
    """The text between the first <tag> and the first </tag>, stripped (None: either is missing)."""
    start, end = response.find(f"<{tag}>"), response.find(f"</{tag}>")
    if start == -1 or end == -1:
        return None
    return response[start + len(tag) + 2 : end].strip()


def _pct(metrics: dict[str, float]) -> dict[str, float]:
    return {name: 100.0 * float(value) for name, value in metrics.items()}


# --- html_to_tsv -----------------------------------------------------------------------------------


def normalize_cell(text: str) -> str:
    """html_to_tsv_evaluator._normalize_answer: lower case, no punctuation, no articles, no spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split()).replace(" ", "")


def parse_tsv(lines: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """(header, normalised rows) as _string_to_pd reads them: the first line is the header; a last
    row of the wrong width is dropped (an end marker); any other row of the wrong width becomes a
    row of N/A. Raises ValueError where the original's reading fails (no data row)."""
    data = list(csv.reader(lines, delimiter="\t"))
    header, rows = data[0], data[1:]
    if len(set(header)) != len(header):  # pandas hands back a frame for a repeated name: the original fails
        raise ValueError("repeated column name")
    if not rows:
        raise ValueError("no data rows")
    if len(rows[-1]) != len(header):
        rows = rows[:-1]
    rows = [row if len(row) == len(header) else ["N/A"] * len(header) for row in rows]
    return header, [[normalize_cell(cell) for cell in row] for row in rows]


def tsv_metrics(prediction: str, reference: str) -> dict[str, Any]:
    """evaluate_html_to_csv_compute_metrics: unordered row-level precision, recall and F1 on
    normalised cells (0-1); `error` is set where the original's pandas code fails (no data rows, a
    different number of columns than the reference), with all three at 0."""
    try:
        gt_header, gt_rows = parse_tsv(reference.strip().split("\n"))
        pred_header, pred_rows = parse_tsv(prediction.strip().split("\n"))
        if pred_rows and len(pred_header) != len(gt_header):
            raise ValueError("Lengths must match to compare")  # DataFrame.eq against a row of other width
        if not pred_rows:
            raise ZeroDivisionError("division by zero")
        gt_set = {tuple(row) for row in gt_rows}
        pred_set = {tuple(row) for row in pred_rows}
        precision = sum(tuple(row) in gt_set for row in pred_rows) / len(pred_rows)
        recall = sum(tuple(row) in pred_set for row in gt_rows) / len(gt_rows)
        f1 = 0.0 if precision + recall == 0 else 2 * recall * precision / (recall + precision)
        return {"precision": precision, "recall": recall, "f1": f1, "error": None}
    except Exception as exc:  # noqa: BLE001 - the original catches everything and scores 0
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "error": str(exc)}


def extract_tsv(prediction: str) -> str:
    """eval_html_to_tsv's parsing: the text between the first ```tsv and the last ```; or everything
    after ```tsv when no closing fence follows; or the whole output."""
    match = re.search(r"```tsv([\s\S]*)```", prediction)
    if match is not None:
        return match.group(1).strip()
    if "```tsv" in prediction:
        prediction = prediction.split("```tsv")[1]
    return prediction.strip()


def score_html_to_tsv(prediction: str, reference: str) -> dict[str, float]:
    result = tsv_metrics(extract_tsv(prediction), reference)
    return _pct(
        {
            "f1": result["f1"],
            "precision": result["precision"],
            "recall": result["recall"],
            "extraction_rate": 1.0 if result["error"] is None else 0.0,
        }
    )


# --- pseudo_to_code --------------------------------------------------------------------------------

CPP_HEADER = (
    "".join(
        f"#include <{name}>\n"
        for name in (
            "cstdio",
            "iostream",
            "vector",
            "algorithm",
            "numeric",
            "cmath",
            "cstring",
            "set",
            "map",
            "queue",
            "stack",
            "list",
            "fstream",
            "climits",
            "cassert",
            "iomanip",
            "sstream",
            "bitset",
        )
    )
    + "using namespace std;\n"
)
MAX_TESTCASES = 10  # execution_sanity_check(max_check=10)
RUN_TIMEOUT_S = 3.0  # proc.communicate(timeout=3)

# (program source, test cases) -> (passed, reason); the default compiles with g++ (lc_bench/tasks/longproc_code.py)
CodeRunner = Callable[[str, list[Any]], tuple[bool, str]]


def extract_cpp(prediction: str) -> str | None:
    """eval_pseudo_to_code's parsing: ```c++ counts as ```cpp; the text between the first ```cpp and
    the last ``` (not stripped: the original compiles it as it is)."""
    text = re.sub(r"```c\+\+", "```cpp", prediction)
    match = re.search(r"```cpp([\s\S]*)```", text)
    return match.group(1) if match else None


def score_pseudo_to_code(prediction: str, testcases: list[Any], runner: CodeRunner | None) -> dict[str, float]:
    """accuracy 100 when the program compiles (g++ -std=c++11 -O, after LongProc's header) and prints
    the expected output on the first 10 test cases. Without a runner the sample stays unscored:
    no `accuracy` (nor partial), only extraction_rate and `code_not_run` = 100."""
    code = extract_cpp(prediction)
    if code is None:
        return {"accuracy": 0.0, "partial_accuracy": 0.0, "extraction_rate": 0.0}
    if runner is None:
        return {"extraction_rate": 100.0, "code_not_run": 100.0}
    passed, _reason = runner(CPP_HEADER + code, testcases)
    value = 100.0 if passed else 0.0
    return {"accuracy": value, "partial_accuracy": value, "extraction_rate": 100.0}


# --- path_traversal --------------------------------------------------------------------------------


def score_path_traversal(prediction: str, reference: str, compat: bool = True) -> dict[str, float]:
    """Exact match of the <Route> lines; partial: the share of leading lines right (see compat)."""
    route = extract_tag(prediction, "Route")
    if route is None:
        return {"accuracy": 0.0, "partial_accuracy": 0.0, "extraction_rate": 0.0}
    gold, route = reference.strip(), route.strip()
    if gold == route:
        return {"accuracy": 100.0, "partial_accuracy": 100.0, "extraction_rate": 100.0}
    gold_lines, pred_lines = gold.split("\n"), route.split("\n")
    right = 0
    for index, (gold_line, pred_line) in enumerate(zip(gold_lines, pred_lines, strict=False)):
        right = index + 1 if compat else index
        if gold_line != pred_line:
            break
        right = index + 1
    return {"accuracy": 0.0, "partial_accuracy": 100.0 * right / len(gold_lines), "extraction_rate": 100.0}


# --- tom_tracking ----------------------------------------------------------------------------------


def normalize_tom(text: str) -> str:
    """tom_tracking_evaluator._normalize_tom."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT and ch != "\u2019")
    return " ".join(_TOM_WORDS.sub(" ", text).split())


def _beliefs(text: str) -> list[str]:
    kept = [line for line in text.splitlines() if line.strip().startswith("-")]
    lines = "\n".join(kept).strip().split("\n")
    # _extract_belief_content: only lines starting with '-' as they are (an indented one is dropped)
    contents = [normalize_tom(line.split("-", 1)[1].strip()) for line in lines if line.startswith("-")]
    return [content for content in contents if content]


def score_tom_tracking(prediction: str, reference: str) -> dict[str, float]:
    """The '- Step' lines compared in order after normalisation: accuracy when all match and the count
    is the same; partial: first mismatch (or the shorter length) over the reference's count."""
    pred, gold = _beliefs(prediction), _beliefs(reference)
    if len(pred) == len(gold) and pred == gold:
        return {"accuracy": 100.0, "partial_accuracy": 100.0, "extraction_rate": 100.0}
    first = next((i for i, (a, b) in enumerate(zip(pred, gold, strict=False)) if a != b), None)
    partial = (first if first is not None else min(len(pred), len(gold))) / len(gold)
    return {"accuracy": 0.0, "partial_accuracy": 100.0 * partial, "extraction_rate": 100.0}


# --- countdown -------------------------------------------------------------------------------------

_OPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}


def _arith(node: ast.AST) -> float:
    """Python's value of an expression of numbers and + - * / (what `eval` gives for such text)."""
    if isinstance(node, ast.Expression):
        return _arith(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _arith(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    raise ValueError("not arithmetic")


def _parse_equation(line: str) -> tuple[bool, int, int, int] | None:
    """_parse_line of countdown_evaluator.py: 'a op b = c' -> (lhs == c, a, b, c); None: not an
    equation of two numbers (the original's False or ValueError)."""
    line = line.strip()
    if len(line.split("=")) != 2:
        return None
    lhs, rhs = line.split("=")
    try:
        value = _arith(ast.parse(lhs.strip(), mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError, MemoryError, OverflowError, TypeError):
        return None  # the original's eval raises here (compat: its evaluation crashes)
    op = next((symbol for symbol in "+-*/" if symbol in lhs), None)
    if op is None:
        return None
    parts = lhs.split(op)
    if len(parts) != 2:
        return None
    try:
        a, b, c = int(parts[0]), int(parts[1]), int(rhs)
    except ValueError:
        return None
    return value == c, a, b, c


def countdown_solution_ok(nums: Sequence[int], target: int, solution: str) -> bool:
    """evaluate_countdown_final_solution: three equations, each true, each using two numbers still
    available (the result joins them), the last number left is the target."""
    pool = list(nums)
    lines = solution.split("\n")
    if len(lines) != 3:
        return False
    for line in lines:
        parsed = _parse_equation(line)
        if parsed is None or not parsed[0]:
            return False
        _, a, b, c = parsed
        if a not in pool:
            return False
        pool.remove(a)
        if b not in pool:
            return False
        pool.remove(b)
        pool.append(c)
    return pool[0] == target


def countdown_procedure_partial(procedure: str, gold_procedure: str, compat: bool = True) -> float:
    """evaluate_countdown_search_procedure (0-1): the first line must match; then 'Pick' lines must
    match exactly and 'Try' lines up to their '=' and in whether they drop the branch."""
    pred_lines, gold_lines = procedure.strip().split("\n"), gold_procedure.strip().split("\n")
    if pred_lines[0] != gold_lines[0]:
        return 0.0
    pred_lines, gold_lines = pred_lines[1:], gold_lines[1:]
    index, matched = -1, 0
    for pred, gold in zip(pred_lines, gold_lines, strict=False):
        index += 1
        if pred == gold:
            matched += 1
            continue
        if "Pick two numbers" in gold:
            break
        if "|- Try" in gold:
            if pred.split("=")[0] != gold.split("=")[0]:
                break
            if ("drop this branch" in gold) != ("drop this branch" in pred):
                break
            matched += 1
            continue
        raise ValueError(f"Unknown line: {gold}")
    return index / len(gold_lines) if compat else matched / len(gold_lines)


def score_countdown(
    prediction: str, nums: Sequence[int], target: int, reference: str, compat: bool = True
) -> dict[str, float]:
    """eval_countdown: accuracy by the <Solution>'s equations; otherwise partial credit for the
    search procedure after '# Search Procedure' against the reference's."""
    solution = extract_tag(prediction, "Solution")
    if solution is not None and countdown_solution_ok(nums, target, solution):
        return {"accuracy": 100.0, "partial_accuracy": 100.0, "extraction_rate": 100.0}
    extraction = 100.0 if solution is not None else 0.0
    if "# Search Procedure" not in prediction:
        return {"accuracy": 0.0, "partial_accuracy": 0.0, "extraction_rate": extraction}
    procedure = prediction.split("# Search Procedure")[-1].strip()
    gold = reference.split("# Search Procedure")[-1].split("Now we have found the target")[0].strip()
    partial = countdown_procedure_partial(procedure, gold, compat)
    return {"accuracy": 0.0, "partial_accuracy": 100.0 * partial, "extraction_rate": extraction}


# --- travel_planning -------------------------------------------------------------------------------


def parse_plan(response: str) -> list[tuple[str, int]]:
    """NATURAL PLAN's _parse_response as LongProc keeps it: (city, days) from the 'Day N ... from A to
    B' flight lines and the last 'x-y' day range (one-word city names, as its regex has it)."""
    days, flights = [], []
    total_days = None
    for piece in response.split("\n"):
        total = re.findall(r"European cities for (\d+) days", piece)
        if total:
            total_days = int(total[0])
        visit = re.findall(r"\d+-\d+", piece)
        if visit:
            days.append(visit[0])
            if int(visit[0].split("-")[1]) == total_days:
                break
        flight = re.findall(r".*Day (\d+).*from (\w+) to (\w+)", piece)
        if flight:
            flights.append(flight[0])
    cities: list[str] = []
    flight_days = []
    for day, begin, end in flights:
        flight_days.append(int(day))
        cities += [begin, end] if not cities else [end]
    if not days or not flights or not cities:
        return []
    bounds = [1, *flight_days, int(days[-1].split("-")[1])]
    return [(city, bounds[i + 1] - bounds[i] + 1) for i, city in enumerate(cities)]


def travel_plan_ok(cities: str, durations: str, plan: str) -> bool:
    """evaluate_travel_plan_solution: every (city, days) stay of the reference, in order."""
    stays = [city for city in cities.split("**") if city]
    days = [int(day) for day in durations.split("**") if day]
    parsed = parse_plan(plan)
    matched = 0
    for i in range(min(len(stays), len(parsed))):
        if stays[i] != parsed[i][0] or days[i] != parsed[i][1]:
            break
        matched += 1
    return matched / len(stays) >= 1.0


def normalize_line(text: str) -> str:
    """travel_planning_evaluator._normalize_line: lower case, no punctuation, no articles."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def travel_procedure_partial(output: str, gold_procedure: str, compat: bool = True) -> float:
    """evaluate_travel_plan_search_procedure (0-1): non-blank lines from <Solving Procedure> on, each
    reference line (normalised) contained in the output's line at the same place."""
    marker, filler = "<Solving Procedure>", "Output the plan in the required format:"
    gold_procedure, output = gold_procedure.replace(filler, ""), output.replace(filler, "")
    gold_procedure = marker + gold_procedure.split(marker)[1]
    if marker in output:
        output = marker + output.split(marker)[1]
    pred_lines = [line.rstrip() for line in output.strip().split("\n") if line.strip()]
    gold_lines = [line.rstrip() for line in gold_procedure.strip().split("\n") if line.strip()]
    index, matched = -1, 0
    for pred, gold in zip(pred_lines, gold_lines, strict=False):
        index += 1
        if normalize_line(gold) not in normalize_line(pred):
            break
        matched += 1
    index = max(index, 0)
    return index / len(gold_lines) if compat else matched / len(gold_lines)


def score_travel_planning(
    prediction: str, cities: str, durations: str, reference: str, compat: bool = True
) -> dict[str, float]:
    """eval_travel_planning: accuracy by the <Plan>'s stays; partial credit for the procedure."""
    plan = extract_tag(prediction, "Plan")
    accuracy = 1.0 if plan is not None and travel_plan_ok(cities, durations, plan) else 0.0
    partial = 1.0 if accuracy == 1.0 else travel_procedure_partial(prediction, reference, compat)
    return _pct({"accuracy": accuracy, "partial_accuracy": partial, "extraction_rate": 0.0 if plan is None else 1.0})
