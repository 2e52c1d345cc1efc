"""`lc-bench tasks` is read from a cache that any change to the code or the plugins rebuilds, and
filters by family or text without importing a task."""

from __future__ import annotations

import json
import os

import pytest

from lc_bench import task_listing
from lc_bench.errors import UsageError

ENTRY = {"name": "t", "family": "f", "description": "d", "metric": "m", "max_new_tokens": 1,
         "params": [["p", "int", "1", "a parameter"]]}


def test_the_cached_listing_is_the_listing_and_is_reused(tmp_path, monkeypatch):
    fresh = task_listing.listing_text()
    assert "niah_single_1: " in fresh and "    haystack: str = 'essay'" in fresh
    cached = task_listing.cached_listing_text(tmp_path)
    assert cached.startswith(fresh) and cached[len(fresh):].count("\n") == 1  # one closing line
    assert "narrow with: lc-bench tasks --family NAME | --search TEXT" in cached

    def must_not_rebuild() -> list:
        raise AssertionError("rebuilt although nothing changed")

    monkeypatch.setattr(task_listing, "listing_entries", must_not_rebuild)
    assert task_listing.cached_listing_text(tmp_path) == cached
    assert task_listing.filtered_listing_text(tmp_path, family="ruler").startswith("cwe: ")


def test_parameters_carry_their_one_line_description():
    text = task_listing.listing_text()
    assert "    num_keys: int = 1  # needles with distinct keys" in text
    assert all("\n" not in param[3] for entry in task_listing.listing_entries() for param in entry["params"])


def test_a_changed_key_rebuilds(tmp_path, monkeypatch):
    (tmp_path / task_listing.CACHE_NAME).write_text(json.dumps({"key": "stale-key", "entries": []}))
    monkeypatch.setattr(task_listing, "listing_entries", lambda: [ENTRY])
    assert task_listing.cached_listing_text(tmp_path).startswith("t: d (metric m, max_new_tokens 1)\n"
                                                                "    p: int = 1  # a parameter\n")


def test_the_key_follows_sources_and_plugins(tmp_path):
    source = tmp_path / "pkg"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "task.py").write_text("A = 1\n")
    first = task_listing.source_key(source, [])
    assert task_listing.source_key(source, []) == first
    (source / "sub" / "task.py").write_text("A = 22\n")  # another size
    edited = task_listing.source_key(source, [])
    assert edited != first
    status = os.stat(source / "sub" / "task.py")
    os.utime(source / "sub" / "task.py", ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))
    assert task_listing.source_key(source, []) not in (first, edited)
    assert task_listing.source_key(source, ["x=pkg.x dist 1.0"]) != task_listing.source_key(source, [])


def test_an_unwritable_cache_still_lists(tmp_path, monkeypatch):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setattr(task_listing, "listing_entries", lambda: [ENTRY])
    assert task_listing.cached_listing_text(blocked).startswith("t: d ")
    assert [path.name for path in tmp_path.iterdir()] == ["file-not-folder"]


@pytest.mark.parametrize(
    "content", [b"\xff\xfe not utf-8", b"", b"[1, 2]", b'{"key": "K", "entries": [{"name": "t"}]}']
)
def test_a_corrupt_cache_file_is_rebuilt(tmp_path, monkeypatch, content):
    monkeypatch.setattr(task_listing, "source_key", lambda root, plugins: "K")
    (tmp_path / task_listing.CACHE_NAME).write_bytes(content)
    monkeypatch.setattr(task_listing, "listing_entries", lambda: [ENTRY])
    assert task_listing.cached_listing_text(tmp_path).startswith("t: d ")


def test_family_and_search_filters():
    entries = task_listing.listing_entries()
    ruler = task_listing.filter_entries(entries, family="ruler")
    assert ruler and {entry["family"] for entry in ruler} == {"ruler"} and len(ruler) < len(entries)
    assert task_listing.filter_entries(entries, family="RULER") == ruler  # case does not matter
    found = task_listing.filter_entries(entries, search="UUID")
    assert {entry["name"] for entry in found} >= {"niah_multikey_3"}
    assert all("uuid" in json.dumps(entry).lower() for entry in found)
    # a parameter's description is searched too
    assert "niah" in {entry["name"] for entry in task_listing.filter_entries(entries, search="distinct keys")}
    both = task_listing.filter_entries(entries, family="ruler", search="uuid")
    assert both and all(entry["family"] == "ruler" for entry in both)
    assert task_listing.filter_entries(entries, search="no-such-text-anywhere") == []
    with pytest.raises(UsageError, match=r"unknown task family 'rular'; did you mean ruler\? \(families: "):
        task_listing.filter_entries(entries, family="rular")


def test_no_match_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(task_listing, "listing_entries", lambda: [ENTRY])
    assert task_listing.filtered_listing_text(tmp_path, search="zz") == (
        "no task matches --search 'zz' (lc-bench tasks lists them all)\n")
