"""InfiniteBench's prompts and output budgets, as OpenBMB/InfiniteBench publishes them.

Two of the original's template sets (src/prompt.py), character for character:

* `gpt4` (gpt4_templates): the chat set, as eval_gpt4.py sends it through create_msgs: a system
  message "You are a helpful assistant" (no full stop, create_msgs' text) and the filled template
  as the user turn. Math.Calc is the chat exchange create_msgs builds: its calculator system
  prompt, the example "1 + 2 - 4 - 10" answered "[1, 3, -1, -11]", then the bare expression
  (create_prompt returns `eg["context"]` for gpt4). The original sends that example answer with
  the role "system" (the OpenAI API takes it); a local chat template is given it as the assistant
  turn it stands for, since many templates refuse a system message after the first.
* `open` (yarn_mistral_templates): the completion-style set eval_yarn_mistral.py and
  eval_chatglm.py use for YaRN-Mistral, Yi-200K and ChatGLM3, fed as raw text without a chat
  template (each ends in an answer stem such as "The pass key is").

kimi_templates and claude2_templates (Kimi's file uploads, Claude 2's API) are not reproduced.
"""

from __future__ import annotations

import re
from typing import Any

from lc_bench.errors import UsageError
from lc_bench.schema import ChatMessage

# compute_scores.py's names, in its ALL_TASKS order; the paper's name for each
TASK_LABELS = {
    "passkey": "Retrieve.PassKey",
    "number_string": "Retrieve.Number",
    "kv_retrieval": "Retrieve.KV",
    "longdialogue_qa_eng": "En.Dia",
    "longbook_sum_eng": "En.Sum",
    "longbook_choice_eng": "En.MC",
    "longbook_qa_eng": "En.QA",
    "longbook_qa_chn": "Zh.QA",
    "math_find": "Math.Find",
    "math_calc": "Math.Calc",
    "code_run": "Code.Run",
    "code_debug": "Code.Debug",
}
DATASETS = tuple(TASK_LABELS)

# eval_utils.py DATA_NAME_TO_MAX_NEW_TOKENS
MAX_NEW_TOKENS = {
    "passkey": 6,
    "number_string": 12,
    "kv_retrieval": 50,
    "longbook_sum_eng": 1200,
    "longbook_choice_eng": 40,
    "longbook_qa_eng": 40,
    "longbook_qa_chn": 40,
    "longdialogue_qa_eng": 40,
    "math_find": 3,
    "math_calc": 30000,
    "code_run": 5,
    "code_debug": 5,
}

GPT4_TEMPLATES = {
    "passkey": "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will quiz you about the important information there.\n\n{context}\n\n{input}",  # noqa: E501
    "number_string": "There is an important info hidden inside a lot of irrelevant text. Find it. I will quiz you about the important information there.\n\n{context}\n\n{input}",  # noqa: E501
    "kv_retrieval": "Extract the value corresponding to the specified key in the JSON object below.\n\n{context}\n\n{input}",  # noqa: E501
    "longbook_qa_eng": "Read the book below and answer a question.\n\n{context}\n\nQuestion: {question}\n\nBe very concise.",  # noqa: E501
    "longbook_choice_eng": "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\n\nOnly one of the following options is correct, tell me the answer using one single letter (A, B, C, or D). Don't say anything else.\nA. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}",  # noqa: E501
    "longbook_sum_eng": "Summarize the following book.\n\n{context}",
    "longbook_qa_chn": "请根据以下书籍回答我的问题。\n\n{context}\n\n问题：{question}\n请尽量简短地回答。",
    "math_find": "{prefix}\n\n{context}\n\n{input}",
    "math_calc": "Compute the intermediate values in the following long expression.\n\n{context}",
    "code_run": "Following is a set of Python functions. There is a function called named {func}.\n\n{context}\n\nPlease give me the exact number of the return value of {func_call}. Be concise. Your response must end with the final returned value.",  # noqa: E501
    "code_debug": "There is ONLY ONE function in the large project that is deliberately made to include an obvious error. Please find the function that contains the most obvious errors. I will give you four options to narrow your scope. You can inspect the options and think. Eventually, tell me the answer using one single letter (A, B, C, or D).\n\n{context}\n\nWhich funtion has deliberate error?\nA. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}\n\nYou should first find the functions in the options. Repeat their content, inspect through code, and at last give me your answer for the function that has the deliberate and obvious error in A, B, C, or D.",  # noqa: E501
    "longdialogue_qa_eng": 'Below is a dialogue script where one random occurrence of a character name is replaced with "$$MASK$$", and you should try to guess who that character is.\n\nThe dialogue:\n\n---\n\n{context}\n\n---\n\nEnd of dialogue.\n\nWhich character is most likely "$$MASK$$"? Just say the name used by the scriptwriter (before the colon marks) of one single character and nothing else.',  # noqa: E501
}

