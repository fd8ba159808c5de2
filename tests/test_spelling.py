"""Typo correction and did-you-mean, on small synthetic indexes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from kbsearch import KnowledgeBase, engine, ingest, spelling
from kbsearch.cli import cli

from .test_search import _kb_article

ARTICLES = {
    300001: ("Redirector Unable to Delete File on Server", {
        "SYMPTOMS": "The redirector was unable to delete the file specified on the server when it was\n"
                    "closed by the application.",
    }),
    300002: ("Print Spooler Stops on Windows NT", {
        "SYMPTOMS": "The spooler stops with STOP 0x0000000b in c0000219 after perfctr.dll loads on\n"
                    "the win server with iis5 installed; the freezer print job is lost.",
    }),
    300003: ("How to Delete Print Jobs", {
        "SUMMARY": "This article describes how to delete print jobs from the express queue on the server.",
    }),
    300004: ("Exchange Server Does Not Start", {
        "SYMPTOMS": "The Exchange server service does not start and the application log shows an error.",
    }),
}


def _build(tmp_path, articles=ARTICLES, name="src"):
    src = tmp_path / name
    src.mkdir(parents=True, exist_ok=True)
    for n, (title, sections) in articles.items():
        (src / f"Q{n}.TXT").write_text(_kb_article(n, title, sections))
    ingest.index_paths(str(tmp_path / "ix"), [str(src)], procs=1)
    return tmp_path / "ix", src


@pytest.fixture
def kb(tmp_path):
    ix, _ = _build(tmp_path)
    with KnowledgeBase.open(ix) as kb:
        yield kb


def test_a_misspelled_word_is_corrected_and_says_so(kb):
    res = kb.results("redirecter unable to delet")
    assert res.corrected == "redirector unable to delete"
    assert res.suggestion is None
    assert res.hits[0].id == "Q300001"
    assert res.to_dict()["corrected"] == "redirector unable to delete"
    # the same ranking as the query typed right
    right = kb.results("redirector unable to delete")
    assert [h.id for h in res.hits] == [h.id for h in right.hits]


def test_exact_does_not_correct_but_suggests(kb):
    res = kb.results("redirecter unable to delet", exact=True)
    assert res.corrected is None
    assert res.suggestion == "redirector unable to delete"
    assert [h.id for h in kb.search("exchnage", exact=True)] == []
    assert [h.id for h in kb.search("exchnage")] == ["Q300004"]


def test_a_correctly_spelled_query_is_unchanged(kb):
    for q in ("redirector unable to delete", "exchange server does not start", "print spooler stops"):
        res = kb.results(q)
        assert res.corrected is None and res.suggestion is None
        assert [h.id for h in res.hits] == [h.id for h in kb.search(q, exact=True)]


@pytest.mark.parametrize("typed", [
    "0x0000000a", "c0000218", "perfctrs.dll", "wins", "iis4", "nt4",  # codes, files, short forms
    "prnt", "sevr",              # four letters or fewer: typed as the archive writes them
    "freezes",                   # the query vocabulary knows it (freezer is one edit away)
    "IExpress", "SPOOLR",        # names: a capital inside, or all capitals
    '"spoolr"',                  # in quotation marks: as typed
    "perf_ctr", "spool-r",       # underscores, hyphens
])
def test_codes_names_and_short_words_are_never_corrected(kb, typed):
    res = kb.results(f"{typed} server")
    assert res.corrected is None and res.suggestion is None


def test_a_word_the_archive_uses_stays_unless_far_rarer(tmp_path):
    # "spooler" in 2 articles, "spoolers" in 1: both words, neither corrected
    ix, _ = _build(tmp_path, {
        400001: ("Spooler Stops", {"SYMPTOMS": "The spooler stops."}),
        400002: ("Spooler Hangs", {"SYMPTOMS": "The spooler hangs."}),
        400003: ("Spoolers Compared", {"SUMMARY": "Two spoolers compared."}),
    })
    with KnowledgeBase.open(ix) as kb:
        assert kb.results("spoolers").corrected is None
        assert kb.results("spooler").corrected is None
        assert kb.results("spoolr").corrected == "spooler"


def test_incremental_runs_keep_the_vocabulary_current(tmp_path):
    ix, src = _build(tmp_path, {k: ARTICLES[k] for k in (300001, 300004)})
    with KnowledgeBase.open(ix) as kb:
        assert kb.results("spoolr stops").corrected is None  # no article writes "spooler" yet
        (src / "Q300002.TXT").write_text(_kb_article(300002, *ARTICLES[300002]))
        kb.index([str(src)])
        res = kb.results("spoolr stops")
        assert res.corrected == "spooler stops" and res.hits[0].id == "Q300002"
        (src / "Q300002.TXT").unlink()
        report = kb.index([str(src)])
        assert report.removed == 1
        assert kb.results("spoolr stops").corrected is None  # its words went with it


def test_deleted_articles_words_do_not_count_before_a_merge(kb, monkeypatch):
    # a deletion Whoosh has not merged away still counts in the document frequency
    eng = kb.engine
    docnum = eng.docnum_for("Q300002")
    assert spelling.check(eng, "spoolr server").corrected == "spooler server"
    monkeypatch.setattr(engine.Engine, "live_mask", lambda self: np.arange(self.doc_count_all) != docnum)
    assert eng.doc_frequency("words", "spooler") == 1
    assert eng.live_frequency("words", "spooler") == 0
    assert spelling.check(eng, "spoolr server").corrected is None


def test_an_index_without_the_words_field_still_searches(tmp_path, monkeypatch):
    today = engine.make_schema

    def older():  # the schema before the words field
        schema = today()
        schema.remove("words")
        return schema

    monkeypatch.setattr(engine, "make_schema", older)
    ix, _ = _build(tmp_path)
    monkeypatch.setattr(engine, "make_schema", today)
    with KnowledgeBase.open(ix) as kb:
        assert kb.stats()["missing_fields"] == ["words"]
        res = kb.results("redirecter unable to delet")
        assert res.corrected is None and res.suggestion is None
        assert res.hits  # "unable", "delet" still match


def test_two_edits_away_for_long_words_the_archive_uses_often(tmp_path):
    many = {500000 + i: (f"Configuration Problem {i}", {"SYMPTOMS": "The configuration spooler fails."})
            for i in range(spelling.RATIO)}
    ix, _ = _build(tmp_path, many)
    with KnowledgeBase.open(ix) as kb:
        assert kb.results("confiuraton").corrected == "configuration"  # two letters left out
        assert kb.results("spolrr").corrected is None  # a shorter word: one edit only
    with KnowledgeBase.open(_build(tmp_path / "few", dict(list(many.items())[:3]))[0]) as kb:
        assert kb.results("confiuraton").corrected is None  # two edits need a word far more used


def test_cli_says_what_it_searched(tmp_path):
    ix, _ = _build(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["redirecter unable to delet", "--index", str(ix)], catch_exceptions=False)
    assert r.exit_code == 0
    assert "Showing results for: redirector unable to delete" in r.stderr
    assert "Q300001" in r.stdout.splitlines()[0]
    r = runner.invoke(cli, ["search", "--exact", "redirecter unable to delet", "--index", str(ix)])
    assert "Showing results for" not in r.stderr
    assert "Did you mean: redirector unable to delete" in r.stderr
    r = runner.invoke(cli, ["redirecter", "unable", "--json", "--index", str(ix)])
    data = json.loads(r.stdout)
    assert data["corrected"] == "redirector unable" and data["suggestion"] is None
    r = runner.invoke(cli, ["redirector", "unable", "--json", "--index", str(ix)])
    data = json.loads(r.stdout)
    assert data["corrected"] is None and data["suggestion"] is None
    assert r.stderr == ""
