"""LongICLBench's prompt text, character for character (github.com/TIGER-AI-Lab/LongICLBench, *_infer.py):
each dataset's instruction (with the label list under --instruct), demonstration and question format."""

from __future__ import annotations

from typing import Any

EXAMPLES = " The examples are as follows: \n"
HEADERS = {
    "goemotion": "Given a comment, please predict the emotion category of this comment. The predict answer must come "
    "from the demonstration examples with the exact format.",
    "banking77": "Given a customer service query, please predict the intent of the query. The predict answer must "
    "come from the demonstration examples with the exact format.",
    "discovery": "Given two sentence1 and sentence2, please predict the conjunction word between the two sentences. "
    "The predict answer must come from the demonstration examples with the exact format.",
    "tacred": "Given a sentence and a pair of subject and object entities within the sentence, please predict the "
    "relation between the given entities.",
}
INSTRUCT = {
    "goemotion": "You can only make prediction from the following categories: ",
    "banking77": "You can only make prediction from the following categories: ",
    "discovery": " You can only select from the following words: ",
    "tacred": " The predicted relationship must come from these classes: ",
}
FEWNERD_INST = (
    "Given the sentence, please find the name entities in the sentence and their corresponding entity "
    "types in the strict format of given examples as following (Entity: EntityType):\n"
)
FEWNERD_INST_LABELS = (
    "Given the sentence, please find the name entities in the sentence and their corresponding "
    "entity types in the strict format of given examples above (Entity: EntityType), please only "
    "strictly choose from the following entity types: "
)
DIALOGRE_NOTE = (
    "(note that the number of entities has to strictly have the same value as the number of respective relation)"
)
DIALOGRE_INST = (
    "Given the dialogue, please find the name pair entities in the dialogue and their corresponding relation "
    f"types in the strict format of given examples as following {DIALOGRE_NOTE}:\n"
)
DIALOGRE_INST_LABELS = (
    "Given the dialogue, please find the name pair entities in the dialogue and their corresponding "
    "relation types in the strict format of given examples above, please only strictly choose from "
    f"the following relation types {DIALOGRE_NOTE}: "
)
# demonstrations per round where the original counts rounds in train-file entries (fewnerd / dialoguere_infer.py)
ROUND_SHOTS = {"fewnerd": (57, 114, 170, 224, 281), "dialogre": (34, 67, 99, 131, 163)}
# questions per label in the original's evaluation lists (select_data turns; tacred: select_test)
TEST_TURNS = {"goemotion": 25, "banking77": 7, "discovery": 4}


def header(key: str, instruct: bool, labels: list[str]) -> str:
    listed = ", ".join(labels) + "."
    if key == "fewnerd":
        return FEWNERD_INST_LABELS + listed + "\n" if instruct else FEWNERD_INST
    if key == "dialogre":
        return DIALOGRE_INST_LABELS + listed + "\n" if instruct else DIALOGRE_INST
    return HEADERS[key] + (INSTRUCT[key] + listed + "\n" if instruct else "") + EXAMPLES


def question(key: str, row: dict[str, Any], labels: list[str], answer: bool) -> str:
    """One example as the original writes it: a demonstration (answer=True) or the question."""
    if key == "goemotion":
        return "comment: " + row["text"] + "\nemotion category: " + (labels[row["labels"][0]] + "\n" if answer else "")
    if key == "banking77":
        return "service query: " + row["text"] + "\nintent category: " + (labels[row["label"]] + "\n" if answer else "")
    if key == "discovery":
        return (
            row["sentence1"]
            + " ( ) "
            + row["sentence2"]
            + "\nthe most suitable conjunction word in the previous ( ) is  "
            + (labels[row["label"]] + "\n" if answer else "")
        )
    if key == "tacred":
        return (
            "sentence: "
            + row["sentence"]
            + "\nthe subject is "
            + row["subject_entity"]
            + " and the object is "
            + row["object_entity"]
            + "\nthe relation between the two entities is: "
            + (row["relation"] + "\n" if answer else "")
        )
    if key == "fewnerd":
        return (
            "Sentence: "
            + row["sentence"]
            + "\n"
            + ("".join(f"{e}: {t}\n" for e, t in row["entities"].items()) if answer else "")
        )
    pairs = [str((r["subject_entity"], r["object_entity"])) for r in row["relations"]]
    relations = [r["relation"] for r in row["relations"]]
    text = (
        f"Dialogue: \n{row['dialogue']}\nThe list of {len(pairs)} entity pairs are "
        + ", ".join(pairs)
        + f"\nThe {len(relations)} respective relations between each entity pair are: "
    )
    return text + (", ".join(relations) + "\n" if answer else "")


def gold_label(key: str, row: dict[str, Any]) -> Any:
    if key in ("goemotion", "banking77", "discovery"):
        return row["labels"][0] if key == "goemotion" else row["label"]
    return row["relation"] if key == "tacred" else None
