# ruff: noqa: E501 - the prompts are kept verbatim, one per line
"""L-Eval's per-task settings as published (OpenLMLab/LEval cd34b05), kept as data so a reader can
diff them against the original: the 20 sub-tasks and their paper names, the system prompts
(Baselines/LEval_config.py get_sys_prompt, typos included: "sinlge"), the user-turn formats of the
reference model's script (Baselines/turbo16k-test.py, the README's example: a system message and a
user message), the output budget (LEval_config.py: max_new_tokens = 512, "please do not change this
for different tasks") and each open-ended task's n-gram metric (its records' `evaluation`)."""

from __future__ import annotations

CLOSED_ENDED = ("coursera", "quality", "topic_retrieval_longchat", "tpo", "gsm100", "codeU", "sci_fi")
OPEN_ENDED = (
    "financial_qa",
    "gov_report_summ",
    "legal_contract_qa",
    "meeting_summ",
    "multidoc_qa",
    "narrative_qa",
    "natural_question",
    "news_summ",
    "paper_assistant",
    "patent_summ",
    "review_summ",
    "scientific_qa",
    "tv_show_summ",
)
SUBTASKS = CLOSED_ENDED + OPEN_ENDED

# README: "The corresponding NAMEs in the paper"
PAPER_NAMES = {
    "coursera": "Coursera",
    "gsm100": "GSM(16-shot)",
    "quality": "QuALITY",
    "topic_retrieval_longchat": "TopicRet",
    "tpo": "TOEFL",
    "codeU": "CodeU",
    "sci_fi": "SFiction",
    "financial_qa": "LongFQA",
    "gov_report_summ": "GovReport",
    "legal_contract_qa": "CUAD",
    "meeting_summ": "QMSum",
    "multidoc_qa": "MultiDoc2Dial",
    "narrative_qa": "NarrativeQA",
    "natural_question": "NQ",
    "news_summ": "Multi-News",
    "paper_assistant": "Openreview",
    "patent_summ": "BigPatent",
    "review_summ": "SPACE",
    "scientific_qa": "Qasper",
    "tv_show_summ": "SummScreen",
}

# n-gram metric of an open-ended task (the `evaluation` of its f1 / rouge records)
OPEN_METRIC = {
    "financial_qa": "f1",
    "legal_contract_qa": "f1",
    "multidoc_qa": "f1",
    "narrative_qa": "f1",
    "natural_question": "f1",
    "scientific_qa": "f1",
    "gov_report_summ": "rouge",
    "meeting_summ": "rouge",
    "news_summ": "rouge",
    "paper_assistant": "rouge",
    "patent_summ": "rouge",
    "review_summ": "rouge",
    "tv_show_summ": "rouge",
}

MAX_NEW_TOKENS = 512  # LEval_config.py, the same for every task

# Baselines/LEval_config.py get_sys_prompt, verbatim, by the branch each task takes (closed-ended
# tasks are predicted with --metric exam_eval, open-ended ones with ngram_eval / llm_*_eval)
SYSTEM_PROMPTS = {
    "gsm": "Given several question answer pairs, you need to follow a similar format to answer the last question. Make sure the response is end with The answer is _ . ",
    "topic": "Below is a record of our previous conversation on many different topics. You are the ASSISTANT, and I am the USER. At the beginning of each topic, the USER will say 'I would like to discuss the topic of <TOPIC>'. Memorize each <TOPIC>. At the end of the record, I will ask you to retrieve the first/second/third topic names. Now the record start. ",
    "coursera": "Now you are given a very long document. Please follow the instruction based on this document. For multi-choice questions, there could be a sinlge correct option or multiple correct options. Please only provide the letter corresponding to the answer (like A or AB) when answering. ",
    "codeU": "Now you are given a code base consisting of a large amount of functions and the corresponding comments. In the end, I will call some functions defined in the code base. Please carefully read these codes and comments and answer the question.",
    "sci_fi": 'Now you are given a scientific fiction. I will ask you some questions and the answer should be "True" or "False". Notice that you should answer the question based on the evidence in the document instead of your background knowledge.',
    "exam": "Now you are given a very long document. Please follow the instruction based on this document. For multi-choice questions, there is only a sinlge correct option. Please only provide the letter corresponding to the answer (like A or B) when answering. For other questions, please directly give the concise and accurate answer. ",
    "open": "Now you are given a very long document. Please follow the instruction after this document. These instructions may include summarizing a document, answering questions based on the document, or writing a required paragraph. ",
}


