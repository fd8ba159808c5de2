"""Abbreviations mined from the archive (:mod:`kbsearch.abbreviations`):
the Schwartz-Hearst matcher, the ``abbrev`` field and query expansion."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kbsearch import KnowledgeBase, abbreviations, engine, terms
from kbsearch.abbreviations import Definition, definition_terms, definitions
from kbsearch.ranking import DEFAULT

from .test_spelling import _build
from .test_search import _kb_article


@pytest.mark.parametrize("text, short, long", [
    ("You can use Terminal Services (TS) to connect.", "TS", "Terminal Services"),
    ("Microsoft Visual FoxPro (VFP) for Windows", "VFP", "Visual FoxPro"),
    ("the directory synchronization (DirSync) process", "DirSync", "directory synchronization"),
    ("clients of the Remote Access Service (RAS) can dial in", "RAS", "Remote Access Service"),
    # a stop word inside; a hyphenated word; the short form's letters inside words
    ("Object Linking and Embedding (OLE) objects", "OLE", "Object Linking and Embedding"),
    ("a Dynamic-Link Library (DLL) file", "DLL", "Dynamic-Link Library"),
    ("the message transfer agent (MTA) stops", "MTA", "message transfer agent"),
    # the long form is the shortest one that the characters match, right to left
    ("Start the Windows Internet Naming Service (WINS) server", "WINS", "Windows Internet Naming Service"),
    # the reverse: a short form, then its long form in parentheses
    ("Connect with TS (Terminal Services) to the server", "TS", "Terminal Services"),
    # a long form across a line break
    ("Use the Systems Management\nServer (SMS) console", "SMS", "Systems Management Server"),
])
def test_schwartz_hearst_finds_a_definition(text, short, long):
    assert Definition(short, long) in definitions(text)


@pytest.mark.parametrize("text", [
    "Windows NT (NT)",                         # the long form ends with the short form
    "the port number (optional)",              # no capital: prose in parentheses
    "This happens (see below) often",          # more than two words, no reverse
    "version 2.0 (2000) of the tool",          # no letter
    "the Microsoft Network (A)",               # one character
    "Set the Value (ABCDEFGHIJK) field",       # more than 10 characters
    "Restart the computer. Then (RC) appears",  # the long form would span a sentence end
    "in the (ZQX) field",                      # its characters are not in the words before it
    "The Server Message Block protocol is used by many programs and services (SMB)",  # too many words back
])
def test_schwartz_hearst_rejects(text):
    assert definitions(text) == []


def test_definition_terms_are_analysed():
    text = ("Microsoft Visual FoxPro (VFP). The Remote Access Service (RAS) and the Remote Access\n"
            "Service (RAS) again; Windows NT (NT).")
    assert definition_terms(text) == ["vfp=visual foxpro", "ras=remot access servic"]


FCS = {
    400001: ("Frobnicator Control Service Does Not Start", {
        "SYMPTOMS": "The Frobnicator Control Service (FCS) does not start after you restart the computer.",
    }),
    400002: ("How to Configure the Frobnicator Control Service", {
        "SUMMARY": "This article describes how to set up the Frobnicator Control Service (FCS) on a server.",
    }),
    400003: ("Frobnicator Control Service Logs Event 1001", {
        "SYMPTOMS": "The Frobnicator Control Service (FCS) logs event 1001 in the application log.",
    }),
    # writes the long form only: found for "fcs" by the mined definition
    400004: ("Frobnicator Control Service Leaks Handles", {
        "SYMPTOMS": "After several days the Frobnicator Control Service leaks handles and memory.",
    }),
    # the words apart, not the long form
    400005: ("Control Panel Service Icon Missing", {
        "SYMPTOMS": "The Service icon is missing from Control Panel on the frobnicator test bench.",
    }),
    400006: ("Print Spooler Stops", {
        "SYMPTOMS": "The spooler stops responding.",
    }),
}


@pytest.fixture
def fcs(tmp_path):
    ix, src = _build(tmp_path, FCS)
    with KnowledgeBase.open(ix) as kb:
        yield kb, src


def test_a_short_form_the_archive_defines_finds_its_long_form(fcs):
    kb, _ = fcs
    assert kb.engine.prefix_frequencies(terms.ABBREV_FIELD, "fcs=") == {"fcs=frobnic control servic": 3}
    assert abbreviations.long_form_of(kb.engine, "fcs") == "frobnic control servic"
    assert kb.search("fcs leaks", limit=1)[0].id == "Q400004"
    ids = [h.id for h in kb.search("fcs", limit=10)]
    assert sorted(ids) == ["Q400001", "Q400002", "Q400003", "Q400004"]  # not Q400005: its words, not the phrase
    # vocabulary off: the word as typed only
    assert sorted(h.id for h in kb.search("fcs", limit=10, vocabulary=False)) == ["Q400001", "Q400002", "Q400003"]


def test_the_weight_switches_it_off_and_an_expansion_never_outweighs_the_word(tmp_path):
    ix, _ = _build(tmp_path, FCS)
    with KnowledgeBase.open(ix, ranking=replace(DEFAULT, abbreviations=0.0)) as kb:
        assert "Q400004" not in [h.id for h in kb.search("fcs", limit=10)]
    with KnowledgeBase.open(ix) as kb:
        hits = kb.results("fcs", limit=10, explain=True).hits
        by_id = {h.id: h for h in hits}
        assert set(by_id) == {"Q400001", "Q400002", "Q400003", "Q400004"}
        row = by_id["Q400004"].explanation["terms"][0]
        assert row["term"] == "fcs" and row["matched_as"] == ["frobnic control servic"]
        assert DEFAULT.abbreviations < 1.0


def test_no_expansion_for_a_quoted_word_or_a_long_form_typed(fcs):
    kb, _ = fcs
    assert "Q400004" not in [h.id for h in kb.search('"fcs" not', limit=10)]
    eng = kb.engine
    from kbsearch.search import query_terms

    qterms = abbreviations.expand(eng, query_terms("fcs frobnicator control service"), 0.8)
    assert qterms[0].alternatives == ()


def test_a_definition_goes_with_the_articles_that_make_it(fcs):
    kb, src = fcs
    (src / "Q400003.TXT").unlink()
    kb.index([str(src)])
    # two articles define it now: fewer than MIN_DEFINITIONS
    assert kb.engine.live_frequency(terms.ABBREV_FIELD, "fcs=frobnic control servic") == 2
    assert abbreviations.long_form_of(kb.engine, "fcs") is None
    assert "Q400004" not in [h.id for h in kb.search("fcs", limit=10)]
    (src / "Q400003.TXT").write_text(_kb_article(400003, *FCS[400003]))
    kb.index([str(src)])
    assert abbreviations.long_form_of(kb.engine, "fcs") == "frobnic control servic"


def test_a_deleted_definition_does_not_count_before_a_merge(fcs, monkeypatch):
    kb, _ = fcs
    eng = kb.engine
    gone = eng.docnum_for("Q400001")
    monkeypatch.setattr(engine.Engine, "live_mask", lambda self: np.arange(self.doc_count_all) != gone)
    assert eng.doc_frequency(terms.ABBREV_FIELD, "fcs=frobnic control servic") == 3
    assert eng.prefix_frequencies(terms.ABBREV_FIELD, "fcs=") == {"fcs=frobnic control servic": 2}


def test_a_short_form_used_far_more_than_defined_is_not_expanded(tmp_path):
    arts = dict(FCS)
    for n in range(400010, 400010 + 400):  # "fcs" as a word of its own, far more often
        arts[n] = (f"Report {n} Shows FCS Totals", {"SUMMARY": "The fcs totals are wrong."})
    ix, _ = _build(tmp_path, arts)
    with KnowledgeBase.open(ix) as kb:
        assert kb.engine.doc_frequency("body", "fcs") > 3 / abbreviations.MIN_DEFINED_SHARE
        assert abbreviations.long_form_of(kb.engine, "fcs") is None


def test_an_index_without_the_abbrev_field_still_searches(tmp_path, monkeypatch):
    today = engine.make_schema

    def older():  # the schema before the abbrev field
        schema = today()
        schema.remove(terms.ABBREV_FIELD)
        return schema

    monkeypatch.setattr(engine, "make_schema", older)
    ix, _ = _build(tmp_path, FCS)
    monkeypatch.setattr(engine, "make_schema", today)
    with KnowledgeBase.open(ix) as kb:
        assert kb.stats()["missing_fields"] == [terms.ABBREV_FIELD]
        assert abbreviations.long_form_of(kb.engine, "fcs") is None
        assert sorted(h.id for h in kb.search("fcs", limit=10)) == ["Q400001", "Q400002", "Q400003"]


def test_phrase_postings(fcs):
    kb, _ = fcs
    eng = kb.engine
    p = eng.postings("body", "frobnic control servic")
    assert sorted(eng.stored(d)["id"] for d in p.ids) == ["Q400001", "Q400002", "Q400003", "Q400004"]
    d = eng.docnum_for("Q400004")
    first = eng.postings("body", "frobnic")
    # the first word's weight, times the share of its occurrences that start the phrase
    assert p.weights[list(p.ids).index(d)] == pytest.approx(first.weights[list(first.ids).index(d)])
    assert p.positions(d) == first.positions(d)
    assert eng.postings("body", "servic control frobnic") is None  # in that order nowhere
    assert eng.postings("body", "frobnic nosuchword") is None
