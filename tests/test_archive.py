"""Integration tests on the full archive in ../shared (indexed once per session)."""

import json

import pytest
from click.testing import CliRunner

from kbsearch.cli import cli
from kbsearch.errors import KBSearchError

pytestmark = pytest.mark.archive


def ids(kb, text, **kw):
    return [h.id for h in kb.search(text, **kw)]


def test_whole_archive_is_indexed(archive_kb):
    st = archive_kb.stats()
    assert st["articles"] == 56989
    assert st["products"]["Microsoft Windows NT"] > 5000
    assert sum(st["products"].values()) == 56989


def test_redirector_unable_to_delete(archive_kb):
    assert ids(archive_kb, "redirector unable to delete")[0] == "Q168845"


def test_client_lkp_error_32(archive_kb):
    assert "Q280515" in ids(archive_kb, "client.lkp not updated error 32", limit=3)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("event 3031", "Q168845"),
        ("Win32 Error = 32 client.lkp", "Q280515"),
        ('"redirector was unable to delete the file"', "Q168845"),
    ],
)
def test_more_seed_queries(archive_kb, text, expected):
    assert expected in ids(archive_kb, text, limit=5)


def test_article_number_query(archive_kb):
    assert ids(archive_kb, "KB280515")[0] == "Q280515"


def test_filters_on_archive(archive_kb):
    hits = archive_kb.search("printer prints garbage", product="winnt", limit=20)
    assert hits
    for h in hits:
        art = archive_kb.get(h.id)
        assert art.tag == "winnt" or "winnt" in [p.lower() for p in art.platforms]
    hits = archive_kb.search("printer", version="3.51", limit=20)
    assert hits and all("3.51" in h.versions for h in hits)


def test_cp1252_article_reads_back(archive_kb):
    art = archive_kb.get("Q154452")
    assert art.encoding == "cp1252"
    assert "\u2019" in art.text
    assert "\ufffd" not in art.title


def test_every_archive_file_parses(archive_dir):
    from kbsearch.ingest import read_article

    files = sorted(archive_dir.glob("*/*.TXT"))
    assert len(files) == 56989
    # A sample across the archive, field by field sanity.
    for f in files[::97]:
        a = read_article(str(f))
        assert a.id == f.stem.upper()
        assert a.title
        assert a.date is not None


def test_cli_on_archive(archive_index):
    r = CliRunner().invoke(cli, ["redirector unable to delete", "--json", "--index", str(archive_index)])
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert data["hits"][0]["id"] == "Q168845"
    assert data["total"] > 100


# Dev-split relevance floors, a little under the level measured when they
# were set (errmsg every third query 0.906, full files: errmsg 0.900, xref
# 0.661, symptom 0.960, symptom2 0.937 MRR@10; the symptom files have 60 and
# 143 queries, so their floors leave room for two or three).
FLOORS = {"dev-errmsg.jsonl": 0.89, "dev-xref.jsonl": 0.655, "dev-symptom.jsonl": 0.93,
          "dev-symptom2.jsonl": 0.92}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_dev_relevance_does_not_drop(archive_kb, name):
    from .conftest import SHARED
    from kbsearch.evaluate import evaluate, load_judgments

    path = SHARED / "eval" / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    judgments = load_judgments(path)
    if name == "dev-errmsg.jsonl":
        judgments = judgments[::3]  # a fixed third keeps the run short

    def rank(q, k, exclude):
        return [h.id for h in archive_kb.search(q, limit=k, exclude=exclude)]

    scores = evaluate(rank, judgments, name)
    assert scores.mrr >= FLOORS[name], scores.to_dict()


def test_asking_for_more_hits_never_reorders_the_first_ones(archive_kb):
    # The lead cover and the subject prior re-order a fixed top ten, so the
    # first page is the same at any limit (it was not for 16% of dev
    # queries at limit 30 before).
    from .conftest import SHARED

    queries = []
    for name, every in (("dev-xref.jsonl", 6), ("dev-symptom.jsonl", 1)):
        path = SHARED / "eval" / name
        if not path.exists():
            pytest.skip(f"{path} is absent")
        lines = path.read_text(encoding="utf-8").splitlines()[::every]
        queries += [json.loads(line)["query"] for line in lines]
    for q in queries:
        first = ids(archive_kb, q, limit=10)
        assert ids(archive_kb, q, limit=3) == first[:3], q
        assert ids(archive_kb, q, limit=30)[:10] == first, q


