"""Narrowing and paging a search: dates, facets, offset, batch, stats as a
guide to the filters, and snippets that show the body, not the title."""

import json

import pytest
from click.testing import CliRunner

from kbsearch import KnowledgeBase
from kbsearch.cli import cli
from kbsearch.errors import KBSearchError
from kbsearch.filters import parse_date
from kbsearch.snippets import make_snippet, snippet_sections

from .test_search import _kb_article


def _dated(tmp_path):
    """Six printer articles over three years, two products, two issue types."""
    src = tmp_path / "src"
    src.mkdir()
    specs = [(900001, "1999", "winnt", "kbbug"), (900002, "2000", "winnt", "kbprb"), (900003, "2000", "win95", "kbbug"),
             (900004, "2001", "winnt", "kbbug"), (900005, "2001", "win95", "kbprb"), (900006, "2001", "win95", "kbbug")]
    for n, year, tag, issue in specs:
        product = "Microsoft Windows NT" if tag == "winnt" else "Microsoft Windows 95"
        (src / f"Q{n}.TXT").write_text(
            f"DOCUMENT:Q{n}  09-AUG-{year}  [{tag}]\nTITLE   :Printer Stops After Upgrade {n}\n"
            f"PRODUCT :{product}\n\nSYMPTOMS\n========\n\nThe printer stops when you print.\n\n"
            f"{'=' * 70}\nKeywords          : kbprint\nIssue type        : {issue}\n\n{'=' * 77}\n")
    KnowledgeBase.build(tmp_path / "ix", [src], procs=1)
    return tmp_path / "ix"


@pytest.fixture
def dated(tmp_path):
    with KnowledgeBase.open(_dated(tmp_path)) as kb:
        yield kb


def test_the_test_articles_have_dates_products_and_issues(dated):
    assert {h.date[:4] for h in dated.search("printer", limit=10)} == {"1999", "2000", "2001"}


@pytest.mark.parametrize("since, until, years", [
    ("2000", None, {"2000", "2001"}), (None, "2000", {"1999", "2000"}), ("2000", "2000", {"2000"}),
    ("2000-08", "2000-08-09", {"2000"}), ("2000-08-10", "2001-08", {"2001"}), ("2001-08-09", None, {"2001"}),
])
def test_dates(dated, since, until, years):
    hits = dated.search("printer", since=since, until=until)
    assert {h.date[:4] for h in hits} == years


@pytest.mark.parametrize("value, message", [("2001-13", "--since '2001-13' is not a date"),
                                            ("01/02/2001", "use YYYY, YYYY-MM or YYYY-MM-DD"),
                                            ("2001-02-30", "is not a date")])
def test_a_bad_date_is_one_line(dated, value, message):
    with pytest.raises(KBSearchError, match=message):
        dated.search("printer", since=value)
    with pytest.raises(KBSearchError, match="is after --until"):
        dated.search("printer", since="2001", until="2000")


def test_date_bounds():
    assert parse_date("2001", "--since") == "2001-01-01" and parse_date("2001", "--until", end=True) == "2001-12-31"
    assert parse_date("2001-2", "--until", end=True) == "2001-02-31"  # compared as text: the whole month
    assert parse_date("2001-02-03", "--since") == "2001-02-03"


def test_facets_count_every_match_with_its_filters(dated):
    res = dated.results("printer", limit=2, facets=True)
    assert res.facets["year"] == {"1999": 1, "2000": 2, "2001": 3}
    assert sum(res.facets["year"].values()) == res.total == 6 and len(res.hits) == 2
    assert res.facets["issue"] == {"kbbug": 4, "kbprb": 2}
    assert sum(res.facets["product"].values()) == 6
    res = dated.results("printer", facets=True, since="2001", keyword="kbbug")
    assert res.facets["year"] == {"2001": 2} and res.facets["issue"] == {"kbbug": 2} and res.total == 2
    # a query in syntax, and an excluded article
    res = dated.results("title:printer", facets=True, exclude=["Q900001"])
    assert res.facets["year"] == {"2000": 2, "2001": 3}
    assert "facets" not in dated.results("printer").to_dict()


def test_facets_in_the_cli(tmp_path):
    ix = str(_dated(tmp_path))
    r = CliRunner().invoke(cli, ["printer", "--facets", "--json", "--index", ix])
    assert json.loads(r.stdout)["facets"]["year"] == {"1999": 1, "2000": 2, "2001": 3}
    r = CliRunner().invoke(cli, ["printer", "--facets", "-n", "1", "--index", ix])
    assert "All 6 matches by" in r.stdout and "year     1999 1 · 2000 2 · 2001 3" in r.stdout
    assert "issue    kbbug 4 · kbprb 2" in r.stdout


def test_paging(dated):
    first20 = [h.id for h in dated.search("printer", limit=4)]
    assert [h.id for h in dated.search("printer", limit=2, offset=2)] == first20[2:4]
    assert [h.id for h in dated.search("printer", limit=2)] == first20[:2]  # the first page never changes
    res = dated.results("printer", limit=2, offset=5)
    assert len(res.hits) == 1 and res.total == 6 and res.to_dict()["offset"] == 5
    assert dated.search("printer", offset=50) == []
    with pytest.raises(KBSearchError, match="offset must be 0 or more"):
        dated.search("printer", offset=-1)


