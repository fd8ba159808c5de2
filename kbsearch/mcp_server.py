"""``kbsearch mcp``: the index as Model Context Protocol tools, over stdio.

An assistant (Claude Desktop, an IDE) starts ``kbsearch mcp`` and calls
three tools, each a thin layer over :class:`kbsearch.KnowledgeBase`:
``search``, ``article`` and ``related``. Each answers with compact text to
read and cite (ids and titles first) and, as structured content, the
document ``--json`` prints for the same command. An expected failure
(unknown article, empty query, bad date) is a tool error carrying the
one-line :class:`~kbsearch.errors.KBSearchError` message; the server goes on.

stdout is the protocol channel: nothing else may be written to it, so the
index is opened with stdout pointed at stderr (the first-run build, worker
processes included).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, InputRequiredResult, TextContent
from pydantic import Field, ValidationError
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12 (mcp requires both)

from . import __version__
from .errors import KBSearchError
from .kb import KnowledgeBase

# The most hits one search call returns: a page an assistant can read.
MAX_LIMIT = 50

INSTRUCTIONS = ("Searches an archive of old Microsoft Knowledge Base articles (Windows NT, Office, SMS, "
                "Exchange, ... of the 1990s and 2000s). Describe the symptom or quote the error message to "
                "`search`; read a hit with `article` (cite it by its Q number); `related` lists what an "
                "article cites, what cites it and articles about the same problem.")


# --- the structured content: what `--json` prints ------------------------

class HitDoc(TypedDict):
    """One hit of the `search --json` document."""

    id: str
    title: str
    product: str
    versions: list[str]
    date: str
    score: float
    snippet: str


class SearchDoc(TypedDict):
    """The `search --json` document (`Results.to_dict()`)."""

    query: str
    total: int
    offset: int
    corrected: str | None
    suggestion: str | None
    unmatched: list[str]
    hits: list[HitDoc]


class LinkDoc(TypedDict):
    """An article at the other end of a citation."""

    id: str
    title: str


class ArticleDoc(TypedDict):
    """The `show --json` document (`ArticleRecord.to_dict()`); its other
    fields (sections, keywords, footer, ...) come along too."""

    id: str
    title: str
    product: str
    versions: list[str]
    date: str | None
    text: str
    cited_by: list[LinkDoc]


class CitedDoc(LinkDoc):
    """An article cited; `indexed` is false when the index lacks it."""

    indexed: bool


class SimilarDoc(LinkDoc):
    """An article about the same problem, with its similarity score."""

    score: float


class RelatedDoc(TypedDict):
    """The `related --json` document (`Related.to_dict()`)."""

    id: str
    title: str
    cites: list[CitedDoc]
    cited_by: list[LinkDoc]
    similar: list[SimilarDoc]


# --- the tools -----------------------------------------------------------

ArticleId = Annotated[str, Field(description="Article number: Q168845, 168845 or KB168845.")]


class _Server(MCPServer):
    """An MCPServer whose arguments that do not fit a tool's schema (a limit
    out of range, a word for a number, no query) are a one-line tool error,
    like the rest, rather than pydantic's report of several lines."""

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context | None = None) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as e:
            if not isinstance(e.__cause__, ValidationError):
                raise
            why = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'arguments'}: {err['msg']}"
                            for err in e.__cause__.errors())
            raise ToolError(f"bad arguments for {name}: {why}") from e.__cause__


