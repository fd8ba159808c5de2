"""The benchmark scripts that make or read judgments and scores: the
judgment generators (citations.py, fragments.py), run on a small archive
written here; heldout.py; relevance.py's per-query scores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

BENCH = REPO / "benchmarks"


def article(q: int, title: str, body: str, section: str = "MORE INFORMATION") -> str:
    return (f"DOCUMENT:Q{q}  01-JAN-2000  [x]\nTITLE   :{title}\n\n"
            f"{section}\n{'=' * len(section)}\n\n{body}\n")


def cite(topic: str, *targets: int) -> str:
    many = len(targets) > 1
    head = (f"For more information about {topic}, click the article number{'s' if many else ''} below "
            f"to view the article{'s' if many else ''} in the Microsoft Knowledge Base:")
    return head + "\n\n" + "\n".join(f"   Q{t} Some Title of {t}" for t in targets) + "\n\n"


ARCHIVE = {
    # Q100001 gives Q100002 a topic, Q100003 one that only points back, and
    # Q100008 one (but Q100008 is left out below); Q999999 is not in the archive.
    100001: article(100001, "Widget Replication Fails", cite("configuring widget replication", 100002)
                    + cite("this problem", 100003) + cite("left-out gadgets", 100008)
                    + cite("missing articles", 999999)),
    # the same topic (another letter case) and a second one for Q100002
    100004: article(100004, "Widget Logs Grow", cite("Configuring Widget Replication", 100002)
                    + cite("widget logs", 100002)),
    # one topic given to two articles at once names neither alone
    100005: article(100005, "Gadget Overview", cite("the gadget family", 100006, 100007)),
    # a topic Q100004 also gives Q100002, given to another article
    100010: article(100010, "Gadget Logs Grow", cite("Widget logs", 100011)),
    **{q: article(q, f"Article {q}", "Nothing cited here.")
       for q in (100002, 100003, 100006, 100007, 100008, 100011)},
}


@pytest.fixture
def archive(tmp_path) -> Path:
    d = tmp_path / "txt" / "100"
    d.mkdir(parents=True)
    for q, text in ARCHIVE.items():
        (d / f"Q{q}.TXT").write_text(text.replace("\n", "\r\n"), encoding="utf-8")
    return tmp_path / "txt"


@pytest.fixture
def leave_out(tmp_path) -> Path:
    p = tmp_path / "dev.jsonl"
    p.write_text(json.dumps({"query": "q", "relevant": ["Q100008"], "exclude": ["Q100009"]}) + "\n")
    return p


def run(script: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / script), *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def judgments(path: Path) -> list[tuple[str, list[str], list[str]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return sorted((r["query"].lower(), r["relevant"], r["exclude"]) for r in rows)


def test_citations_one_per_cited_article(archive, leave_out, tmp_path):
    out = tmp_path / "cit.jsonl"
    r = run("citations.py", "--archive", archive, "--leave-out", leave_out, "--out", out, "--procs", 1)
    assert r.returncode == 0, r.stderr
    rows = judgments(out)
    # only Q100002 and Q100011 qualify: Q100003's topic points back, Q100006/7
    # share theirs, Q100008 is left out, Q999999 is not in the archive
    assert len(rows) == 2
    assert ("widget logs", ["Q100011"], ["Q100010"]) in rows
    (query, relevant, exclude), = [r for r in rows if r[1] == ["Q100002"]]
    assert (query, exclude) in [("configuring widget replication", ["Q100001"]),
                                ("configuring widget replication", ["Q100004"]),
                                ("widget logs", ["Q100004"])]


def test_citations_every_topic_as_the_dev_file_is_made(archive, leave_out, tmp_path):
    out = tmp_path / "cit.jsonl"
    r = run("citations.py", "--archive", archive, "--leave-out", leave_out, "--out", out,
            "--every-topic", "--procs", 1)
    assert r.returncode == 0, r.stderr
    rows = judgments(out)
    # one judgment per distinct topic (letter case aside), from one of its
    # sources, and no topic twice in the file: "widget logs" is given to
    # Q100002 and to Q100011, and asked once, for one of them
    assert [q for q, _, _ in rows] == ["configuring widget replication", "widget logs"]
    assert rows[0][1:] in [(["Q100002"], ["Q100001"]), (["Q100002"], ["Q100004"])]
    assert rows[1][1:] in [(["Q100002"], ["Q100004"]), (["Q100011"], ["Q100010"])]


def test_citations_without_leave_out_uses_every_article(archive, tmp_path):
    out = tmp_path / "cit.jsonl"
    assert run("citations.py", "--archive", archive, "--out", out, "--procs", 1).returncode == 0
    assert {rel[0] for _, rel, _ in judgments(out)} == {"Q100002", "Q100008", "Q100011"}


def test_fragments_shown_and_quoted(tmp_path):
    d = tmp_path / "txt"
    d.mkdir()
    sym = ('When you start the widget service, you receive the error message "The spindle '
           'controller did not answer in time" and then:\n\n   Widget error 1234 stopped the service now.\n')
    for q in (100010, 100011):
        (d / f"Q{q}.TXT").write_text(article(q, "Widget Service Stops", sym, "SYMPTOMS"), encoding="utf-8")
    (d / "Q100012.TXT").write_text(article(100012, "Other", "Nothing quoted.", "SYMPTOMS"), encoding="utf-8")
    for kind, words in (("shown", "widget error 1234 stopped the service now"),
                        ("quoted", "the spindle controller did not answer in time")):
        out = tmp_path / f"{kind}.jsonl"
        r = run("fragments.py", kind, "--archive", d, "--out", out, "--n", 5)
        assert r.returncode == 0, r.stderr
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert rows, kind
        for row in rows:
            # a fragment of the message, relevant wherever SYMPTOMS has it
            assert row["query"].lower() in words
            assert sorted(row["relevant"]) == ["Q100010", "Q100011"]


@pytest.mark.parametrize("script, args, message", [
    ("citations.py", ["--leave-out", "{tmp}/absent.jsonl"], "absent.jsonl"),
    ("citations.py", ["--archive", "{tmp}/no-such-folder"], "no-such-folder"),
    ("fragments.py", ["shown", "--leave-out", "{tmp}/absent.jsonl"], "absent.jsonl"),
])
def test_generators_bad_input_is_one_line(archive, tmp_path, script, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    if "--archive" not in args:
        args += ["--archive", str(archive)]
    r = run(script, *args, "--out", tmp_path / "out.jsonl")
    assert r.returncode == 1
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


# --- heldout.py ------------------------------------------------------------------

def bench_module(name: str):
    """A script of benchmarks/ imported as a module (they import ``peers`` as a sibling)."""
    import importlib

    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
def heldout():
    return bench_module("heldout")


def test_matching_weights_leave_a_file_alone_when_the_figures_are_its_own(heldout):
    import numpy as np

    rr = np.array([[1.0, 0.5], [0.0, 1.0], [0.5, 0.0], [1.0, 1.0]])
    w = heldout.matching_weights(rr, rr.mean(axis=0))
    assert np.allclose(w, 0.25)


def test_matching_weights_make_the_peers_score_the_figures(heldout):
    import numpy as np

    rng = np.random.default_rng(1)
    rr = rng.choice([0.0, 0.25, 0.5, 1.0], size=(400, 2))
    w = heldout.matching_weights(rr, np.array([0.3, 0.6]))
    assert np.allclose(w @ rr, [0.3, 0.6], atol=1e-6)
    assert w.min() > 0 and np.isclose(w.sum(), 1.0)
    with pytest.raises(ValueError, match="no weighting"):
        heldout.matching_weights(rr, np.array([1.2, 0.5]))


def per_query_file(path: Path, rows: dict[str, list[float]], name: str = "dev-x.jsonl") -> Path:
    with open(path, "w") as f:
        for system, rrs in rows.items():
            for i, rr in enumerate(rrs):
                f.write(json.dumps({"judgments": name, "system": system, "query": f"q{i}", "rr": rr}) + "\n")
    return path


def test_heldout_reweights_kbsearch_where_the_peers_are_harder(tmp_path):
    # kbsearch fails exactly where the peer fails: asking the peer to score
    # less must take kbsearch down with it
    peer = [1.0] * 6 + [0.0] * 4
    f = per_query_file(tmp_path / "rr.jsonl", {"kbsearch": [1.0] * 6 + [0.0] * 4, "whoosh": peer})
    r = run("heldout.py", f, "--at", "dev-x.jsonl", "whoosh=0.3")
    assert r.returncode == 0, r.stderr
    row = [c.strip() for c in r.stdout.splitlines()[2].strip("|").split("|")]
    assert row[:3] == ["dev-x.jsonl", "10", "0.600"]
    assert row[3] == "whoosh 0.600 → 0.300"
    assert row[4] == "0.300"


def test_heldout_prints_the_spread_and_each_peer_predicted_from_the_others(tmp_path):
    # tantivy fails where whoosh fails: weights that make whoosh score 0.3
    # must predict 0.3 for tantivy too, and the other way round
    peer = [1.0] * 6 + [0.0] * 4
    kbsearch = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    f = per_query_file(tmp_path / "rr.jsonl", {"kbsearch": kbsearch, "whoosh": peer, "tantivy": peer})
    r = run("heldout.py", f, "--at", "dev-x.jsonl", "whoosh=0.3", "tantivy=0.3")
    assert r.returncode == 0, r.stderr
    row = [c.strip() for c in r.stdout.splitlines()[2].strip("|").split("|")]
    assert float(row[5]) > 0.05  # ten queries: a wide spread
    assert row[7] == "whoosh 0.300 (0.300), tantivy 0.300 (0.300)"
    r = run("heldout.py", f, "--at", "dev-x.jsonl", "whoosh=0.3", "--bootstrap", "0")
    row = [c.strip() for c in r.stdout.splitlines()[2].strip("|").split("|")]
    assert (row[5], row[7]) == ("—", "—")  # no resampling; one peer has no others


def test_bootstrap_spread_is_nil_for_a_constant_and_shrinks_with_more_queries(heldout):
    import numpy as np

    rng = np.random.default_rng(2)
    rr = rng.choice([0.0, 1.0], size=(400, 1))
    assert heldout.bootstrap_sd(np.ones(400), rr, np.array([0.4]), 50) == pytest.approx(0.0, abs=1e-12)
    kb = rng.choice([0.0, 1.0], size=400)
    small = heldout.bootstrap_sd(kb[:100], rr[:100], np.array([0.5]), 100)
    large = heldout.bootstrap_sd(kb, rr, np.array([0.5]), 100)
    assert 0 < large < small


@pytest.mark.parametrize("args, message", [
    (["--at", "other.jsonl", "whoosh=0.3"], "no queries from other.jsonl"),
    (["--at", "dev-x.jsonl", "sqlite-fts5=0.3"], "no sqlite-fts5 scores"),
    (["--at", "dev-x.jsonl", "whoosh=high"], "want PEER=MRR"),
    (["--at", "dev-x.jsonl", "whoosh=1.5"], "no weighting"),
])
def test_heldout_bad_input_is_one_line(tmp_path, args, message):
    f = per_query_file(tmp_path / "rr.jsonl", {"kbsearch": [1.0, 0.0], "whoosh": [0.5, 0.0]})
    r = run("heldout.py", f, *args)
    assert r.returncode == 1 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_relevance_per_query_file_it_cannot_write_is_one_line(tmp_path):
    # refused before any index is built or opened
    r = run("relevance.py", "--index", tmp_path / "ix", "--archive", tmp_path,
            "--per-query", tmp_path / "no-such-folder" / "rr.jsonl")
    assert r.returncode == 1
    assert "cannot write" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "ix").exists()


def test_relevance_per_query_refuses_two_files_of_one_name(tmp_path):
    # heldout.py reads per-query scores by file name: two files of one name would merge
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "dev-x.jsonl").write_text('{"query": "q", "relevant": ["Q1"]}\n')
    r = run("relevance.py", "--index", tmp_path / "ix", "--archive", tmp_path, "--per-query", tmp_path / "rr.jsonl",
            "--judgments", tmp_path / "a" / "dev-x.jsonl", tmp_path / "b" / "dev-x.jsonl")
    assert r.returncode == 1
    assert "dev-x.jsonl given twice" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "ix").exists() and not (tmp_path / "rr.jsonl").exists()


# --- peers.py --------------------------------------------------------------------

@pytest.fixture
def peers():
    return bench_module("peers")


def test_each_peer_ranks_the_article_whose_title_has_the_words(peers, archive, tmp_path):
    chosen = peers.relevance_peers()
    assert [p.name for p in chosen] == ["sqlite-fts5", "whoosh", "tantivy"]
    builds = peers.ensure_peers(chosen, tmp_path / "work", [str(archive)])
    assert {name: cached for name, (_, cached) in builds.items()} == dict.fromkeys(builds, False)
    for p in chosen:
        with p.ranker(p.index_path(tmp_path / "work")) as rank:
            assert rank("gadget logs", 3)[0] == "Q100010", p.name
            assert rank("replication FAILS", 3)[0] == "Q100001", p.name
            # no engine's query syntax survives: operators and quotes are words or nothing
            assert rank('NOT "gadget" OR overview: +family -(x', 3)[0] == "Q100005", p.name
            # no words: nothing found, or the one-line error the evaluation counts
            try:
                found = rank('" -- "', 3)
            except peers.KBSearchError as e:
                found = str(e)
            assert found in ([], "no words in '\" -- \"'"), p.name
    again = peers.ensure_peers(chosen, tmp_path / "work", [str(archive)])
    assert all(cached for _, cached in again.values())


def test_without_tantivy_the_table_has_the_two_peers_and_says_why(peers, monkeypatch, capsys):
    monkeypatch.setattr(peers, "tantivy_installed", lambda: False)
    assert [p.name for p in peers.relevance_peers()] == ["sqlite-fts5", "whoosh"]
    assert "tantivy is not installed" in capsys.readouterr().err


@pytest.mark.parametrize("query, text", [
    ("Win32 Error = 32", "win32 error 32"),
    ('"client.lkp" AND NOT IN', "client lkp and not in"),
    ("perfctrs.dll +x -y field:value", "perfctrs dll x y field value"),
    ("--", ""),
])
def test_tantivy_query_text_keeps_words_and_drops_syntax(peers, query, text):
    assert peers.tantivy_query_text(query) == text


# --- typos.py ---------------------------------------------------------------------

def test_typos_puts_one_seeded_edit_in_one_long_word():
    from kbsearch.spelling import _distance

    typos = bench_module("typos")
    seen = set()
    for seed in range(20):
        q = "redirector unable to delete the file on nt4 server"
        t = typos.add_typo(q, seed)
        assert t == typos.add_typo(q, seed)  # the same typo for the same seed
        changed = [(a, b) for a, b in zip(q.split(), t.split()) if a != b]
        assert len(changed) == 1
        a, b = changed[0]
        assert len(a) >= 5 and _distance(a, b, 2) == 1
        seen.add(t)
    assert len(seen) > 5
    assert typos.add_typo("nt4 wins 0x0000000a perfctrs.dll", 1) == "nt4 wins 0x0000000a perfctrs.dll"


def test_typos_script_reports_both_ways(seed_index, tmp_path):
    j = tmp_path / "dev-t.jsonl"
    j.write_text('{"query": "redirector unable to delete", "relevant": ["Q168845"]}\n'
                 '{"query": "client.lkp not updated error 32", "relevant": ["Q280515"], "exclude": ["Q168845"]}\n')
    r = run("typos.py", "--index", seed_index, "--judgments", j, "--seed", 3)
    assert r.returncode == 0, r.stderr
    row = [line for line in r.stdout.splitlines() if "dev-t.jsonl" in line][0]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:4] == ["2", "2", "1.000"]  # queries, with a typo, clean MRR without correction
    assert cells[5] == "+0.000"  # clean queries: the same with correction on


# --- serve.py ---------------------------------------------------------------------

class _FakeApi:
    """A loopback HTTP server answering /api/search as the results document,
    except for the query "boom" (a 500), on keep-alive connections."""

    def __enter__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                q = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
                status, body = (500, b"oops") if q == "boom" else (200, json.dumps(
                    {"query": q, "total": 0, "offset": 0, "hits": []}).encode())
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_serve_clients_count_answers_and_errors():
    serve = bench_module("serve")
    with _FakeApi() as api:
        assert serve.warm_http(api.port, ["a b", "c&d=é"]) == 0
        assert serve.warm_http(api.port, ["a", "boom"]) == 1
        good = serve.over_http(api.port, ["a b", "c&d=é"], clients=3, seconds=0.3)
        assert good.errors == 0 and good.requests == len(good.latencies_ms) > 3
        assert good.qps > 0 and good.p(50) <= good.p(95)
        bad = serve.over_http(api.port, ["a", "boom"], clients=2, seconds=0.3)
        assert bad.errors > 0 and bad.requests == bad.errors + len(bad.latencies_ms)
        assert bad.first_errors[0].startswith("HTTP 500")
    v = serve.verdict(good, [bad])
    assert v["errors"] == bad.errors and not v["pass"]


def test_serve_queries_are_a_seeded_mix_of_every_file(tmp_path):
    serve = bench_module("serve")
    files = []
    for name, n in (("dev-a.jsonl", 30), ("dev-b.jsonl", 10)):
        files.append(tmp_path / name)
        files[-1].write_text("".join(json.dumps({"query": f"{name} {i}", "relevant": ["Q1"]}) + "\n"
                                     for i in range(n)))
    qs = serve.choose_queries(files, 20, seed=1)
    assert qs == serve.choose_queries(files, 20, seed=1) != serve.choose_queries(files, 20, seed=2)
    assert len(qs) == 20 and sum(q.startswith("dev-b") for q in qs) == 5  # each file its share



def test_serve_script_runs_the_server_and_reports(seed_index, tmp_path):
    # a short run of the whole script: in-process, the real `kbsearch serve`, two clients
    j = tmp_path / "dev-s.jsonl"
    j.write_text('{"query": "redirector unable to delete", "relevant": ["Q168845"]}\n'
                 '{"query": "client.lkp not updated error 32", "relevant": ["Q280515"]}\n'
                 '{"query": "\\" -- \\"", "relevant": ["Q280515"]}\n')
    r = run("serve.py", "--index", seed_index, "--judgments", j, "--seconds", 0.6, "--clients", 2, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["queries"] == 2  # the query without words is left out
    assert [(x["mode"], x["clients"]) for x in doc["runs"]] == [("in-process", 1), ("HTTP", 1), ("HTTP", 2)]
    assert doc["errors"] == 0 and all(x["ok"] > 0 for x in doc["runs"])
    assert doc["ratio"] > 0 and doc["target"] == 0.8


# --- training.py and fit.py ------------------------------------------------------

TRAINING_SYMPTOMS = ("When you start the Widget Manager on a computer running Windows NT, the widget spooler "
                     "stops responding and the flux capacitor log grows without limit. The spindle "
                     "controller reports an unexpected calibration fault.\n")


def test_training_titles_and_symptoms_leave_the_dev_articles_out(tmp_path):
    d = tmp_path / "txt"
    d.mkdir()
    for q in range(100020, 100026):
        (d / f"Q{q}.TXT").write_text(article(q, f"PRB: Widget Spooler {q} Stops Responding After Calibration",
                                             TRAINING_SYMPTOMS, "SYMPTOMS"), encoding="utf-8")
    dev = tmp_path / "dev.jsonl"
    dev.write_text(json.dumps({"query": "q", "relevant": ["Q100020"], "exclude": ["Q100021"]}) + "\n")
    out = tmp_path / "train"
    r = run("training.py", "--archive", d, "--leave-out", dev, "--out-dir", out, "--kinds", "title", "symptom",
            "--n", 10)
    assert r.returncode == 0, r.stderr
    for kind in ("title", "symptom"):
        rows = [json.loads(line) for line in (out / f"train-{kind}.jsonl").read_text().splitlines()]
        assert len(rows) == 4, kind  # the articles the dev file names, relevant or excluded, are not used
        for row in rows:
            assert row["query"] == row["query"].lower() and row["exclude"] == []
            assert row["relevant"][0] not in ("Q100020", "Q100021") and len(row["relevant"]) == 1
            if kind == "title":
                assert "prb" not in row["query"] and row["relevant"][0][1:] in row["query"]
            else:
                assert 5 <= len(row["query"].split()) <= 16


def test_training_title_and_description_rules():
    import random

    training = bench_module("training")
    rng = random.Random(1)
    assert training.title_query("XADM: FIX: Store Stops", rng) == "store stops"
    assert training.title_key("PRB: Store Stops.") == "store stops"
    # a KB phrase becomes one unit of user words, marked as such
    units = training.user_phrasing("the service stops responding".split(), random.Random(0))
    assert len(units) in (3, 4) and all(u for u in units)
    from collections import Counter

    df = Counter({"widget": 1, "spooler": 1, "capacitor": 1, "flux": 2, "computer": 50, "start": 40})
    q = training.describe(TRAINING_SYMPTOMS, "winnt", df, 100, random.Random(2))
    assert q and q == q.lower() and 5 <= len(q.split()) <= 16
    assert q == training.describe(TRAINING_SYMPTOMS, "winnt", df, 100, random.Random(2))  # seeded


def test_fit_dev_halves_are_fixed_and_the_fit_reports_them(seed_index, tmp_path):
    fit = bench_module("fit")
    halves = [fit.dev_half(f"query {i}") for i in range(400)]
    assert halves == [fit.dev_half(f"query {i}") for i in range(400)]
    assert 150 < halves.count("fit") < 250
    assert fit.candidates("title", 0.3, 2.0) == [0.6, 0.15]
    assert fit.candidates("b", 0.75, 2.0) == [1.0, 0.375]  # b stays within its range
    assert fit.candidates("phrase", 0.0, 2.0) == [0.25]
    assert fit.candidates("citations", 0.005, 2.0) == [0.01, 0.0]  # under a tenth of the default: 0
    assert fit.config_expr(fit.parse_config("title=0.6 b=0.5")) == "replace(DEFAULT, b=0.5, title=0.6)"
    train, dev = tmp_path / "train", tmp_path / "dev"
    train.mkdir()
    dev.mkdir()
    (train / "train-title.jsonl").write_text(
        '{"query": "sms clients produce nt event 3031", "relevant": ["Q168845"]}\n'
        '{"query": "client.lkp file is not updated", "relevant": ["Q280515"]}\n')
    (dev / "dev-xref.jsonl").write_text(
        '{"query": "redirector unable to delete", "relevant": ["Q168845"]}\n'
        '{"query": "client.lkp not updated error 32", "relevant": ["Q280515"], "exclude": ["Q168845"]}\n')
    r = run("fit.py", "--index", seed_index, "--train", train, "--dev-dir", dev, "--params", "title",
            "--minutes", 1, "--per-kind", 1, "--rest")
    assert r.returncode == 0, r.stderr
    assert "start objective 1.0000" in r.stderr
    assert "fitted = DEFAULT" in r.stdout  # nothing to gain on two queries the default ranks first
    rows = [line for line in r.stdout.splitlines() if "dev-xref.jsonl" in line]
    assert len(rows) == 2 and "default" in rows[0] and "fitted" in rows[1]
    rest = [line for line in r.stdout.splitlines() if "train-title.jsonl" in line]
    assert len(rest) == 1 and [c.strip() for c in rest[0].strip("|").split("|")][1] == "1"  # the one not sampled


def test_scale_copies_have_their_own_ids_and_cite_each_other(archive, tmp_path):
    from kbsearch.article import parse_file

    r = run("scale.py", "--archive", archive, "--work", tmp_path / "w", "--factor", 3, "--make-only")
    assert r.returncode == 0, r.stderr
    scaled = tmp_path / "w" / "x3"
    files = sorted(scaled.rglob("*.TXT"))
    assert len(files) == 3 * len(ARCHIVE)
    arts = {f.stem: parse_file(str(f)) for f in files}
    assert all(a.id == stem for stem, a in arts.items())  # the file name follows the id
    rows = [line.split("\t") for line in (scaled / "ids.tsv").read_text().splitlines()[1:]]
    assert sorted(r[0] for r in rows) == sorted(f"Q{q}" for q in ARCHIVE)
    assert len({i for r in rows for i in r}) == 3 * len(ARCHIVE)
    for k in (1, 2):
        to_copy = {r[0]: r[k] for r in rows}
        for original, copy in to_copy.items():
            a, b = arts[original], arts[copy]
            assert b.title == a.title
            # cited archive articles become the copy's own; a missing one stays missing
            assert [c.id for c in b.citations] == [to_copy.get(c.id, c.id) for c in a.citations]
    assert "Q999999" in [c.id for c in arts[rows[0][2]].citations]
    again = run("scale.py", "--archive", archive, "--work", tmp_path / "w", "--factor", 3, "--make-only")
    assert again.returncode == 0 and "already made" in again.stderr