def test_paging_in_the_cli_numbers_the_hits_on(tmp_path):
    ix = str(_dated(tmp_path))
    r = CliRunner().invoke(cli, ["printer", "-n", "2", "--offset", "2", "--index", ix])
    assert [ln.split(".")[0].strip() for ln in r.stdout.splitlines() if ln[:3].strip().rstrip(".").isdigit()] == \
        ["3", "4"]
    r = CliRunner().invoke(cli, ["printer", "--offset", "10", "--index", ix])
    assert r.exit_code == 0 and "No hits past the first 6 matches" in r.stderr


def test_batch(tmp_path):
    ix = str(_dated(tmp_path))
    lines = ["printer stops", "", "the of", "\"unbalanced", "printer"]
    r = CliRunner().invoke(cli, ["batch", "-", "-n", "2", "--since", "2001", "--index", ix],
                           input="\n".join(lines) + "\n")
    assert r.exit_code == 0, r.output
    out = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [o["query"] for o in out] == lines  # one line out for each line in, in order
    assert {h["date"][:4] for h in out[0]["hits"]} == {"2001"} and len(out[0]["hits"]) == 2
    assert out[1]["error"].startswith("empty query") and "only stop words" in out[2]["error"]
    assert "hits" in out[4] and out[4]["total"] == 3
    # the same document as search --json
    one = CliRunner().invoke(cli, ["printer", "-n", "2", "--since", "2001", "--json", "--index", ix])
    assert json.loads(one.stdout) == out[4]


def test_batch_from_a_file_with_bad_bytes_and_a_bad_filter(tmp_path):
    ix = str(_dated(tmp_path))
    f = tmp_path / "q.txt"
    f.write_bytes(b"printer\n\xff\xfe bad\nprinter\n")
    r = CliRunner().invoke(cli, ["batch", str(f), "--index", ix])
    out = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(out) == 3 and out[1]["error"] == "the line is not UTF-8" and out[2]["total"] == 6
    r = CliRunner().invoke(cli, ["batch", str(f), "--product", "outlook", "--index", ix])
    errors = [json.loads(ln)["error"] for ln in r.stdout.splitlines()]
    assert errors[1] == "the line is not UTF-8"
    assert all("--product 'outlook' matches no article" in e for e in errors[0::2]) and len(errors) == 3


def test_stats_lists_what_the_filters_take(seed_kb, seed_index):
    st = seed_kb.stats()
    assert st["issue_types"] == {"kbbug": 2}
    assert st["keywords"]["kbbug"] == 2 and "kbsms200bug" in st["keywords"]
    assert st["dates"] == {"first": "2001-08-09", "last": "2002-08-06"}
    r = CliRunner().invoke(cli, ["stats", "--index", str(seed_index)])
    assert "Issue types (--keyword):" in r.stdout and "Keywords (--keyword)" in r.stdout and "kbsms200bug" in r.stdout


def test_an_empty_filter_in_the_cli_is_one_line(seed_index):
    r = CliRunner().invoke(cli, ["file", "--keyword", "kbbugg", "--index", str(seed_index)])
    assert r.exit_code == 1
    assert r.output.strip() == ("Error: --keyword 'kbbugg' matches no article; closest: kbbug; "
                                "'kbsearch stats' lists them")


# --- snippets -----------------------------------------------------------------

def test_a_snippet_is_never_the_title_nor_a_citation(seed_kb):
    from kbsearch.article import parse_article

    art = parse_article(_kb_article(910001, "XADM: Mailbox Cannot Be Moved", {
        "SYMPTOMS": "When you move a mailbox, the move stops.",
        "MORE INFORMATION": "For more information, click the article number below to view the article:\n\n"
                            "   Q100001 XADM: Mailbox Cannot Be Moved Between Sites",
    }).encode())
    names = [n for n, _ in snippet_sections(art)]
    assert "title" not in names
    snip = make_snippet(snippet_sections(art), {"xadm", "mailbox", "move"})
    assert snip.text == "When you move a mailbox, the move stops."
    for h in seed_kb.search("windows nt sms clients produce nt event 3031", limit=2):
        assert h.snippet != h.title and not h.title.startswith(h.snippet)


def test_a_snippet_does_not_cut_at_an_abbreviation():
    text = "An application stops and one of the following Dr. Watson messages may appear. Then it quits."
    snip = make_snippet([("symptoms", text)], {"watson"})
    assert snip.text == "An application stops and one of the following Dr. Watson messages may appear."


def test_a_long_snippet_is_cut_at_a_word():
    text = "The spooler " + " ".join(f"word{i}" for i in range(60)) + " printer stops."
    snip = make_snippet([("symptoms", text)], {"printer"}, width=80)
    body = snip.text.strip("… ")
    assert all(w.startswith("word") or w in ("printer", "stops.", "The", "spooler") for w in body.split())
