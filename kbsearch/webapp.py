"""``kbsearch serve``: the search page, article pages and JSON API over one
:class:`~kbsearch.kb.KnowledgeBase`.

Routes only read parameters, call the Python API and render what it returns
(HTML from the templates in ``kbsearch/templates``, or the same JSON
documents as the CLI's ``--json``). Nothing here writes to the index.
Expected failures become a JSON error with a status (``/api``) or an error
page: 400 for bad input, 404 for an unknown article, 503 when the index went
away; never a traceback.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException

from . import __version__, readable
from .errors import IndexUnavailable, KBSearchError, NotFound
from .kb import KnowledgeBase
from .search import MAX_QUERY_CHARS

# Bounds on what one request may ask for.
MAX_LIMIT = 100
MAX_OFFSET = 10_000
PAGE_SIZE = 10
# The filters the page and /api/search take, in the order the page shows them.
FILTERS = ("product", "version", "keyword", "since", "until")
STATIC = Path(__file__).resolve().parent / "static"
# Sent with every response: the page loads nothing from elsewhere, runs only
# its own script and cannot be framed.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]

log = logging.getLogger("kbsearch.serve")


def status_of(error: KBSearchError) -> int:
    """The HTTP status an expected failure answers with."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, IndexUnavailable):
        return 503
    return 400