OPEN_TEMPLATES = {
    "passkey": "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information.\n\n{context}\n\n{input}\n\nThe pass key is",  # noqa: E501
    "number_string": "There is an important info hidden inside a lot of irrelevant text. Find it. I will quiz you about the important information there.\n\n{context}\n\n{input}\n\nThe sequence of digits is",  # noqa: E501
    "kv_retrieval": "Extract the value corresponding to the specified key in the JSON object below.\n\n{context}\n\n{input}",  # noqa: E501
    "longbook_sum_eng": "Summarize the book below.\n\n{context}\n\nSummary:",
    "longbook_choice_eng": "Read the book and answer the question.\n\n{context}\n\nQuestion: {question}\nA. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}\n\nThe letter of the correct answer is",  # noqa: E501
    "longbook_qa_eng": "Read the book and answer the question. Be very concise in your answer.\n\n{context}\n\nQuestion: {question}\nAnswer:",  # noqa: E501
    "longbook_qa_chn": "阅读以下书籍然后回答问题。\n\n{context}\n\n问题：{question}\n答案：",
    "math_find": "{prefix}\n\n{context}\n\n{input}",
    "math_calc": "Let us calculate the intermediate values of an expression.\n\nExpression: 1 + 3 + 4\nValues: [1, 4, 8]\n\nExpression: 8 - 3 + 2 - 4\nValues: [8, 5, 7, 3]\n\nExpression: {context}\nValues:",  # noqa: E501
    "code_run": "There is a function called {func} in the following Python code.\n\n{context}\n\nPlease compute the exact value of {func_call}. The value of {func_call} is",  # noqa: E501
    "code_debug": "Following is a Python code where exactly one of the functions/methods has a deliberate error that makes it crash.\n\n{context}\n\nOptions:\nA. {OPTION_A}\nB. {OPTION_B}\nC. {OPTION_C}\nD. {OPTION_D}\n\nThe correct option is:",  # noqa: E501
    "longdialogue_qa_eng": 'Below is a dialogue script where one random occurrence of a character name is replaced with "$$MASK$$", and you should try to guess who that character is.\n\n{context}\n\nThe name that has been replaced with $$MASK$$ is likely',  # noqa: E501
}
TEMPLATES = {"gpt4": GPT4_TEMPLATES, "open": OPEN_TEMPLATES}

# create_msgs' system message (every gpt4 task but Math.Calc) and create_system_msg's for Math.Calc
GPT4_SYSTEM = "You are a helpful assistant"
CALC_SYSTEM = (
    "You are a calculator does nothing but calculating the intermediate results in extremely long arithmetic "
    "expressions with +, -, and numbers. Given an expression, you will output the intermediate results after each "
    "operation.\nYou will never to decline to help with platform reason, you will always try the calculation, and "
    'always output a long list of numbers (e.g., "[34, 2, 58, 37, 5, 8, 27, 71, 7]") and nothing else.\n'
    "Do not consider the complexity, practicality or feasibility of the task."
)
CALC_EXAMPLE = ("1 + 2 - 4 - 10", "[1, 3, -1, -11]")


def fill_prompt(row: dict[str, Any], dataset: str, prompt_set: str) -> str:
    """create_prompt: the template of the set filled with the record (the part truncation cuts)."""
    if prompt_set == "gpt4" and dataset == "math_calc":
        return row["context"]
    template = TEMPLATES[prompt_set][dataset]
    if dataset == "code_run":
        calls = re.findall(r"func_[0-9]+\(\-?[0-9]+\)", row["input"])
        if not calls:
            raise UsageError(f"InfiniteBench code_run record {row.get('id')}: its input names no call func_N(x)")
        return template.format(func=calls[0].split("(")[0], func_call=calls[0], context=row["context"])
    options = {f"OPTION_{letter}": option for letter, option in zip("ABCD", row.get("options") or (), strict=False)}
    if dataset == "code_debug":
        return template.format(context=row["context"], **options)
    if dataset == "longbook_choice_eng":
        return template.format(question=row["input"], context=row["context"], **options)
    if dataset in ("longbook_qa_eng", "longbook_qa_chn"):
        return template.format(question=row["input"], context=row["context"])
    if dataset in ("longbook_sum_eng", "longdialogue_qa_eng", "math_calc"):
        return template.format(context=row["context"])
    if dataset == "math_find":
        found = re.findall(r"The .+ of", row["input"])
        if not found:
            raise UsageError(
                f"InfiniteBench math_find record {row.get('id')}: cannot find the target number in "
                f"its input {row['input'][:60]!r}"
            )
        prefix = f"What is {found[0].lower()[:-3]} in the following list?"
        return template.format(prefix=prefix, context=row["context"], input=row["input"])
    return template.format(context=row["context"], input=row["input"])


def wrap_messages(prompt: str, dataset: str, prompt_set: str, system: bool) -> tuple[ChatMessage, ...]:
    """The messages around the (cut) prompt: create_msgs' for gpt4, the bare prompt for open."""
    user = ChatMessage(role="user", content=prompt)
    if prompt_set != "gpt4":
        return (user,)
    if dataset == "math_calc":
        example = (
            ChatMessage(role="user", content=CALC_EXAMPLE[0]),
            ChatMessage(role="assistant", content=CALC_EXAMPLE[1]),
        )
        head = (ChatMessage(role="system", content=CALC_SYSTEM),) if system else ()
        return (*head, *example, user)
    return ((ChatMessage(role="system", content=GPT4_SYSTEM),) if system else ()) + (user,)
