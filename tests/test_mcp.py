"""``kbsearch mcp``: the Model Context Protocol server, driven over stdio by
the official SDK's client as an assistant would start it.

One server session answers every tool call below (a session costs about a
second to start); the tests then read its answers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import pytest

from kbsearch import KnowledgeBase

from .test_search import _kb_article

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
CITER = ("SMS: Client Setup Logs Events on the Logon Server", {
    "SYMPTOMS": "Client setup leaves entries in the System Event log of the logon server.",
    "MORE INFORMATION": "For more information, see the following article in the Microsoft Knowledge Base:\n\n"
                        "   Q168845 Windows NT SMS Clients Produce NT Event 3031",
})

# (name, tool, arguments): every call the session makes.
CALLS = [
    ("hit", "search", {"query": "redirector unable to delete"}),
    ("sms", "search", {"query": "sms client", "limit": 2}),
    ("sms page 2", "search", {"query": "sms client", "limit": 2, "offset": 2}),
    ("winnt only", "search", {"query": "sms client", "product": "winnt"}),
    ("since 2001", "search", {"query": "sms client", "since": "2001"}),
    ("until 2000", "search", {"query": "sms client", "until": "2000-12-31"}),
    ("typo", "search", {"query": "redirecter"}),
    ("article", "article", {"id": "168845"}),
    ("article kb", "article", {"id": "KB280515"}),
    ("related", "related", {"id": "Q168845"}),
    ("related citer", "related", {"id": "Q700001", "limit": 1}),
    ("unknown article", "article", {"id": "Q999999"}),
    ("unknown related", "related", {"id": "Q999999"}),
    ("not an id", "article", {"id": "printer"}),
    ("empty query", "search", {"query": "   "}),
    ("stop words", "search", {"query": "the of and"}),
    ("bad date", "search", {"query": "sms", "since": "August"}),
    ("since after until", "search", {"query": "sms", "since": "2002", "until": "2001"}),
    ("limit 0", "search", {"query": "sms", "limit": 0}),
    ("limit 51", "search", {"query": "sms", "limit": 51}),
    ("negative offset", "search", {"query": "sms", "offset": -1}),
    ("related limit", "related", {"id": "Q168845", "limit": 51}),
    ("limit a word", "search", {"query": "sms", "limit": "ten"}),
    ("no query", "search", {"limit": 5}),
    ("no such product", "search", {"query": "sms", "product": "nosuchproduct"}),
    ("after the error", "search", {"query": "redirector unable to delete"}),
]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    """The two sample articles and Q700001 (2000, Exchange), which cites Q168845."""
    src = tmp_path_factory.mktemp("articles")
    for f in CORPUS.glob("*.TXT"):
        shutil.copy(f, src / f.name)
    (src / "Q700001.TXT").write_text(_kb_article(700001, *CITER))
    ix = src.parent / "index"
    KnowledgeBase.build(ix, [src], procs=1)
    return ix


def _env() -> dict[str, str]:
    """The environment for a server process: this checkout's kbsearch, no
    $KBSEARCH_INDEX."""
    env = {k: v for k, v in os.environ.items() if k != "KBSEARCH_INDEX"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    return env


def _server(*args: str):
    from mcp.client.stdio import StdioServerParameters

    return StdioServerParameters(command=sys.executable, args=["-m", "kbsearch", "mcp", *args], env=_env())


@pytest.fixture(scope="module")
def session(index_dir, tmp_path_factory) -> dict:
    """The tool list and each call's result, from one stdio session; what the
    server wrote to stderr."""
    from mcp import Client
    from mcp.client.stdio import stdio_client

    errlog = tmp_path_factory.mktemp("log") / "stderr"

    async def run() -> dict:
        out = {}
        with errlog.open("w") as err, anyio.fail_after(15):
            async with Client(stdio_client(_server("--index", str(index_dir)), errlog=err)) as client:
                out["tools"] = {t.name: t for t in (await client.list_tools()).tools}
                for name, tool, args in CALLS:
                    out[name] = await client.call_tool(tool, args)
        return out

    answers = anyio.run(run)
    answers["stderr"] = errlog.read_text()
    return answers


def _text(result) -> str:
    assert len(result.content) == 1 and result.content[0].type == "text"
    return result.content[0].text


def _ok(result) -> str:
    assert not result.is_error, _text(result)
    return _text(result)


def _error(result) -> str:
    assert result.is_error
    assert result.structured_content is None
    text = _text(result)
    assert "\n" not in text and "Traceback" not in text
    return text


# --- the tools ----------------------------------------------------------

def test_three_tools_with_their_parameters(session):
    tools = session["tools"]
    assert set(tools) == {"search", "article", "related"}
    search = tools["search"].input_schema
    assert search["required"] == ["query"]
    assert set(search["properties"]) == {"query", "limit", "offset", "product", "version", "keyword", "since",
                                         "until"}
    limit = search["properties"]["limit"]
    assert (limit["type"], limit["default"], limit["minimum"], limit["maximum"]) == ("integer", 10, 1, 50)
    assert tools["article"].input_schema["required"] == ["id"]
    assert set(tools["related"].input_schema["properties"]) == {"id", "limit"}
    for t in tools.values():
        assert t.description and t.output_schema["type"] == "object"
        assert {"id", "query"} & set(t.output_schema["properties"])


def test_search_ranks_the_article_first_and_says_what_it_is(session):
    res = session["hit"]
    text = _ok(res)
    first = text.splitlines()[0]
    assert first == "Q168845  Windows NT SMS Clients Produce NT Event 3031"
    assert "Microsoft Windows NT · 2001-08-09" in text
    assert "redirector was unable to delete the file" in text
    assert text.endswith("Hits 1-1 of 1 matching article.")
    # The structured content is the search --json document.
    doc = res.structured_content
    assert doc["query"] == "redirector unable to delete" and doc["total"] == 1
    assert doc["hits"][0]["id"] == "Q168845" and doc["hits"][0]["versions"] == ["1.2", "3.51", "4.0"]
    assert doc["corrected"] is None and doc["suggestion"] is None


def test_search_limit_offset_and_total(session):
    page1, page2 = session["sms"].structured_content, session["sms page 2"].structured_content
    assert page1["total"] == page2["total"] == 3
    assert len(page1["hits"]) == 2 and len(page2["hits"]) == 1 and page2["offset"] == 2
    assert {h["id"] for h in page1["hits"] + page2["hits"]} == {"Q168845", "Q280515", "Q700001"}
    assert "Hits 1-2 of 3 matching articles." in _ok(session["sms"])
    assert "Hits 3-3 of 3 matching articles." in _ok(session["sms page 2"])


def test_search_filters(session):
    ids = {name: [h["id"] for h in session[name].structured_content["hits"]]
           for name in ("winnt only", "since 2001", "until 2000")}
    assert ids == {"winnt only": ["Q168845"], "since 2001": ids["since 2001"], "until 2000": ["Q700001"]}
    assert sorted(ids["since 2001"]) == ["Q168845", "Q280515"]


def test_search_says_what_it_searched_for(session):
    text = _ok(session["typo"])
    assert text.splitlines()[0] == "Showing results for: redirector"
    assert text.splitlines()[1].startswith("Q168845  ")
    assert session["typo"].structured_content["corrected"] == "redirector"


def test_article_text_and_cited_by(session):
    res = session["article"]
    text = _ok(res)
    lines = text.splitlines()
    assert lines[0] == "Q168845  Windows NT SMS Clients Produce NT Event 3031"
    assert lines[1] == "Microsoft Windows NT · versions 1.2, 3.51, 4.0 · 2001-08-09"
    whole = (CORPUS / "Q168845.TXT").read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    assert "The redirector was unable to delete the file specified on server" in text
    assert whole.rstrip().splitlines()[-1] in text  # the whole text, to its last line
    assert text.endswith("Cited by 1:\nQ700001  SMS: Client Setup Logs Events on the Logon Server")
    doc = res.structured_content  # the show --json document
    assert doc["id"] == "Q168845" and doc["date"] == "2001-08-09" and "sections" in doc
    assert doc["cited_by"] == [{"id": "Q700001", "title": "SMS: Client Setup Logs Events on the Logon Server"}]
    other = _ok(session["article kb"])
    assert other.startswith("Q280515  SMS: The Client.lkp File Is Not Updated\n")
    assert other.endswith("Cited by: none.")


def test_related_groups_ids_and_titles(session):
    text = _ok(session["related"])
    assert text.splitlines()[0] == "Q168845  Windows NT SMS Clients Produce NT Event 3031"
    assert "\nCites: none.\n" in text
    assert "\nCited by:\nQ700001  SMS: Client Setup Logs Events on the Logon Server\n" in text
    similar = text.split("\nSimilar:\n")[1].splitlines()
    assert "Q280515  SMS: The Client.lkp File Is Not Updated  (similarity " in "\n".join(similar)
    doc = session["related"].structured_content
    assert doc["cited_by"] == [{"id": "Q700001", "title": "SMS: Client Setup Logs Events on the Logon Server"}]
    assert [line.split()[0] for line in similar] == [s["id"] for s in doc["similar"]]
    assert {s["id"] for s in doc["similar"]} == {"Q280515", "Q700001"}
    citer = session["related citer"].structured_content
    assert citer["cites"] == [{"id": "Q168845", "title": "Windows NT SMS Clients Produce NT Event 3031",
                               "indexed": True}]
    assert len(citer["similar"]) == 1


# --- errors: a tool error with the one-line message; the server goes on --

@pytest.mark.parametrize("name,message", [
    ("unknown article", "article Q999999 is not in the index at "),
    ("unknown related", "article Q999999 is not in the index at "),
    ("not an id", "not an article id: 'printer' (try Q168845)"),
    ("empty query", "empty query"),
    ("stop words", "nothing to search for in 'the of and': only stop words or symbols"),
    ("bad date", "--since 'August' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD"),
    ("since after until", "--since 2002 is after --until 2001"),
    ("limit 0", "bad arguments for search: limit: Input should be greater than or equal to 1"),
    ("limit 51", "bad arguments for search: limit: Input should be less than or equal to 50"),
    ("negative offset", "bad arguments for search: offset: Input should be greater than or equal to 0"),
    ("related limit", "bad arguments for related: limit: Input should be less than or equal to 50"),
    ("limit a word", "bad arguments for search: limit: Input should be a valid integer"),
    ("no query", "bad arguments for search: query: Field required"),
])
def test_bad_input_is_a_tool_error(session, name, message):
    assert _error(session[name]).startswith(message)


def test_a_filter_that_matches_nothing_says_why(session):
    assert "nosuchproduct" in _error(session["no such product"])


def test_the_server_goes_on_after_errors_and_logs_no_tracebacks(session):
    assert _ok(session["after the error"]).startswith("Q168845  ")
    assert "Traceback" not in session["stderr"]


# --- the process: stdout is the protocol's alone ---------------------------

def _rpc(*messages: dict) -> str:
    return "".join(json.dumps({"jsonrpc": "2.0", **m}) + "\n" for m in messages)


def test_stdout_carries_only_protocol_even_when_building_the_default_index(tmp_path):
    # No --index and no ./index: the first run builds the two samples and says
    # so, on stderr; stdout holds JSON-RPC messages and nothing else.
    requests = _rpc(
        {"id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                                      "clientInfo": {"name": "test", "version": "0"}}},
        {"method": "notifications/initialized"},
        {"id": 2, "method": "tools/call", "params": {"name": "search", "arguments": {"query": "event 3031"}}},
        {"id": 3, "method": "tools/call", "params": {"name": "article", "arguments": {"id": "Q1"}}},
    )
    proc = subprocess.Popen([sys.executable, "-m", "kbsearch", "mcp"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_env())
    watchdog = threading.Timer(30, proc.kill)
    watchdog.start()
    try:
        proc.stdin.write(requests)
        proc.stdin.flush()
        lines = []
        # Read the answers before closing stdin: at end of input the server
        # stops, dropping calls still running.
        while len([m for m in map(json.loads, lines) if "id" in m]) < 3 and (line := proc.stdout.readline()):
            lines.append(line)
        proc.stdin.close()
        lines += proc.stdout.readlines()
        stderr = proc.stderr.read()
        assert proc.wait() == 0, stderr
    finally:
        watchdog.cancel()
    messages = [json.loads(line) for line in lines]  # every line is a JSON-RPC message
    assert all(m["jsonrpc"] == "2.0" for m in messages)
    answers = {m["id"]: m for m in messages if "id" in m}
    assert set(answers) == {1, 2, 3}
    assert answers[2]["result"]["content"][0]["text"].startswith("Q168845  ")
    assert answers[3]["result"]["isError"] is True
    assert "building it from the default corpus" in stderr
    assert (tmp_path / "index").is_dir()


def test_a_missing_index_is_one_line_and_status_1(tmp_path):
    run = subprocess.run([sys.executable, "-m", "kbsearch", "mcp", "--index", str(tmp_path / "nope")],
                         input="", capture_output=True, text=True, env=_env(), timeout=30)
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.startswith("Error: no index at ") and run.stderr.count("\n") == 1


def test_the_cli_does_not_import_the_sdk():
    # The one-shot `kbsearch QUERY` stays fast: mcp is imported by `kbsearch mcp` only.
    code = "import sys, kbsearch.cli; print(any(m == 'mcp' or m.startswith('mcp.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    assert out.stdout.strip() == "False"