class _Protocol:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every response, and HEAD
    answered as GET without the body (FastAPI routes take GET only)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _templates() -> Environment:
    env = Environment(loader=PackageLoader("kbsearch", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.globals["version"] = __version__
    return env


def _page_url(params: dict[str, str], **changes) -> str:
    """``/?q=...`` for the search page with ``params`` changed (``None``
    drops one); empty values are left out, so URLs stay short."""
    merged = {**params, **changes}
    query = {k: v for k, v in merged.items() if v not in (None, "", 0, "0")}
    return "/?" + urlencode(query) if query else "/"


def _check_query(q: str) -> str:
    if len(q) > MAX_QUERY_CHARS:
        raise KBSearchError(f"the query is too long: {len(q):,} characters (at most {MAX_QUERY_CHARS:,})")
    return q


def create_app(kb: KnowledgeBase) -> FastAPI:
    """The web application over ``kb`` (shared by all requests; its reads
    take turns, and it reopens the index when a ``kbsearch index`` run
    commits)."""
    app = FastAPI(title="kbsearch", version=__version__,
                  description="Search an archive of Microsoft Knowledge Base articles. "
                              "Read-only; errors are JSON: {\"error\": message, \"status\": code}.",
                  docs_url=None, redoc_url=None)  # their pages load scripts from a CDN
    app.add_middleware(_Protocol)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    env = _templates()

    def html(name: str, code: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=code)

    def error_page(status: int, message: str, q: str = "") -> HTMLResponse:
        return html("error.html", status, status=status, message=message, params={"q": q})

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"

    def error_json(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message, "status": status}, status_code=status)

    # --- errors ----------------------------------------------------------

    @app.exception_handler(KBSearchError)
    async def expected_failure(request: Request, e: KBSearchError):
        status = status_of(e)
        return error_json(status, str(e)) if is_api(request) else error_page(status, str(e))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, e: RequestValidationError):
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ())[1:]) or "request"
        message = f"bad parameter {where}: {first.get('msg', 'invalid')}"
        return error_json(400, message) if is_api(request) else error_page(400, message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException):
        message = {404: f"no such page: {request.url.path}", 405: "only GET and HEAD are served"}.get(
            e.status_code, str(e.detail))
        response = error_json(e.status_code, message) if is_api(request) else error_page(e.status_code, message)
        if e.headers:
            response.headers.update(e.headers)
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception):
        log.exception("error serving %s", request.url.path)
        message = "internal error: the server log has the details"
        return error_json(500, message) if is_api(request) else error_page(500, message)

    # --- JSON API ----------------------------------------------------------

    Q = Query(..., min_length=1, max_length=MAX_QUERY_CHARS, description="Free text, an article number or Whoosh syntax.")

    @app.get("/api/search", tags=["api"], summary="Rank articles for a query",
             response_description="The `kbsearch search --json` document: query, total, offset, corrected, "
                                  "suggestion, hits (id, title, product, versions, date, score, snippet) "
                                  "and, when asked, facets.")
    def api_search(q: str = Q,
                   limit: int = Query(10, ge=1, le=MAX_LIMIT, description="How many hits."),
                   offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Skip this many hits first."),
                   product: str | None = Query(None, max_length=200, description="Only this product (name words or tag)."),
                   version: str | None = Query(None, max_length=100, description="Only this version (4.0 or winnt:4.0)."),
                   keyword: str | None = Query(None, max_length=100, description="Only articles with this keyword (kbbug)."),
                   since: str | None = Query(None, max_length=10, description="Dated on or after (YYYY, YYYY-MM, YYYY-MM-DD)."),
                   until: str | None = Query(None, max_length=10, description="Dated on or before (YYYY, YYYY-MM, YYYY-MM-DD)."),
                   facets: bool = Query(False, description="Also count all matches by product, year and issue type."),
                   exact: bool = Query(False, description="No typo correction.")) -> dict:
        return kb.results(q, limit, product or None, version or None, keyword or None, since=since or None,
                          until=until or None, offset=offset, facets=facets, exact=exact).to_dict()

    @app.get("/api/article/{article_id}", tags=["api"], summary="One article",
             response_description="The `kbsearch show --json` document: every field of the article, "
                                  "its text, and cited_by.")
    def api_article(article_id: str) -> dict:
        return kb.article(article_id).to_dict()

    @app.get("/api/related/{article_id}", tags=["api"], summary="What an article cites, what cites it, what is similar",
             response_description="The `kbsearch related --json` document.")
    def api_related(article_id: str,
                    limit: int = Query(10, ge=0, le=MAX_LIMIT, description="How many similar articles.")) -> dict:
        return kb.related(article_id, limit=limit).to_dict()

    @app.get("/api/stats", tags=["api"], summary="What the index holds",
             response_description="The `kbsearch stats --json` document.")
    def api_stats() -> dict:
        return kb.stats()

    # --- pages -----------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request) -> HTMLResponse:
        args = request.query_params
        params = {k: args.get(k, "").strip() for k in ("q", *FILTERS)}
        params["exact"] = "1" if args.get("exact") in ("1", "true", "on") else ""
        try:
            offset = int(args.get("offset") or 0)
        except ValueError:
            return error_page(400, f"offset must be a number, not {args.get('offset')!r}", params["q"])
        if not 0 <= offset <= MAX_OFFSET:
            return error_page(400, f"offset must be between 0 and {MAX_OFFSET:,}", params["q"])
        url = lambda **changes: _page_url({**params, "offset": offset}, **changes)  # noqa: E731
        context = {"params": params, "url": url, "filters": [(k, params[k]) for k in FILTERS if params[k]]}
        if not params["q"]:
            return html("home.html", stats=kb.stats(), **context)
        try:
            _check_query(params["q"])
            res = kb.results(params["q"], PAGE_SIZE, params["product"] or None, params["version"] or None,
                             params["keyword"] or None, since=params["since"] or None,
                             until=params["until"] or None, offset=offset, facets=True,
                             exact=bool(params["exact"]))
        except NotFound as e:  # not expected from a search; kept apart from bad input all the same
            return error_page(404, str(e), params["q"])
        except IndexUnavailable as e:
            return error_page(503, str(e), params["q"])
        except KBSearchError as e:
            # A query or filter that cannot be searched: the page, with why.
            return html("search.html", 400, res=None, message=str(e), **context)
        pages = math.ceil(res.total / PAGE_SIZE)
        return html("search.html", res=res, message=None, page=offset // PAGE_SIZE + 1, pages=pages,
                    page_size=PAGE_SIZE, **context)

    @app.get("/article/{article_id}.txt", response_class=PlainTextResponse, include_in_schema=False)
    def article_text(article_id: str) -> PlainTextResponse:
        return PlainTextResponse(kb.get(article_id).text)

    @app.get("/article/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(article_id: str, request: Request) -> HTMLResponse:
        q = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
        record = kb.article(article_id)
        if record.article.id != article_id:  # /article/168845 -> /article/Q168845, one URL an article
            from fastapi.responses import RedirectResponse

            return RedirectResponse(f"/article/{record.article.id}" + (f"?{urlencode({'q': q})}" if q else ""),
                                    status_code=301)
        rel = kb.related(record.article.id, limit=10)
        return html("article.html", art=record.article, sections=readable.sections(record.article, kb.exists),
                    related=rel, params={"q": q}, back=_page_url({"q": q}) if q else None)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        from fastapi.responses import FileResponse

        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    return app


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    return host in ("localhost", "::1") or host.startswith("127.")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; a one-line error when it cannot be."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise KBSearchError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    family, kind, proto, _, address = infos[0]
    # The protocol named (TCP), not left 0: asyncio sets TCP_NODELAY only on
    # connections whose socket says TCP, and without it a keep-alive client
    # waits ~40 ms on each answer (Nagle's algorithm against delayed ACKs).
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as e:
        sock.close()
        raise KBSearchError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    # Listening from here on: a client that connects while the workers start
    # waits in the backlog instead of being refused.
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def default_workers() -> int:
    """One worker process per core, at most 4 (each holds its own caches,
    ~300 MB on the full archive)."""
    return max(1, min(4, os.cpu_count() or 1))


# The index a worker process of ``serve(workers=N)`` opens (set by the parent).
WORKER_INDEX_VAR = "KBSEARCH_SERVE_INDEX"


def worker_app() -> FastAPI:
    """The app of one worker process: its own KnowledgeBase over the index
    the parent names in :data:`WORKER_INDEX_VAR` (uvicorn calls this in each
    process it spawns)."""
    return create_app(KnowledgeBase.open(os.environ[WORKER_INDEX_VAR]))


def serve(kb: KnowledgeBase, host: str = "127.0.0.1", port: int = 8080, workers: int = 1,
          on_ready: Callable[[str], None] | None = None, access_log: bool = True) -> None:
    """Serve ``kb`` on ``host:port`` until interrupted. ``workers`` > 1
    runs that many processes, each with its own reader of ``kb``'s index, on
    one socket (queries in one process take turns; processes answer in
    parallel). ``on_ready`` is told the URL once the socket is bound."""
    import uvicorn

    sock = listen(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if on_ready:
        on_ready(f"http://{shown}:{bound}/")
    options = dict(log_level="info" if access_log else "warning", access_log=access_log, server_header=False,
                   timeout_graceful_shutdown=3)
    if workers <= 1:
        uvicorn.Server(uvicorn.Config(create_app(kb), **options)).run(sockets=[sock])
        return
    from uvicorn.supervisors import Multiprocess

    os.environ[WORKER_INDEX_VAR] = os.path.abspath(kb.path)
    config = uvicorn.Config(f"{__name__}:worker_app", factory=True, workers=workers, **options)
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass
