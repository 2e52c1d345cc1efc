"""L-Eval's LLM judge for the open-ended tasks (Evaluation/llm_eval.py), for `lc-bench judge`.

Each judged answer plays one match against an opponent, asked twice with the published "pair-v2"
prompt (the user question, the human reference answer, assistant A's and assistant B's answers):
once with the model as A and once with the answers swapped. A verdict is "[[A]]", "[[B]]" or
"[[C]]" (a tie), looked for in that order; anything else is an error and is dropped. The win rate is
llm_eval.py's: (wins + 0.5 * ties) / games that did not error, x100 (`judge_win_rate`); the counts
(`judge_wins`, `judge_ties`, `judge_games`) are kept so that the pooled rate the original prints
(over every game of a task) is sum(wins + 0.5 ties) / sum(games). A sample whose two verdicts are
both errors stays unjudged (and is asked again while the setting allows more tries).

The opponent: the paper battles the reference model's answers (turbo-16k-0613, the task param
`battle_with` = an L-Eval prediction file such as Predictions/llm_gpt4_eval/turbo-16k-0613.pred.jsonl,
paired on query + gt as llm_eval.py pairs them; a question the file lacks is not judged, as
llm_eval.py skips it). Without one, the opponent is the reference answer itself (lc_bench's default):
the rate then says how often the judge prefers the model's answer to the human one.

The judge's system prompt goes first as a system message, as llm_eval.py sends it. Deviations: the
published judge is GPT-4 at temperature 0 with 2048 new tokens (llm_eval.py), the judge model is whatever
`lc-bench judge` is given, sampled greedily with that budget in either setting.
"""

from __future__ import annotations

from typing import Any

from lc_bench.tasks.generation_judges import JudgeSampling
from lc_bench.tasks.leval_config import JUDGE_MAX_NEW_TOKENS, JUDGE_SYSTEM, JUDGE_TEMPLATE


def judge_prompt(question: str, reference: str, answer_a: str, answer_b: str) -> str:
    """The pair-v2 template filled (str.format, as llm_eval.py); JUDGE_SYSTEM goes before it as a
    system message (the plan's `system_prompt`)."""
    return JUDGE_TEMPLATE.format(question=question, answer_a=answer_a, answer_b=answer_b, ref_answer=reference)


def verdict(judgment: str) -> str:
    """llm_eval.py run_judge_pair: "A", "B", "tie" or "error"."""
    if "[[A]]" in judgment:
        return "A"
    if "[[B]]" in judgment:
        return "B"
    if "[[C]]" in judgment:
        return "tie"
    return "error"


def match_scores(first: str, second: str) -> dict[str, float] | None:
    """The model's result over the two games (first: model as A; second: swapped); None: both errors."""
    outcomes = [
        {"A": "win", "B": "loss"}.get(verdict(first), verdict(first)),
        {"A": "loss", "B": "win"}.get(verdict(second), verdict(second)),
    ]
    games = [outcome for outcome in outcomes if outcome != "error"]
    if not games:
        return None
    wins, ties = games.count("win"), games.count("tie")
    return {
        "judge_win_rate": 100.0 * (wins + 0.5 * ties) / len(games),
        "judge_wins": float(wins),
        "judge_ties": float(ties),
        "judge_games": float(len(games)),
    }


class LEvalPairwiseJudge:
    """The open-ended tasks' judge plan (see the module docstring)."""

    system_prompt = JUDGE_SYSTEM  # llm_eval.py's system message

    sampling = JudgeSampling(max_new_tokens=JUDGE_MAX_NEW_TOKENS)
    paper_sampling = JudgeSampling(temperature=0.0, max_new_tokens=JUDGE_MAX_NEW_TOKENS)  # llm_eval.py

    def prompts(self, record: dict[str, Any]) -> list[str]:
        metadata = record.get("metadata") or {}
        opponent = metadata.get("opponent_answer")
        if opponent is None:  # no opponent answer for this question: not judged
            return []
        question, reference = metadata["instruction"], metadata["reference"]
        answer = record["completion"]["text"]
        return [
            judge_prompt(question, reference, answer, opponent),
            judge_prompt(question, reference, opponent, answer),
        ]

    def scores(self, record: dict[str, Any], replies: list[str]) -> tuple[dict[str, float], Any] | None:
        if not replies:  # nothing was asked (no opponent answer): the record stands as it is
            return {}, {"opponent": None}
        result = match_scores(replies[0], replies[1])
        if result is None:
            return None
        return result, {
            "g1_winner": verdict(replies[0]),
            "g2_winner": verdict(replies[1]),
            "opponent": (record.get("metadata") or {}).get("opponent"),
        }