@pytest.mark.parametrize("text", ["print* spooler", "event 3031 -sms", "stop 0x0000000A ntoskrnl*"])
def test_a_query_in_whoosh_syntax_scores_its_first_hits_the_same_at_any_limit(archive_kb, text):
    # Whoosh's top-N shortcuts under-scored matches found after the top N
    # filled up, so these three re-ordered their first ten at limit 30.
    first = [(h.id, round(h.score, 6)) for h in archive_kb.search(text, limit=10)]
    assert len(first) == 10
    assert [(h.id, round(h.score, 6)) for h in archive_kb.search(text, limit=30)][:10] == first
    assert archive_kb.results(text, limit=10).total == archive_kb.results(text, limit=30).total


def test_facets_count_every_match_on_the_archive(archive_kb):
    res = archive_kb.results("wins replication", facets=True)
    assert sum(res.facets["year"].values()) == res.total > 1000
    assert next(iter(res.facets["product"])) == "Microsoft Windows NT"
    narrowed = archive_kb.results("wins replication", facets=True, since="2001", product="winnt")
    assert set(narrowed.facets["year"]) == {"2001", "2002"}
    # winnt is a tag and a PROD/VER platform: articles of other products run on it too
    assert sum(narrowed.facets["product"].values()) == narrowed.total
    assert sum(narrowed.facets["year"].values()) == narrowed.total


def test_a_product_the_archive_files_elsewhere_points_to_its_keywords(archive_kb):
    with pytest.raises(KBSearchError, match=r"--product 'outlook' matches no article; .*--keyword.*kboutlook"):
        archive_kb.search("printer", product="outlook")


def test_snippets_on_the_archive_are_never_the_title(archive_kb):
    for q in ("wins replication", "dr watson", "redirector unable to delete", "XADM mailbox"):
        for h in archive_kb.search(q, limit=10):
            assert h.snippet and h.snippet.strip(" …") != h.title.strip() and not h.title.startswith(h.snippet)


def test_typos_are_corrected_on_the_archive(archive_kb):
    res = archive_kb.results("redirecter unable to delet")
    assert res.corrected == "redirector unable to delete"
    assert "Q168845" in [h.id for h in res.hits]
    assert res.hits[0].id == "Q168845"
    res = archive_kb.results("exchnage server wont start")
    assert res.corrected == "exchange server wont start"
    assert all("Exchange" in h.product for h in res.hits[:5])
    exact = archive_kb.results("exchnage server wont start", exact=True)
    assert exact.corrected is None and exact.suggestion == "exchange server wont start"


def test_clean_queries_are_not_corrected_on_the_archive(archive_kb):
    for q in ("redirector unable to delete", "client.lkp not updated error 32", "0x0000000a perfctrs.dll iis4",
              "wins nt4 dhcp server service dies"):
        assert archive_kb.results(q).corrected is None


def test_what_users_typed_on_the_archive(archive_kb):
    # A pasted STOP message: the two articles with its code come first.
    pasted = ("STOP: c0000218 {Registry File Failure} The registry cannot load the hive (file): "
              "\\SystemRoot\\System32\\Config\\SOFTWARE")
    assert "Q128254" in [h.id for h in archive_kb.search(pasted, limit=3)]
    # The expansions of nt4 and sp3 do not drown "printer".
    assert all("print" in h.title.lower() for h in archive_kb.search("printer freezes nt4 sp3", limit=3))
    # Distinctive words that match nothing are named.
    res = archive_kb.results("no such thingamajig zzzqqq")
    assert res.unmatched == ["thingamajig", "zzzqqq"]
    # Words typed apart that the archive writes as one: "mind maze" is MindMaze.
    assert all("MindMaze" in h.title for h in archive_kb.search("mind maze player file invalid", limit=3))
    # A file name whose name alone articles write is not an exact token.
    assert archive_kb.search("rc.exe can't find include files", explain=True)[0].breakdown.factor("exact").applied is False


def test_pruned_first_pass_ranks_dev_queries_as_exhaustive_scoring(archive_index):
    # Issue 31: the pruned first pass keeps the top 10 of scoring every
    # match for at least 99% of dev queries (all of them when measured:
    # ties at the 100th first-pass score are the only way to differ).
    from dataclasses import replace

    from kbsearch import KnowledgeBase
    from kbsearch.ranking import DEFAULT

    from .conftest import SHARED

    queries = []
    for name, every in (("dev-errmsg.jsonl", 12), ("dev-xref.jsonl", 4), ("dev-symptom.jsonl", 1),
                        ("dev-symptom2.jsonl", 2)):
        path = SHARED / "eval" / name
        if not path.exists():
            pytest.skip(f"{path} is absent")
        queries += [json.loads(line)["query"] for line in path.read_text(encoding="utf-8").splitlines()[::every]]
    with KnowledgeBase.open(archive_index) as pruned, \
            KnowledgeBase.open(archive_index, ranking=replace(DEFAULT, prune=False)) as every:
        same = sum(ids(pruned, q) == ids(every, q) for q in queries)
    assert same >= 0.99 * len(queries), (same, len(queries))
