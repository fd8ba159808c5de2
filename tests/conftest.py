"""Shared fixtures: small indexes built from the seed articles, and one index
of the full archive in ../shared, built once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kbsearch import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEEDS = [DATA / "Q168845.TXT", DATA / "Q280515.TXT"]
SHARED = Path(os.environ.get("KBSEARCH_SHARED", REPO.parent / "shared"))


@pytest.fixture
def seed_dir(tmp_path) -> Path:
    """A folder holding copies of the two seed articles."""
    d = tmp_path / "articles"
    d.mkdir()
    for s in SEEDS:
        shutil.copy(s, d / s.name)
    return d


@pytest.fixture
def seed_index(tmp_path, seed_dir) -> Path:
    """An index of the two seed articles."""
    ix = tmp_path / "index"
    KnowledgeBase.build(ix, [seed_dir])
    return ix


@pytest.fixture
def seed_kb(seed_index):
    with KnowledgeBase.open(seed_index) as kb:
        yield kb


def archive_path() -> Path | None:
    """The unpacked full archive, or None where ../shared is absent."""
    script = SHARED / "kbarchive" / "path"
    if not script.exists():
        return None
    out = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="session")
def archive_dir() -> Path:
    p = archive_path()
    if p is None:
        pytest.skip(f"full archive not available: {SHARED}/kbarchive is absent (set KBSEARCH_SHARED)")
    return p


@pytest.fixture(scope="session")
def archive_index(tmp_path_factory, archive_dir) -> Path:
    """The whole archive, indexed once for every integration test."""
    ix = tmp_path_factory.mktemp("archive") / "index"
    report = KnowledgeBase.build(ix, [archive_dir])
    assert report.added > 50000
    return ix


@pytest.fixture(scope="session")
def archive_kb(archive_index):
    with KnowledgeBase.open(archive_index) as kb:
        yield kb
