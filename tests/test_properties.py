"""Property-based tests (Hypothesis): any query string, any file content.

* Every query either gives results or raises KBSearchError with a one-line
  message, never another exception.
* parse_article raises nothing but NotAnArticle/KBSearchError on any bytes;
  article-shaped text keeps its Q-number; generated articles, once indexed,
  are all found by their id.
"""

from __future__ import annotations

import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kbsearch import KnowledgeBase
from kbsearch.article import NotAnArticle, decode_bytes, normalize_id, parse_article
from kbsearch.errors import KBSearchError
from kbsearch.ingest import index_paths

from .conftest import DATA

SEED_IDS = {"Q168845", "Q280515"}


@pytest.fixture(scope="module")
def seed_kb(tmp_path_factory):
    ix = tmp_path_factory.mktemp("props") / "index"
    KnowledgeBase.build(ix, [DATA])
    with KnowledgeBase.open(ix) as kb:
        yield kb


# --- queries ---------------------------------------------------------------

# Any code point but surrogates (which cannot reach us from a terminal or JSON).
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)

WORDS = ["redirector", "unable", "delete", "event", "3031", "client.lkp", "sms", "windows", "nt",
         "the", "of", "to", "0x0000000A", "c0000005", "-2147467259", "q168845", "Q280515", "KB168845",
         "4.0", "win32", "perfctrs.dll", "a", "é", "\U0001F600", "\u05e9\u05dc\u05d5\u05dd"]
OPERATORS = ["AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "and", "or", "not", "+", "-", "*", "?", "~", "^",
             "~2", "^3", '"', "'", "(", ")", "[", "]", "{", "}", ":", "\\", "/", "TO", "<", ">", "=",
             "\x00", "\t", "\u200b", "\u202e"]
FIELDS = ["title:", "product:", "symptoms:", "message:", "cause:", "resolution:", "body:", "version:", "keyword:",
          "tag:", "issue:", "cites:", "id:", "date:", "nosuch:", "TITLE:", "title:title:"]

token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(OPERATORS),
    st.builds(lambda f, w: f + w, st.sampled_from(FIELDS), st.sampled_from(WORDS + OPERATORS + [""])),
    st.builds(lambda w, o: w + o, st.sampled_from(WORDS), st.sampled_from(OPERATORS)),
    st.builds(lambda o, w: o + w, st.sampled_from(OPERATORS), st.sampled_from(WORDS)),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=6),
)
syntax_text = st.builds(
    lambda toks, sep: sep.join(toks),
    st.lists(token, max_size=40),
    st.sampled_from([" ", "", "  ", "\n", " AND ", " OR "]),
)
query_text = st.one_of(any_text, syntax_text)
filters = st.one_of(st.none(), st.sampled_from(["winnt", "sms", "windows nt", "4.0", "kbbug", "", " "]), any_text)


def _check(kb, text, limit=10, **kw):
    try:
        res = kb.results(text, limit=limit, **kw)
    except KBSearchError as e:
        msg = str(e)
        assert msg.strip(), "empty error message"
        assert "\n" not in msg and "\r" not in msg, msg
        return None
    assert len(res.hits) <= limit
    assert res.total >= len(res.hits)
    assert {h.id for h in res.hits} <= SEED_IDS
    assert len({h.id for h in res.hits}) == len(res.hits)
    json.dumps(res.to_dict(), allow_nan=False)  # what --json prints: finite numbers
    return res


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=query_text)
def test_any_query_gives_results_or_a_one_line_error(seed_kb, text):
    _check(seed_kb, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=query_text, limit=st.integers(1, 50), product=filters, version=filters, keyword=filters,
       explain=st.booleans())
def test_any_query_with_any_filters(seed_kb, text, limit, product, version, keyword, explain):
    _check(seed_kb, text, limit=limit, product=product, version=version, keyword=keyword, explain=explain)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.sampled_from(["Q168845", "168845", "KB168845", "q280515"]), noise=st.sampled_from(["", " ", "\t"]))
def test_an_article_number_shows_that_article_first(seed_kb, text, noise):
    res = _check(seed_kb, noise + text + noise)
    assert res is not None and res.hits[0].id == normalize_id(text)


# --- article files -----------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(data=st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=1000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(lambda junk: b"DOCUMENT:Q12345  01-JAN-2000  [x]\n" + junk, st.binary(max_size=2000)),
))
def test_parse_article_on_any_bytes(data):
    try:
        art = parse_article(data)
    except NotAnArticle:
        return
    except KBSearchError as e:
        assert "\n" not in str(e)
        return
    assert normalize_id(art.id) == art.id  # a well-formed id, retrievable with kb.get
    assert art.text
    json.dumps(art.title)


