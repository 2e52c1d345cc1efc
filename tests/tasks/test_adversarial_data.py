"""Hostile task data: empty or binary haystacks, LongBench files with the wrong shape. Each is one
UsageError line naming the file and the line or record, raised before a run folder exists."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import lc_bench
from lc_bench.errors import UsageError
from lc_bench.tasks.base import BuildContext, make_task
from lc_bench.tasks.datafiles import read_json_list, read_jsonl
from lc_bench.tasks.haystack import load_corpus
from lc_bench.tasks.longbench import fixture_path, load_records
from lc_bench.tasks.longbench_v2 import load_questions
from lc_bench.tasks.niah import Niah


def one_line(exc: pytest.ExceptionInfo[UsageError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


# -- 1. haystacks ---------------------------------------------------------------------------------


@pytest.fixture
def empty_folder(tmp_path):
    folder = tmp_path / "essays"
    folder.mkdir()
    (folder / "a.txt").write_text("")
    (folder / "b.txt").write_text("   \n\t \n")
    return folder


def test_a_folder_of_empty_files_is_refused(empty_folder):
    with pytest.raises(UsageError) as exc:
        load_corpus(str(empty_folder))
    assert one_line(exc) == (
        f"haystack {empty_folder} holds no text (its files or fields are empty or only whitespace)"
    )


def test_a_whitespace_file_and_an_empty_jsonl_field_are_refused(tmp_path):
    spaces = tmp_path / "spaces.txt"
    spaces.write_text("     ")
    with pytest.raises(UsageError, match=f"haystack {spaces} holds no text"):
        load_corpus(str(spaces))
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"body": ""}\n{"body": "  "}\n')
    with pytest.raises(UsageError, match=f"haystack {docs}:body holds no text"):
        load_corpus(f"{docs}:body")
    docs.write_text("")
    with pytest.raises(UsageError, match="holds no text"):
        load_corpus(f"{docs}:body")


def test_an_empty_haystack_stops_the_run_before_anything_is_written(tiny_model_dir, empty_folder, tmp_path):
    out = tmp_path / "results"
    with pytest.raises(UsageError, match="task niah_single_2: haystack .* holds no text"):
        lc_bench.evaluate(model=str(tiny_model_dir), tasks="niah_single_2", lengths="1k", runner="echo",
                          task_options={"niah_single_2": {"haystack": str(empty_folder)}}, out=out)
    assert not out.exists()


def test_a_jsonl_haystack_field_that_is_not_text(tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"body": "Some text."}\n\n{"body": null}\n')
    with pytest.raises(UsageError) as exc:
        load_corpus(f"{docs}:body")
    assert one_line(exc) == f"{docs}:3: field 'body' should be text, got None"  # never the word "None"
    docs.write_text('{"body": "Some text."}\n[1, 2]\n')
    with pytest.raises(UsageError, match=f"{docs}:2 is a list, not a JSON object"):
        load_corpus(f"{docs}:body")


def test_an_hf_haystack_column_that_is_not_text(monkeypatch):
    import datasets

    table = datasets.Dataset.from_dict({"text": ["Some text.", None]})
    monkeypatch.setattr(datasets, "load_dataset", lambda *args, **kwargs: table)
    with pytest.raises(UsageError) as exc:
        load_corpus("hf:someone/corpus")
    assert one_line(exc) == "dataset someone/corpus: row 2: column 'text' should be text, got None"


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\xff", "café".encode("latin-1")])
def test_a_binary_or_latin1_haystack_file_is_named(tmp_path, content):
    folder = tmp_path / "essays"
    folder.mkdir()
    (folder / "a.txt").write_text("Fine text.")
    (folder / "b.txt").write_bytes(content)
    with pytest.raises(UsageError) as exc:
        load_corpus(str(folder))
    assert one_line(exc).startswith(f"haystack file {folder / 'b.txt'} is not UTF-8 text (byte ")
    with pytest.raises(UsageError, match=f"haystack file {folder / 'b.txt'} is not UTF-8"):
        load_corpus(str(folder / "b.txt"))


def test_a_short_corpus_without_repetition_names_the_option(tiny_tokenizer, tmp_path):
    (tmp_path / "a.txt").write_text("Only a few words here. Not enough for a long prompt.")
    task = make_task(Niah, {"haystack": str(tmp_path), "repeat_haystack": False})
    with pytest.raises(UsageError) as exc:
        task.build(BuildContext(tiny_tokenizer, (2048,), (50.0,), 1, 0))
    assert "fewer than the 2048 needed" in one_line(exc)
    assert "(repeat_haystack=false): give a longer corpus or allow repetition" in str(exc.value)


# -- 5. data files --------------------------------------------------------------------------------


def trec_rows() -> list[dict]:
    return [json.loads(line) for line in fixture_path("trec").read_text(encoding="utf-8").splitlines()]


def write_jsonl(path, rows) -> str:
    path.write_text("\n".join(row if isinstance(row, str) else json.dumps(row) for row in rows) + "\n")
    return str(path)


def test_jsonl_lines_that_are_not_objects_or_not_utf8(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"a": 1}\n\n["a", "list"]\n')
    with pytest.raises(UsageError) as exc:
        read_jsonl(path)
    assert one_line(exc) == f"{path}:3 is a list, not a JSON object (one record per line)"
    path.write_bytes(b'{"a": 1}\n{"a": "caf\xe9"}\n')
    with pytest.raises(UsageError, match=rf"{path}:2 is not UTF-8 text \(byte 10\)"):
        read_jsonl(path)
    path.write_text("[" * 100_000 + "\n")
    with pytest.raises(UsageError, match=f"{path}:1 is not valid JSON"):
        read_jsonl(path)


def test_jsonl_lines_split_only_at_newlines(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"a": "one\u2028two\x1cthree"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert read_jsonl(path) == [{"a": "one\u2028two\x1cthree"}]


def test_a_json_list_with_a_record_that_is_not_an_object(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('[{"a": 1}, 5]')
    with pytest.raises(UsageError) as exc:
        read_json_list(path)
    assert one_line(exc) == f"{path}: record 2 is a number, not a JSON object"
    path.write_bytes(b"\xff\xfe[]")
    with pytest.raises(UsageError, match=f"{path} is not UTF-8 text"):
        read_json_list(path)


def test_a_data_path_that_is_a_folder(tmp_path):
    folder = tmp_path / "data.jsonl"
    folder.mkdir()
    with pytest.raises(UsageError) as exc:
        load_records(str(folder), "trec")
    assert one_line(exc) == f"cannot read data file {folder}: Is a directory"


def test_longbench_line_that_is_a_list(tmp_path):
    path = write_jsonl(tmp_path / "trec.jsonl", [trec_rows()[0], "[1, 2, 3]"])
    with pytest.raises(UsageError, match=f"{path}:2 is a list, not a JSON object"):
        load_records(path, "trec")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("answers", "Location", "field 'answers' should be a list of strings, got 'Location'"),
        ("answers", [1, 2], "field 'answers' should be a list of strings, got [1, 2]"),
        ("context", None, "field 'context' should be text, got None"),
        ("input", {"q": 1}, "field 'input' should be text, got {'q': 1}"),
        ("length", "long", "field 'length' should be a whole number, got 'long'"),
        ("all_classes", "Location", "field 'all_classes' should be a list of strings or null, got 'Location'"),
    ],
)
def test_longbench_fields_of_the_wrong_kind_name_the_line(tmp_path, field, value, problem):
    first, second = trec_rows()[:2]
    path = write_jsonl(tmp_path / "trec.jsonl", [first, "", {**second, field: value}])
    with pytest.raises(UsageError) as exc:
        load_records(path, "trec")
    assert one_line(exc) == f"{path}:3: {problem} (LongBench's field layout)"


def test_longbench_missing_fields_name_the_record(tmp_path):
    rows = trec_rows()
    del rows[1]["answers"], rows[1]["_id"]
    parquet = tmp_path / "trec.parquet"
    pd.DataFrame(rows).to_parquet(parquet)
    with pytest.raises(UsageError) as exc:
        load_records(str(parquet), "trec")
    assert one_line(exc).startswith(f"{parquet}: record 2: ")
    path = write_jsonl(tmp_path / "trec.jsonl", rows)
    with pytest.raises(UsageError, match=f"{path}:2: lacks answers, _id"):
        load_records(path, "trec")


def test_a_corrupt_parquet_file(tmp_path):
    parquet = tmp_path / "trec.parquet"
    parquet.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(UsageError) as exc:
        load_records(str(parquet), "trec")
    assert one_line(exc).startswith(f"{parquet} is not a readable parquet file: ")


def test_other_datasets_in_a_combined_file_are_not_checked(tmp_path):
    rows = trec_rows()
    path = write_jsonl(tmp_path / "all.jsonl", [*rows, {"dataset": "hotpotqa", "answers": "x"}])
    records, _ = load_records(path, "trec")
    assert [r["_id"] for r in records] == [r["_id"] for r in rows]


def v2_rows() -> list[dict]:
    path = fixture_path("trec").parent.parent / "longbench_v2" / "questions.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"context": None}, "field 'context' should be text, got None"),
        ({"choice_B": 1978}, "field 'choice_B' should be text, got 1978"),
        ({"answer": ["B"]}, "field 'answer' should be text, got ['B']"),
    ],
)
def test_longbench_v2_fields_of_the_wrong_kind(tmp_path, change, problem):
    first, second = v2_rows()[:2]
    path = write_jsonl(tmp_path / "v2.jsonl", [first, {**second, **change}])
    with pytest.raises(UsageError) as exc:
        load_questions(path)
    assert one_line(exc) == f"{path}:2: {problem} (LongBench v2's field layout)"
    listed = tmp_path / "v2.json"
    listed.write_text(json.dumps([first, {**second, **change}]))
    with pytest.raises(UsageError, match=f"{listed}: record 2: field"):
        load_questions(str(listed))


def test_longbench_v2_line_that_is_not_an_object(tmp_path):
    path = write_jsonl(tmp_path / "v2.jsonl", [v2_rows()[0], '"just a string"'])
    with pytest.raises(UsageError, match=f"{path}:2 is a string, not a JSON object"):
        load_questions(path)
    listed = tmp_path / "v2.json"
    listed.write_text(json.dumps([v2_rows()[0], [1, 2]]))
    with pytest.raises(UsageError, match=f"{listed}: record 2 is a list, not a JSON object"):
        load_questions(str(listed))