def build_server(kb: KnowledgeBase) -> MCPServer:
    """The MCP server whose tools search and read ``kb`` (not yet running:
    ``.run("stdio")``, or hand it to ``mcp.Client`` in-process)."""
    server = _Server("kbsearch", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(structured_output=True)
    def search(
        query: Annotated[str, Field(description="The symptom in your own words, an error message, an article "
                                                "number, or Whoosh syntax (title:printer, message:\"access "
                                                "is denied\").")],
        limit: Annotated[int, Field(description="How many hits.", ge=1, le=MAX_LIMIT)] = 10,
        offset: Annotated[int, Field(description="Skip this many hits first: the next page.", ge=0)] = 0,
        product: Annotated[str | None, Field(description="Only articles for this product (name words, tag "
                                                         "or platform, e.g. winnt).")] = None,
        version: Annotated[str | None, Field(description="Only articles for this version (e.g. 4.0 or "
                                                         "winnt:4.0).")] = None,
        keyword: Annotated[str | None, Field(description="Only articles with this keyword (e.g. kbbug).")] = None,
        since: Annotated[str | None, Field(description="Only articles dated on or after this day (YYYY, "
                                                       "YYYY-MM or YYYY-MM-DD).")] = None,
        until: Annotated[str | None, Field(description="Only articles dated on or before this day (YYYY, "
                                                       "YYYY-MM or YYYY-MM-DD).")] = None,
    ) -> Annotated[CallToolResult, SearchDoc]:
        """Rank Knowledge Base articles for a problem, best first: each hit's id and title, product, date
        and the passage that matched. Read a hit in full with `article`."""
        def call() -> tuple[str, dict]:
            res = kb.results(query, limit, product, version, keyword, since=since, until=until, offset=offset)
            return search_text(res), res.to_dict()
        return _answer(call)

    @server.tool(structured_output=True)
    def article(id: ArticleId) -> Annotated[CallToolResult, ArticleDoc]:
        """One article in full: id and title, product, versions and date, the whole text, then the
        articles that cite it."""
        def call() -> tuple[str, dict]:
            record = kb.article(id)
            return article_text(record), record.to_dict()
        return _answer(call)

    @server.tool(structured_output=True)
    def related(
        id: ArticleId,
        limit: Annotated[int, Field(description="How many similar articles.", ge=0, le=MAX_LIMIT)] = 10,
    ) -> Annotated[CallToolResult, RelatedDoc]:
        """An article's neighbours: the articles it cites, those that cite it, and those about the same
        problem (most similar first)."""
        def call() -> tuple[str, dict]:
            rel = kb.related(id, limit)
            return related_text(rel), rel.to_dict()
        return _answer(call)

    return server


def _answer(call: Callable[[], tuple[str, dict]]) -> CallToolResult:
    """The tool result for ``call()``'s ``(text, document)``; a
    :class:`KBSearchError` is a tool error with its one-line message."""
    try:
        text, doc = call()
    except KBSearchError as e:
        return CallToolResult(content=[TextContent(type="text", text=str(e))], is_error=True)
    # Through JSON as --json prints it, so the content is plain JSON values.
    doc = json.loads(json.dumps(doc, ensure_ascii=False, default=str))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=doc)


# --- the text an assistant reads -----------------------------------------

def search_text(res) -> str:
    """Each hit as ``Q168845  Title``, then product · date and the snippet;
    then how many matched, any spelling correction or suggestion, and the
    words no article has."""
    lines = [f"Showing results for: {res.corrected}"] if res.corrected else []
    for h in res.hits:
        lines.append(f"{h.id}  {h.title}")
        meta = " · ".join(x for x in (h.product, h.date) if x)
        if meta:
            lines.append(f"    {meta}")
        if h.snippet:
            lines.append(f"    {' '.join(h.snippet.split())}")
        lines.append("")
    if res.hits:
        first = res.offset + 1
        lines.append(f"Hits {first}-{res.offset + len(res.hits)} of {res.total} matching "
                     f"article{'s' if res.total != 1 else ''}.")
    elif res.offset and res.total:
        lines.append(f"No hits past the first {res.total} matches.")
    else:
        lines.append("No matching articles.")
    if res.suggestion:
        lines.append(f"Did you mean: {res.suggestion}")
    if res.unmatched:
        lines.append(f"No article has: {', '.join(res.unmatched)} (the hits match the other words)")
    return "\n".join(lines)


def article_text(record) -> str:
    """Id and title, product, versions and date, the whole article text,
    then the articles that cite it."""
    art = record.article
    meta = [art.product, "versions " + ", ".join(art.versions) if art.versions else "",
            art.date.isoformat() if art.date else ""]
    head = f"{art.id}  {art.title}\n" + " · ".join(x for x in meta if x)
    cited = (f"Cited by {len(record.cited_by)}:\n" + "\n".join(f"{c.id}  {c.title}" for c in record.cited_by)
             if record.cited_by else "Cited by: none.")
    return f"{head}\n\n{art.text.rstrip()}\n\n{cited}"


def related_text(rel) -> str:
    """The article's id and title, then its neighbours' ids and titles,
    grouped as cites / cited by / similar."""
    lines = [f"{rel.id}  {rel.title}"]
    for label, items in (("Cites", rel.cites), ("Cited by", rel.cited_by), ("Similar", rel.similar)):
        lines.append(f"\n{label}:" if items else f"\n{label}: none.")
        for c in items:
            note = "  (not in the index)" if not getattr(c, "indexed", True) else ""
            if hasattr(c, "score"):
                note = f"  (similarity {c.score:.2f})"
            lines.append(f"{c.id}  {c.title}{note}")
    return "\n".join(lines)


# --- serving ---------------------------------------------------------------

@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Point stdout (the file descriptor, so child processes too) at stderr
    for the duration: what the index build prints must not reach the protocol."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def serve_stdio(index_dir: str | os.PathLike | None = None) -> None:
    """Open the index (building the default one on first use, as the CLI
    does) and answer MCP requests on stdin/stdout until the client leaves.

    A missing or unreadable index raises :class:`KBSearchError` before
    anything is served.
    """
    with _stdout_to_stderr():
        kb = KnowledgeBase.open(index_dir, on_build=lambda m: print(m, file=sys.stderr, flush=True))
    try:
        build_server(kb).run("stdio")
    finally:
        kb.close()
