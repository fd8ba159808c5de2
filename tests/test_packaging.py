"""What ``pip install .`` (not editable) installs: every package of the source tree."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_installed():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "kbsearch").rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_the_web_pages_files_are_installed():
    # kbsearch serve renders templates/ and serves static/: package data.
    tomllib = pytest.importorskip("tomllib")
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for folder in ("templates", "static"):
        patterns = data[f"kbsearch.{folder}"]
        files = [p for p in (REPO / "kbsearch" / folder).iterdir() if p.is_file()]
        assert files, folder
        for f in files:
            assert any(f.match(pat) for pat in patterns), f"{f.name} is not in package-data for kbsearch.{folder}"
