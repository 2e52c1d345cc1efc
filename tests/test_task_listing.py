"""`lc-bench tasks` is read from a cache that any change to the code or the plugins rebuilds."""

from __future__ import annotations

import os

import pytest

from lc_bench import task_listing


def test_the_cached_listing_is_the_listing_and_is_reused(tmp_path, monkeypatch):
    fresh = task_listing.listing_text()
    assert "niah_single_1: " in fresh and "    haystack: str = 'essay'" in fresh
    assert task_listing.cached_listing_text(tmp_path) == fresh

    def must_not_rebuild() -> str:
        raise AssertionError("rebuilt although nothing changed")

    monkeypatch.setattr(task_listing, "listing_text", must_not_rebuild)
    assert task_listing.cached_listing_text(tmp_path) == fresh


def test_a_changed_key_rebuilds(tmp_path, monkeypatch):
    (tmp_path / task_listing.CACHE_NAME).write_text("stale-key\nold listing\n")
    monkeypatch.setattr(task_listing, "listing_text", lambda: "new listing\n")
    assert task_listing.cached_listing_text(tmp_path) == "new listing\n"


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
    monkeypatch.setattr(task_listing, "listing_text", lambda: "listing\n")
    assert task_listing.cached_listing_text(blocked) == "listing\n"
    assert [path.name for path in tmp_path.iterdir()] == ["file-not-folder"]


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b""])
def test_a_corrupt_cache_file_is_rebuilt(tmp_path, monkeypatch, content):
    (tmp_path / task_listing.CACHE_NAME).write_bytes(content)
    monkeypatch.setattr(task_listing, "listing_text", lambda: "listing\n")
    assert task_listing.cached_listing_text(tmp_path) == "listing\n"
