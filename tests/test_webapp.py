"""``kbsearch serve``: the JSON API, the pages, escaping and every error path,
through FastAPI's test client; then a real server process (threads, a
commit picked up while serving, the listening checks)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from html import unescape

import pytest

pytest.importorskip("httpx")  # the test client

from fastapi.testclient import TestClient  # noqa: E402

from kbsearch import KnowledgeBase, ingest  # noqa: E402
from kbsearch.search import MAX_QUERY_CHARS  # noqa: E402
from kbsearch.webapp import create_app  # noqa: E402

from .test_search import _index_articles, _kb_article  # noqa: E402

REDIRECTOR = ("The following event is logged:\n\n"
              "   The redirector was unable to delete the file specified on server\n"
              "   SRV1 when it was closed by the application.\n\n"
              "Clients otherwise work as expected.")
ARTICLES = {
    700001: ("Event 3031 When SMS Clients Log On", {
        "SYMPTOMS": REDIRECTOR,
        "MORE INFORMATION": "Settings\n--------\n\n"
                            "Use <Ctrl> & <Alt> keys; see <script>alert(1)</script> in the log.\n\n"
                            "For more information, see the following articles in the Microsoft Knowledge Base:\n\n"
                            "   Q700003 How to Turn On Redirector Logging\n"
                            "   Q799999 Redirector Fixes Not in This Index"}),
    700003: ("How to Turn On Redirector Logging", {
        "SUMMARY": "This article describes how to log what the redirector does."}),
    700005: ("Remote Event Viewer Logs Warning 3031 <b>bold</b> & more", {
        "SYMPTOMS": REDIRECTOR.replace("SRV1", "SKYMAN1")}),
    **{700100 + i: (f"Printer Driver Fails on Port LPT{i}", {
        "SYMPTOMS": f"The printer driver fails when printing to LPT{i}; the spooler stops."}) for i in range(25)},
}


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    return _index_articles(tmp_path_factory.mktemp("web"), ARTICLES)


@pytest.fixture(scope="module")
def kb(index):
    with KnowledgeBase.open(index) as kb:
        yield kb


@pytest.fixture(scope="module")
def client(kb):
    return TestClient(create_app(kb), raise_server_exceptions=False)


def _hit_ids(html: str) -> list[str]:
    return re.findall(r'class="hit-title" href="/article/(Q\d+)', html)


# --- JSON API -------------------------------------------------------------

def test_api_search_is_the_search_json_document(client, kb):
    r = client.get("/api/search", params={"q": "redirector unable to delete", "limit": 2})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == kb.results("redirector unable to delete", 2).to_dict()
    assert [h["id"] for h in r.json()["hits"]][0] == "Q700001"


def test_api_search_takes_paging_filters_and_facets(client, kb):
    first = client.get("/api/search", params={"q": "printer driver fails", "limit": 5}).json()
    second = client.get("/api/search", params={"q": "printer driver fails", "limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"] == 25 and second["offset"] == 5
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}
    faceted = client.get("/api/search", params={"q": "printer", "facets": "true"}).json()
    assert faceted["facets"]["year"] == {"2000": 25}
    assert client.get("/api/search", params={"q": "printer", "since": "2001"}).status_code == 400  # nothing after
    dated = client.get("/api/search", params={"q": "printer", "since": "2000", "until": "2000-12-31"}).json()
    assert dated["total"] == 25
    assert client.get("/api/search", params={"q": "printer", "facets": "false"}).json().get("facets") is None


@pytest.mark.parametrize("params, message", [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "x" * (MAX_QUERY_CHARS + 1)}, "at most 2000"),
    ({"q": "printer", "limit": 0}, "limit"),
    ({"q": "printer", "limit": 1001}, "limit"),
    ({"q": "printer", "limit": "ten"}, "limit"),
    ({"q": "printer", "offset": -1}, "offset"),
    ({"q": "printer", "since": "2001-13"}, "not a date"),
    ({"q": "printer", "since": "2002", "until": "2001"}, "after"),
    ({"q": "printer", "facets": "maybe"}, "facets"),
    ({"q": "the of and"}, "stop words"),
])
def test_api_search_bad_input_is_a_json_400(client, params, message):
    r = client.get("/api/search", params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["status"] == 400 and message in body["error"] and "Traceback" not in r.text


def test_api_article_is_the_show_json_document(client, kb):
    r = client.get("/api/article/700003")
    assert r.status_code == 200
    assert r.json() == json.loads(json.dumps(kb.article("Q700003").to_dict(), default=str))
    assert r.json()["cited_by"] == [{"id": "Q700001", "title": "Event 3031 When SMS Clients Log On"}]


def test_api_related_and_stats(client, kb):
    rel = client.get("/api/related/Q700001", params={"limit": 3}).json()
    assert rel == kb.related("Q700001", limit=3).to_dict()
    assert [c["id"] for c in rel["cites"]] == ["Q700003", "Q799999"]
    assert client.get("/api/stats").json()["articles"] == len(ARTICLES)
    assert client.get("/api/related/Q700001", params={"limit": -1}).status_code == 400


@pytest.mark.parametrize("path, status", [
    ("/api/article/Q123456", 404), ("/api/related/Q123456", 404),
    ("/api/article/nonsense", 400), ("/api/nope", 404), ("/api/search/x", 404),
])
def test_api_errors_are_json_with_their_status(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json" and r.json()["status"] == status


def test_writing_is_refused(client):
    for method in ("post", "put", "delete", "patch"):
        r = getattr(client, method)("/api/search?q=printer")
        assert r.status_code == 405 and r.json()["error"] == "only GET and HEAD are served"


def test_an_unexpected_failure_is_a_500_without_a_traceback(index, monkeypatch):
    with KnowledgeBase.open(index) as kb:
        monkeypatch.setattr(kb, "results", lambda *a, **k: 1 / 0)
        c = TestClient(create_app(kb), raise_server_exceptions=False)
        api, page = c.get("/api/search?q=printer"), c.get("/?q=printer")
    assert api.status_code == page.status_code == 500
    assert api.json() == {"error": "internal error: the server log has the details", "status": 500}
    assert "ZeroDivisionError" not in api.text + page.text and "Traceback" not in page.text


def test_openapi_describes_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/api/search", "/api/article/{article_id}", "/api/related/{article_id}",
                                  "/api/stats"}
    names = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert names == {"q", "limit", "offset", "product", "version", "keyword", "since", "until", "facets", "exact"}
    # No page that loads scripts from a CDN.
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


# --- pages ----------------------------------------------------------------

def test_search_page_lists_hits_with_snippets_and_facets(client):
    r = client.get("/", params={"q": "redirector unable to delete"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    ids = _hit_ids(r.text)
    assert ids[0] == "Q700001" and set(ids) >= {"Q700001", "Q700005"}
    assert "<mark>redirector</mark>" in r.text
    assert 'value="redirector unable to delete"' in r.text  # the box keeps the query
    assert 'href="/?q=redirector+unable+to+delete&amp;since=2000&amp;until=2000"' in r.text  # a year facet


def test_search_page_pages_and_filters_through_the_url(client):
    first = client.get("/", params={"q": "printer driver fails"}).text
    assert len(_hit_ids(first)) == 10 and "Page 1 of 3" in first
    assert 'rel="next" href="/?q=printer+driver+fails&amp;offset=10"' in first
    third = client.get("/", params={"q": "printer driver fails", "offset": 20}).text
    assert len(_hit_ids(third)) == 5 and "Page 3 of 3" in third and 'rel="next"' not in third
    assert not set(_hit_ids(first)) & set(_hit_ids(third))
    filtered = client.get("/", params={"q": "printer", "keyword": "kbbug"})
    assert "keyword: kbbug" in filtered.text  # the chip that removes it
    assert 'href="/?q=printer"' in filtered.text


def test_search_page_offers_corrections(client):
    r = client.get("/", params={"q": "redirecter unable to delet"}).text
    assert "Showing results for <strong>redirector unable to delete</strong>" in r
    assert _hit_ids(r)[0] == "Q700001"
    exact = client.get("/", params={"q": "redirecter unable to delet", "exact": "1"}).text
    assert "Did you mean" in exact and "redirector unable to delete" in exact


@pytest.mark.parametrize("params, status, message", [
    ({"q": "printer", "offset": "abc"}, 400, "offset must be a number"),
    ({"q": "printer", "offset": "99999999"}, 400, "offset must be between"),
    ({"q": "printer", "since": "2001-13"}, 400, "is not a date"),
    ({"q": "x" * (MAX_QUERY_CHARS + 1)}, 400, "too long"),
    ({"q": "zzzqqqxyz"}, 200, "No articles match"),
])
def test_search_page_bad_input_is_a_page_not_a_traceback(client, params, status, message):
    r = client.get("/", params=params)
    assert r.status_code == status and message in unescape(r.text)
    assert r.headers["content-type"].startswith("text/html") and "Traceback" not in r.text


def test_home_page_without_a_query(client):
    r = client.get("/")
    assert r.status_code == 200 and f"Search {len(ARTICLES)} Microsoft Knowledge Base articles" in r.text


def test_text_from_articles_and_queries_is_escaped(client):
    page = client.get("/", params={"q": '<script>alert("q")</script> remote event viewer'}).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;q&#34;)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page
    article = client.get("/article/Q700001").text
    assert "<script>alert(1)" not in article
    assert "Use &lt;Ctrl&gt; &amp; &lt;Alt&gt; keys; see &lt;script&gt;alert(1)&lt;/script&gt;" in article
    assert "<b>bold</b>" not in client.get("/article/Q700005").text


def test_article_page_reads_as_an_article(client):
    r = client.get("/article/Q700001", params={"q": "redirector"})
    assert r.status_code == 200
    html = r.text
    assert "<h1>Event 3031 When SMS Clients Log On</h1>" in html
    assert "<h2>Symptoms</h2>" in html and "<h2>More Information</h2>" in html and "<h3>Settings</h3>" in html
    assert "<pre>The redirector was unable to delete the file specified on server\nSRV1 when" in html
    assert '<a href="/article/Q700003">Q700003</a> How to Turn On Redirector Logging' in html  # in the text
    assert "Q799999 Redirector Fixes" in html and '<a href="/article/Q799999"' not in html  # not indexed
    assert 'href="/?q=redirector"' in html  # back to the results
    cites, cited_by, similar = (html.split(f'id="{p}"')[1].split("</section>")[0]
                                for p in ("cites", "cited-by", "similar"))
    assert 'href="/article/Q700003"' in cites and "(not in this archive)" in cites
    assert "No article in this archive cites it." in cited_by
    assert 'href="/article/Q700005"' in similar
    back = client.get("/article/Q700003").text.split('id="cited-by"')[1]
    assert 'href="/article/Q700001"' in back.split("</section>")[0]


def test_article_urls(client):
    r = client.get("/article/700003", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/article/Q700003"
    assert client.get("/article/KB700003").url.path == "/article/Q700003"
    text = client.get("/article/Q700003.txt")
    assert text.status_code == 200 and text.text.startswith("DOCUMENT:Q700003")
    for path, status in (("/article/Q123456", 404), ("/article/%3Cb%3E", 400), ("/nope", 404)):
        r = client.get(path)
        assert r.status_code == status and r.headers["content-type"].startswith("text/html")
        assert "<b>" not in r.text.split("<main>")[1]


def test_static_files_and_nothing_else(client):
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/app.js").headers["content-type"].startswith(("text/javascript", "application/javascript"))
    for path in ("/static/../webapp.py", "/static/%2e%2e/webapp.py", "/static/..%2fwebapp.py",
                 "/static/%2e%2e%2f%2e%2e%2fpyproject.toml", "/static//etc/passwd", "/static/"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "import" not in r.text


def test_head_is_get_without_the_body(client):
    for path in ("/?q=printer", "/api/stats", "/article/Q700003", "/static/style.css"):
        head, get = client.head(path), client.get(path)
        assert head.status_code == 200 and head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"]
    assert client.head("/api/article/Q123456").status_code == 404


def test_security_headers(client):
    r = client.get("/?q=printer")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/api/stats").headers["x-content-type-options"] == "nosniff"


def test_a_commit_while_serving_is_picked_up(tmp_path):
    ix = _index_articles(tmp_path, {700201: ("Modem Hangs Up After Dialing", {"SYMPTOMS": "The modem hangs up."})})
    with KnowledgeBase.open(ix) as kb:
        c = TestClient(create_app(kb))
        assert c.get("/api/search", params={"q": "scanner"}).json()["total"] == 0
        more = tmp_path / "more"
        more.mkdir()
        (more / "Q700202.TXT").write_text(_kb_article(700202, "Scanner Not Found", {"SYMPTOMS": "The scanner is not found."}))
        ingest.index_paths(str(ix), [str(tmp_path / "src"), str(more)], procs=1)
        assert [h["id"] for h in c.get("/api/search", params={"q": "scanner"}).json()["hits"]] == ["Q700202"]
        assert c.get("/api/stats").json()["articles"] == 2


# --- readable articles ----------------------------------------------------

def test_readable_blocks():
    from kbsearch.readable import blocks

    text = ("Prose wraps\nacross lines.\n\n"
            "   C:\\> net use\n   Error 53\n\n"
            "Name      Value\nFoo       1\n\n"
            "1. Click Start, and then\n   click Run.\n2. Type regedit.\n\n"
            "Options\n-------\n\n"
            "See Q700003 and Q123456 or KB700003.")
    got = [(b.kind, "".join(p.text for p in b.pieces)) for b in blocks(text, {"Q700003"}.__contains__)]
    assert got == [("p", "Prose wraps across lines."),
                   ("pre", "C:\\> net use\nError 53"),
                   ("pre", "Name      Value\nFoo       1"),
                   ("pre", "1. Click Start, and then\n   click Run.\n2. Type regedit."),
                   ("h", "Options"),
                   ("p", "See Q700003 and Q123456 or KB700003.")]
    last = blocks("See Q700003 and Q123456 or KB700003.", {"Q700003"}.__contains__)[0].pieces
    assert [(p.text, p.article) for p in last] == [("See ", None), ("Q700003", "Q700003"), (" and Q123456 or ", None),
                                                   ("KB700003", "Q700003"), (".", None)]


# --- a real server --------------------------------------------------------

def _start(args, tmp_path):
    err = open(tmp_path / "serve.err", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "kbsearch", "serve", "--port", "0", "--no-access-log", *args],
                            stdout=subprocess.PIPE, stderr=err, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        err.seek(0)
        m = re.search(r"(http://\S+/) ", err.read())
        if m:
            return proc, m.group(1), err
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    err.seek(0)
    raise AssertionError(f"the server did not start: {err.read()}")


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_server_answers_many_clients_at_once_and_sees_new_commits(tmp_path):
    ix = _index_articles(tmp_path, dict(list(ARTICLES.items())[:10]))
    proc, url, err = _start(["--index", str(ix)], tmp_path)
    try:
        queries = ["redirector unable to delete", "printer driver fails", "event 3031", "spooler stops LPT3"]
        expected = {q: json.loads(_get(url + "api/search?" + urllib.parse.urlencode({"q": q}))[1]) for q in queries}
        failures = []

        def client(n):
            for i in range(15):
                q = queries[(n + i) % len(queries)]
                status, body = _get(url + "api/search?" + urllib.parse.urlencode({"q": q}))
                if status != 200 or json.loads(body) != expected[q]:
                    failures.append((q, status))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        # A kbsearch index run commits while the server runs.
        more = tmp_path / "more"
        more.mkdir()
        (more / "Q700300.TXT").write_text(_kb_article(700300, "Scanner Not Found", {"SYMPTOMS": "No scanner."}))
        subprocess.run([sys.executable, "-m", "kbsearch", "index", str(more), "--index", str(ix), "-q"], check=True)
        status, body = _get(url + "api/search?q=scanner")
        assert status == 200 and json.loads(body)["hits"][0]["id"] == "Q700300"
    finally:
        proc.terminate()
        proc.wait(10)
    err.seek(0)
    assert "Traceback" not in err.read()


def test_workers_share_the_socket(tmp_path, seed_index):
    proc, url, err = _start(["--index", str(seed_index), "--workers", "2"], tmp_path)
    try:
        got = []
        threads = [threading.Thread(target=lambda: got.append(_get(url + "api/search?q=event+3031")))
                   for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [status for status, _ in got] == [200] * 12
        assert {json.loads(body)["hits"][0]["id"] for _, body in got} == {"Q168845"}
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 2  # the two workers (the spawn start method adds a resource tracker)
        err.seek(0)
        assert "2 workers" in err.read()
    finally:
        proc.terminate()
        proc.wait(15)
    err.seek(0)
    assert "Traceback" not in err.read()


def test_serve_says_when_other_machines_can_reach_it_and_fails_in_one_line(tmp_path, seed_index):
    proc, url, err = _start(["--index", str(seed_index), "--host", "0.0.0.0"], tmp_path)
    try:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        err.seek(0)
        assert "other machines can reach it" in err.read()
        busy = subprocess.run([sys.executable, "-m", "kbsearch", "serve", "--index", str(seed_index),
                               "--host", "0.0.0.0", "--port", str(port)], capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1
        assert busy.stderr.strip().splitlines() == [f"Error: cannot listen on 0.0.0.0:{port}: Address already in use"]
    finally:
        proc.terminate()
        proc.wait(10)
    missing = subprocess.run([sys.executable, "-m", "kbsearch", "serve", "--index", str(tmp_path / "none")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "no index at" in missing.stderr


def test_connections_are_tcp_so_answers_are_not_held_back():
    # asyncio turns Nagle's algorithm off (TCP_NODELAY) only on connections
    # whose socket names TCP; with it on, a keep-alive client waited ~40 ms
    # for each answer's body (benchmarks/serve.py: 68 ms p50 against 15 in-process)
    import socket

    from kbsearch.webapp import listen

    sock = listen("127.0.0.1", 0)
    try:
        sock.listen()
        with socket.create_connection(sock.getsockname()):
            conn, _ = sock.accept()
            with conn:
                assert conn.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