# Printable text without line breaks (parse_article splits lines itself).
line_chars = st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="\x85")
line = st.text(line_chars, max_size=80)
heading = st.one_of(
    st.just("SYMPTOMS"),
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ "), min_size=3, max_size=24).map(str.strip).filter(bool),
)
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


@st.composite
def article_files(draw):
    """(bytes, expected id, expected title or None) of an article-shaped file."""
    number = draw(st.integers(1, 9_999_999))
    digits = draw(st.sampled_from(["", "0", "00"])) + str(number)
    date = draw(st.one_of(
        st.just(""),
        st.builds(lambda d, m, y: f"{d:02d}-{m}-{y}", st.integers(1, 28), st.sampled_from(MONTHS),
                  st.sampled_from(["1995", "2001", "98", "02"])),
    ))
    tag = draw(st.sampled_from(["", "[winnt]", "[sms]", "[]", "[a b]"]))
    title = draw(st.text(line_chars, max_size=70).map(str.strip))
    header = [f"DOCUMENT:Q{digits}  {date}  {tag}".rstrip(), f"TITLE   :{title}"]
    for key in draw(st.lists(st.sampled_from(["PRODUCT", "PROD/VER", "OPER/SYS", "KEYWORDS", "EXTRA"]),
                             max_size=5, unique=True)):
        header.append(f"{key}:{draw(line)}")
    lines = header + ["", "=" * 70, "-" * 70]
    if draw(st.booleans()):
        lines += ["The information in this article applies to:", ""]
        lines += [f" - {draw(line)}" for _ in range(draw(st.integers(0, 3)))]
        lines += ["-" * 70]
    for _ in range(draw(st.integers(0, 5))):
        h = draw(heading)
        lines += ["", h, "=" * len(h), ""] + draw(st.lists(line, max_size=8))
        if draw(st.booleans()):  # a paragraph set off from the prose, as articles show messages
            lines += ["", "   " + draw(line), ""] + draw(st.lists(line, max_size=3))
        if draw(st.booleans()):  # a message quoted in a sentence
            lines += [f'{draw(line)} "{draw(line)}" {draw(line)}']
    if draw(st.booleans()):
        lines += ["", f"Additional query words: {draw(line)}"]
    if draw(st.booleans()):
        lines += ["", "=" * 70, "", f"Keywords          : {draw(line)}", f"Version           : {draw(line)}",
                  f"Issue type        : {draw(line)}", "=" * 70]
    if draw(st.booleans()):
        lines += ["", "THE INFORMATION PROVIDED IN THE MICROSOFT KNOWLEDGE BASE IS PROVIDED \"AS IS\"", draw(line)]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    # The title survives as written when the file decodes back to the same text
    # (not when cp1252 could not carry a character, or its bytes happen to be UTF-8).
    want_title = title if decode_bytes(data)[0] == text else None
    return data, f"Q{number}", want_title


@settings(max_examples=200, deadline=None)
@given(article_files())
def test_article_shaped_text_keeps_its_id(case):
    data, aid, title = case
    art = parse_article(data)  # no control characters, a DOCUMENT line: never refused
    assert art.id == aid
    if title is not None:
        assert art.title == title
    symptoms = art.section("symptoms").split()
    for message in art.messages:  # shown text is SYMPTOMS' own, word for word
        words = message.split()
        assert words and any(symptoms[i:i + len(words)] == words for i in range(len(symptoms)))
    for quote in art.quotes:  # and so is quoted text, though a quotation mark may touch a word
        assert len(quote.split()) >= 2 and quote in " ".join(symptoms)


@settings(max_examples=25, deadline=None)
@given(st.lists(article_files(), min_size=1, max_size=5))
def test_generated_articles_are_all_found_by_id(cases):
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "articles")
        os.mkdir(folder)
        parsed = {}
        for i, (data, aid, _) in enumerate(cases):
            path = os.path.join(folder, f"f{i}.txt")
            with open(path, "wb") as f:
                f.write(data)
            try:
                parsed[path] = parse_article(data)
            except NotAnArticle:
                pass
        assume(parsed)
        report = index_paths(os.path.join(tmp, "ix"), [folder])
        ids = {a.id for a in parsed.values()}
        assert report.articles == len(ids)
        assert len(report.skipped) == len(cases) - len(parsed)
        kept = {d.kept for d in report.duplicates} - {d.dropped for d in report.duplicates}
        with KnowledgeBase.open(os.path.join(tmp, "ix")) as kb:
            assert sorted(kb.engine.iter_ids()) == sorted(ids)
            for path, art in parsed.items():
                got = kb.get(art.id)
                assert got.id == art.id
                winners = [p for p, a in parsed.items() if a.id == art.id]
                if len(winners) == 1 or path in kept:
                    assert got.title == art.title
                    assert got.text == art.text
                res = kb.search(art.id, limit=3)
                assert res and res[0].id == art.id
