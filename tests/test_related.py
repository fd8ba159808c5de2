"""``KnowledgeBase.related`` and ``kbsearch related``: what an article cites,
what cites it, and the articles about the same problem; the ``Cited by``
line of ``show``."""

import json

import pytest

from kbsearch import KnowledgeBase
from kbsearch.errors import KBSearchError

from .test_search import _index_articles

REFERENCES = ("For more information, see the following articles in the Microsoft Knowledge Base:\n\n"
              "   Q700003 An Older Title for Redirector Logging\n"
              "   Q799999 Redirector Fixes in a Service Pack Not in This Index\n"
              "   Q700002 Event Log Fills Up")
REDIRECTOR = ("The following event is logged:\n\n"
              "   The redirector was unable to delete the file specified on server\n"
              "   SRV1 when it was closed by the application.\n\n"
              "Clients otherwise work as expected.")


@pytest.fixture
def graph(tmp_path):
    """Q700001 cites Q700003, Q799999 (not indexed) and Q700002, in that
    order; Q700004 also cites Q700002. Q700001 and Q700005 show the same
    redirector message; Q700006 shares only everyday words with them."""
    return _index_articles(tmp_path, {
        700001: ("Event 3031 When SMS Clients Log On", {"SYMPTOMS": REDIRECTOR, "MORE INFORMATION": REFERENCES}),
        700002: ("Event Log Is Full Message Appears at Startup", {
            "SYMPTOMS": "The event log fills up and a message appears when you start the computer."}),
        700003: ("How to Turn On Redirector Logging", {
            "SUMMARY": "This article describes how to log what the redirector does."}),
        700004: ("Event Log Size Cannot Be Changed", {
            "SYMPTOMS": "You cannot change the size of the event log.",
            "MORE INFORMATION": "For more information, see the following article in the Microsoft Knowledge Base:"
                                "\n\n   Q700002 Event Log Is Full Message Appears at Startup"}),
        700005: ("Remote Event Viewer Logs Warning 3031", {"SYMPTOMS": REDIRECTOR.replace("SRV1", "SKYMAN1")}),
        700006: ("Clients Cannot Delete Files on a Server", {
            "SYMPTOMS": "When clients delete a file on the server, the application reports that it was closed."}),
    })


def test_cites_in_the_articles_order_with_the_indexes_titles(graph):
    with KnowledgeBase.open(graph) as kb:
        rel = kb.related("Q700001")
    assert rel.id == "Q700001" and rel.title == "Event 3031 When SMS Clients Log On"
    assert [(c.id, c.title, c.indexed) for c in rel.cites] == [
        ("Q700003", "How to Turn On Redirector Logging", True),  # the index's title, not the citation's older one
        ("Q799999", "Redirector Fixes in a Service Pack Not in This Index", False),  # the citation's own
        ("Q700002", "Event Log Is Full Message Appears at Startup", True),
    ]
    assert rel.cited_by == []


def test_cited_by_lists_the_articles_that_cite_it(graph):
    with KnowledgeBase.open(graph) as kb:
        rel = kb.related("700002")
        assert [(c.id, c.title) for c in rel.cited_by] == [
            ("Q700001", "Event 3031 When SMS Clients Log On"), ("Q700004", "Event Log Size Cannot Be Changed")]
        assert [c.id for c in kb.cited_by("KB700002")] == ["Q700001", "Q700004"]
        assert kb.cited_by("Q700005") == []


def test_similar_ranks_the_article_about_the_same_problem_first_and_leaves_itself_out(graph):
    with KnowledgeBase.open(graph) as kb:
        for aid, other in (("Q700001", "Q700005"), ("Q700005", "Q700001")):
            sim = kb.related(aid).similar
            assert sim[0].id == other
            assert aid not in [s.id for s in sim]
            assert all(a.score >= b.score > 0 for a, b in zip(sim, sim[1:]))
            # Q700006 shares only everyday words with it
            assert "Q700006" not in [s.id for s in sim] or sim[[s.id for s in sim].index("Q700006")].score < sim[0].score / 2
        assert len(kb.related("Q700001", limit=1).similar) == 1
        assert kb.related("Q700001", limit=0).similar == []


def test_to_dict_is_json_ready(graph):
    with KnowledgeBase.open(graph) as kb:
        d = kb.related("Q700001", limit=2).to_dict()
    assert set(d) == {"id", "title", "cites", "cited_by", "similar"}
    assert d["cites"][1] == {"id": "Q799999", "title": "Redirector Fixes in a Service Pack Not in This Index",
                             "indexed": False}
    assert d["cites"][0]["indexed"] is True
    assert set(d["similar"][0]) == {"id", "title", "score"} and d["similar"][0]["id"] == "Q700005"
    json.dumps(d)


@pytest.mark.parametrize("aid, message", [("Q712345", "article Q712345 is not in the index"),
                                          ("printer", "not an article id: 'printer'")])
def test_unknown_article_is_an_error(graph, aid, message):
    with KnowledgeBase.open(graph) as kb:
        with pytest.raises(KBSearchError, match=message):
            kb.related(aid)
        with pytest.raises(KBSearchError, match=message):
            kb.cited_by(aid)


@pytest.mark.archive
def test_archive_similar_finds_the_other_event_3031_article(archive_kb):
    rel = archive_kb.related("Q168845")
    assert "Q165697" in [s.id for s in rel.similar[:5]]
    assert "Q168845" not in [s.id for s in rel.similar]


@pytest.mark.archive
def test_archive_cited_by_matches_the_cites_query(archive_kb):
    # the service pack article most articles point to: every citing article, live, once
    citing = archive_kb.cited_by("Q152734")
    assert len(citing) == len({c.id for c in citing}) == archive_kb.results("cites:Q152734").total > 1000