def system_prompt_key(subtask: str) -> str:
    """get_sys_prompt's branch for a task (it tests the file name in this order)."""
    for key, needle in (
        ("gsm", "gsm"),
        ("topic", "topic"),
        ("coursera", "coursera"),
        ("codeU", "codeU"),
        ("sci_fi", "sci_fi"),
    ):
        if needle in subtask:
            return key
    return "exam" if subtask in CLOSED_ENDED else "open"


# Baselines/turbo16k-test.py, the user turn: `{}` placeholders filled by str.format (document, instruction)
RAW_FORMAT = "{document}\n\n{instruction}"  # gsm100 and codeU: the document, a blank line, the instruction
EXAM_FORMAT = "Document is as follows. {document} Question: {instruction} \nPlease directly give answer without any additional output or explanation\n Answer: "
# open-ended, with the length instruction (L-Eval's Length-Instruction-Enhanced evaluation): N is
# the reference's word count, len(out.split())
OPEN_FORMAT_LIE = "Document is as follows. {document} Instruction: {instruction} The suggested output length is around {words} words. Output: "
# lc_bench's variant without the length instruction (length_instruction=false): the sentence removed
OPEN_FORMAT_PLAIN = "Document is as follows. {document} Instruction: {instruction} Output: "

# sci_fi's second question (turbo16k-test.py): the same statement, asked of world knowledge
SCI_FI_WORLD = "based on the world described in the document."
SCI_FI_REAL = "based on the real-world knowledge and facts up until your last training"
SCI_FI_FACT_SUFFIX = "\nPlease directly give answer without any additional output or explanation \nAnswer:"

# Evaluation/llm_eval.py: the "pair-v2" judge (system prompt and template), verbatim
JUDGE_SYSTEM = 'Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user question about the content of a long document.  You will be given a reference answer written by human, assistant A\'s answer, and assistant B\'s answer. Your job is to evaluate which assistant\'s answer is better. Begin your evaluation by comparing both assistants\' answers with the reference answer. Additional details or information that are not mentioned in reference answer cannot be considered as advantages and do not let them sway your judgment. Your evaluation should also consider the relevance to user\'s question but it is more important to avoid factual errors according to the reference answer. Avoid any position biases and ensure that the order in which the responses were presented does not influence your decision. Do not allow the length of the responses to influence your evaluation. Do not favor certain names of the assistants. Be as objective as possible. After providing your explanation, output your final verdict by strictly following this format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.'
JUDGE_TEMPLATE = "[User Question]\n{question}\n\n[The Start of Reference Answer]\n{ref_answer}\n[The End of Reference Answer]\n\n[The Start of Assistant A's Answer]\n{answer_a}\n[The End of Assistant A's Answer]\n\n[The Start of Assistant B's Answer]\n{answer_b}\n[The End of Assistant B's Answer]"
JUDGE_MAX_NEW_TOKENS = 2048  # llm_eval.py: temperature=0, max_tokens=2048

HUB_ID = "L4NLP/LEval"
GET_DATA_HINT = (
    "get L-Eval with `huggingface-cli download --repo-type dataset L4NLP/LEval` or `git clone "
    "https://github.com/OpenLMLab/LEval` (its LEval-data/ folder) on a machine with network, then pass data=PATH "
    "(the LEval-data folder, a Closed-ended-tasks / Open-ended-tasks folder, or one <task>.jsonl)"
)


def task_name(subtask: str) -> str:
    """The registered name: leval_<subtask>, lower case (codeU -> leval_codeu)."""
    return f"leval_{subtask.lower()}"