def test_similar_benchmark_scores_the_groups_and_times_related(graph, tmp_path):
    import subprocess
    import sys

    from .conftest import REPO

    judgments = tmp_path / "groups.jsonl"
    lines = [{"query": "redirector unable to delete", "relevant": ["Q700005", "Q700001"], "exclude": []},
             {"query": "the redirector was unable", "relevant": ["Q700001", "Q700005"], "exclude": []},  # same group
             {"query": "event log full", "relevant": ["Q700002"], "exclude": []},  # one article: no group
             {"query": "event log", "relevant": ["Q700002", "Q712345"], "exclude": []}]  # one indexed member
    judgments.write_text("".join(json.dumps(j) + "\n" for j in lines))
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "similar.py"), "--index", str(graph),
                        "--judgments", str(judgments), "--sample", "3"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    row = r.stdout.splitlines()[-1].strip("|").split("|")
    assert [c.strip() for c in row[:5]] == ["2", "2", "1.000", "1.000", "1.000"]
    assert float(row[5]) > 0
    bad = subprocess.run([sys.executable, str(REPO / "benchmarks" / "similar.py"), "--index", str(graph),
                          "--judgments", str(tmp_path / "absent.jsonl")], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        f"error: cannot read {tmp_path / 'absent.jsonl'}: No such file or directory"]


def test_an_article_without_symptoms_is_described_by_its_summary(tmp_path):
    # Titles alone point to Q720003; the summaries say both are about dumpster retention.
    ix = _index_articles(tmp_path, {
        720001: ("How to Change a Setting on the Server", {
            "SUMMARY": "This article describes how to set the deleted item retention period of the dumpster\n"
                       "on the private information store."}),
        720002: ("Mailbox Options Explained", {
            "SUMMARY": "The dumpster keeps deleted items for the retention period you set on the private\n"
                       "information store."}),
        720003: ("How to Change a Setting on the Server Console", {
            "SUMMARY": "This article lists the keyboard shortcuts of the console."}),
        # everyday title words, as in the archive
        **{720010 + i: (f"How to Change the {w} Setting on the Server", {"SUMMARY": f"The {w} setting explained."})
           for i, w in enumerate(("Modem", "Printer", "Display", "Network", "Sound", "Mouse"))},
    })
    with KnowledgeBase.open(ix) as kb:
        assert [s.id for s in kb.related("Q720001").similar][0] == "Q720002"


# --- the command line ---------------------------------------------------

def run(*args):
    from click.testing import CliRunner

    from kbsearch.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_cli_related_text(graph):
    r = run("related", "KB700001", "--index", graph)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[:5] == ["Q700001  Event 3031 When SMS Clients Log On",
                         "cites     Q700003  How to Turn On Redirector Logging",
                         "cites     Q799999  Redirector Fixes in a Service Pack Not in This Index  (not indexed)",
                         "cites     Q700002  Event Log Is Full Message Appears at Startup",
                         "cited by  none"]
    assert lines[5].startswith("similar   Q700005  Remote Event Viewer Logs Warning 3031  ")
    assert all(line.startswith("similar   Q7") for line in lines[5:]) and len(lines) > 6


def test_cli_related_json_and_limit(graph):
    r = run("related", "700002", "--json", "--limit", "1", "--index", graph)
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["id"] == "Q700002"
    assert [c["id"] for c in d["cited_by"]] == ["Q700001", "Q700004"]
    assert len(d["similar"]) == 1 and d["similar"][0]["id"] != "Q700002"


def test_cli_related_cited_by_text_stops_at_the_limit(graph):
    r = run("related", "Q700002", "-n", "1", "--index", graph)
    assert "\ncited by  Q700001  Event 3031 When SMS Clients Log On\n" \
           "cited by  ... and 1 more (--json lists them all)\n" in r.output
    r = run("related", "Q700002", "-n", "0", "--index", graph)
    assert r.output.splitlines()[-2:] == ["cited by  ... and 2 more (--json lists them all)", "similar   none"]


def test_cli_related_unknown_article_is_one_line(graph):
    from click.testing import CliRunner

    from kbsearch.cli import cli

    r = CliRunner().invoke(cli, ["related", "Q712345", "--index", str(graph)])
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [f"Error: article Q712345 is not in the index at {graph}"]


def test_show_ends_with_the_cited_by_line(graph, tmp_path):
    r = run("show", "Q700002", "--index", graph)
    assert r.exit_code == 0
    assert r.output.startswith("DOCUMENT:Q700002")
    assert r.output.endswith("\n\nCited by 2: Q700001, Q700004\n")
    assert run("show", "Q700001", "--index", graph).output.endswith("\nCited by 0.\n")
    d = json.loads(run("show", "Q700002", "--json", "--index", graph).output)
    assert d["cited_by"] == [{"id": "Q700001", "title": "Event 3031 When SMS Clients Log On"},
                             {"id": "Q700004", "title": "Event Log Size Cannot Be Changed"}]


def test_show_names_the_first_five_citing_articles_then_how_many_more(tmp_path):
    cite = ("For more information, see the following article in the Microsoft Knowledge Base:\n\n"
            "   Q710000 Printer Ports Are Lost")
    ix = _index_articles(tmp_path, {
        710000: ("Printer Ports Are Lost", {"SYMPTOMS": "Printer ports are lost after an upgrade."}),
        **{710000 + i: (f"Printer Problem Number {i}", {"SYMPTOMS": "The printer fails.", "MORE INFORMATION": cite})
           for i in range(1, 8)}})
    r = run("show", "710000", "--index", ix)
    assert r.output.splitlines()[-1] == "Cited by 7: Q710001, Q710002, Q710003, Q710004, Q710005 and 2 more"
