"""The ``kbsearch`` command: parses arguments, calls the API, prints.

Nothing here decides anything a Python caller could not do through
:class:`kbsearch.KnowledgeBase`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

import click

from . import __version__


def _fail(e: Exception) -> click.ClickException:
    return click.ClickException(str(e))


# What the group itself answers when it is all that was typed.
_GROUP_ONLY = (["--help"], ["-h"], ["-V"], ["--version"])
# A word that starts with a dash and a digit is a query word ("-2147467259",
# an error code as VB shows it), never an option.
_NUMBER_RE = re.compile(r"-\d")
COLORS = ("auto", "always", "never")


class _DefaultSearch(click.Group):
    """``kbsearch QUERY`` means ``kbsearch search QUERY``; options may come
    before the command (``kbsearch --index DIR stats``); ``--color`` may
    stand anywhere; a broken pipe (``kbsearch ... | head``) ends quietly."""

    def parse_args(self, ctx, args):
        args, color = _pop_color(list(args))
        ctx.color = {"always": True, "never": False}.get(color)
        if color == "auto" or color is None:
            ctx.color = False if os.environ.get("NO_COLOR") else None
        if not args or args in _GROUP_ONLY:
            return super().parse_args(ctx, args)
        leading, rest = self._leading_options(args)
        if rest and rest[0] in self.commands and rest[0] != "search":
            args = [rest[0], *leading, *rest[1:]]
        else:
            words = rest[1:] if rest and rest[0] == "search" else rest
            args = ["search", *_search_args(self.commands["search"], leading + words)]
        return super().parse_args(ctx, args)

    def _leading_options(self, args: list[str]) -> tuple[list[str], list[str]]:
        """The options typed before the command (or the query), and the rest."""
        takes_value = {o: not p.is_flag for c in self.commands.values() for p in c.params
                       if isinstance(p, click.Option) for o in p.opts + p.secondary_opts}
        i = 0
        while i < len(args) and args[i].startswith("-") and args[i] != "--" and not _NUMBER_RE.match(args[i]):
            i += 2 if takes_value.get(args[i]) else 1
        return args[:i], args[i:]

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (| head): not an error. Point stdout at
            # /dev/null so that Python's own flush at exit does not complain.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)


def _pop_color(args: list[str]) -> tuple[list[str], str | None]:
    """``args`` without ``--color WHEN`` (anywhere before ``--``), and WHEN."""
    color, out, i = None, [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out += args[i:]
            break
        if a == "--color" and i + 1 < len(args):
            color, i = args[i + 1], i + 2
            continue
        if a.startswith("--color="):
            color, i = a.split("=", 1)[1], i + 1
            continue
        out.append(a)
        i += 1
    if color is not None and color not in COLORS:
        raise click.UsageError(f"--color must be one of {', '.join(COLORS)}, not {color!r}")
    return out, color


def _search_args(cmd: click.Command, args: list[str]) -> list[str]:
    """``search``'s arguments as options first, then ``--`` and the query
    words, so that a word starting with a dash is a word."""
    takes_value = {o: not p.is_flag for p in cmd.params if isinstance(p, click.Option)
                   for o in p.opts + p.secondary_opts}
    takes_value.update({"-h": False, "--help": False})
    options, words, i = [], [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            words += args[i + 1:]
            break
        name = a.split("=", 1)[0]
        if a.startswith("-") and not _NUMBER_RE.match(a) and (name in takes_value or a.startswith("--") or len(a) == 2):
            n = 2 if takes_value.get(name) and "=" not in a else 1
            options += args[i:i + n]
            i += n
        else:
            words.append(a)
            i += 1
    return [*options, "--", *words]


index_option = click.option(
    "--index", "index_dir", envvar="KBSEARCH_INDEX", type=click.Path(file_okay=False),
    help="Index directory (default: $KBSEARCH_INDEX, else ./index; built from the default corpus on first use).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _open(index_dir):
    from .errors import KBSearchError
    from .kb import KnowledgeBase

    try:
        return KnowledgeBase.open(index_dir, on_build=lambda m: click.echo(m, err=True))
    except KBSearchError as e:
        raise _fail(e)


def _with_kb(index_dir, call):
    """Open the index, return ``call(kb)`` and close it; an expected failure
    is one line (exit 1)."""
    from .errors import KBSearchError

    kb = _open(index_dir)
    try:
        return call(kb)
    except KBSearchError as e:
        raise _fail(e)
    finally:
        kb.close()


def _dump(obj) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


@click.group(cls=_DefaultSearch, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", message="kbsearch %(version)s",
                      help="Show the version and exit.")
@click.option("--color", type=click.Choice(COLORS), default="auto", show_default=True, expose_value=False,
              help="Colour the output: auto (on a terminal, unless NO_COLOR is set), always or never. "
                   "May stand anywhere on the line.")
def cli():
    """Search archives of Microsoft Knowledge Base articles.

    \b
    kbsearch fetch                             download the public archive and index it
    kbsearch "redirector unable to delete"     rank articles for a symptom
    kbsearch index PATH...                     add article files to the index
    kbsearch show Q168845                      print one article
    kbsearch related Q168845                   what it cites, what cites it, similar articles
    kbsearch stats                             what the index holds
    kbsearch mcp                               serve the index to an assistant (MCP over stdio)
    """


def _search_options(f):
    """The options ``search`` and ``batch`` share (what KnowledgeBase.results takes)."""
    options = [
        click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(1, 1000),
                     help="How many hits."),
        click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 100_000),
                     help="Skip this many hits first: the next page (--offset 10 shows hits 11-20)."),
        click.option("--product", help="Only articles for this product (name words, tag or platform, e.g. winnt)."),
        click.option("--version", "version", help="Only articles for this version (e.g. 4.0 or winnt:4.0)."),
        click.option("--keyword", help="Only articles with this keyword (e.g. kbbug; kbsearch stats lists them)."),
        click.option("--since", help="Only articles dated on or after this day (YYYY, YYYY-MM or YYYY-MM-DD)."),
        click.option("--until", help="Only articles dated on or before this day (YYYY, YYYY-MM or YYYY-MM-DD)."),
        click.option("--facets", is_flag=True, help="Also count all matches by product, year and issue type."),
        click.option("--explain", is_flag=True, help="Show which terms, sections and factors made each score."),
        click.option("--vocabulary/--no-vocabulary", default=True, show_default=True,
                     help="Let query words also match the KB's words for them (nt4: NT 4.0, freezes: hangs)."),
        click.option("--exact", is_flag=True, help="Search the words as typed: no typo correction (redirecter stays)."),
        index_option,
    ]
    for option in reversed(options):
        f = option(f)
    return f


@cli.command()
@click.argument("query", nargs=-1, required=True)
@_search_options
@json_option
def search(query, index_dir, as_json, **options):
    """Rank articles for QUERY: free text, an article number, or Whoosh syntax.

    Syntax fields: body (default), title, symptoms, message (the messages
    SYMPTOMS shows or quotes), product, version, keyword, tag, issue, cites, id, date;
    e.g. message:"access is denied", title:printer, cites:152734.
    """

    text = " ".join(query)
    res = _with_kb(index_dir, lambda kb: kb.results(text, **options))
    if as_json:
        _dump(res.to_dict())
        return
    if res.corrected:
        click.echo(f"Showing results for: {res.corrected}", err=True)
    if res.suggestion:
        click.echo(f"Did you mean: {res.suggestion}", err=True)
    if res.unmatched:
        click.echo(f"No article has: {', '.join(res.unmatched)} (the hits match the other words)", err=True)
    if not res.hits:
        click.echo("No matching articles." if not res.offset or not res.total
                   else f"No hits past the first {res.total} matches.", err=True)
    for n, h in enumerate(res.hits, res.offset + 1):
        title = click.style(h.title, bold=True)
        click.echo(f"{n:2}. {click.style(h.id, fg='cyan')}  {title}")
        meta = " · ".join(x for x in (h.product, h.date, f"score {h.score:.2f}") if x)
        click.echo(f"    {click.style(meta, dim=True)}")
        if h.snippet:
            click.echo(f"    {_highlight(h)}")
        if h.explanation is not None:
            for e in h.explanation["terms"]:
                where = ",".join(e["sections"]) or ("no section" if e["cited_as"] else "other sections")
                if e.get("matched_as"):
                    where += f"; as {', '.join(e['matched_as'])}"
                if "share" in e:
                    where += f"; {e['share']:.3g} of a typed word"
                if e["cited_as"]:
                    where += f"; topic of {e['cited_as']} citing article{'s' if e['cited_as'] > 1 else ''}"
                click.echo(f"      {e['term']:<20} weight {e['weight']:>6}  df {e['df']:>6}  bm25 {e['score']:>7}  in {where}")
            if h.breakdown is not None:
                click.echo(f"      × {_factors_line(h.breakdown)}")
    if res.facets is not None:
        _print_facets(res)


@cli.command()
@click.argument("file", type=click.File("rb"))
@_search_options
def batch(file, index_dir, **options):
    """Search for each line of FILE (- for standard input): one query a line in,
    one JSON line out (the search --json document), in the same order.

    A line that cannot be searched (empty, only stop words, bad syntax, not
    UTF-8) gets {"query": ..., "error": ...} and the run goes on. The
    options apply to every query.
    """
    from .errors import KBSearchError

    kb = _open(index_dir)
    try:
        for raw in file:
            query = raw.decode("utf-8", "replace").rstrip("\r\n")
            try:
                if "\ufffd" in query and b"\xef\xbf\xbd" not in raw:
                    raise KBSearchError("the line is not UTF-8")
                out = kb.results(query, **options).to_dict()
            except KBSearchError as e:
                out = {"query": query, "error": str(e)}
            click.echo(json.dumps(out, ensure_ascii=False, default=str))
    finally:
        kb.close()


def _print_facets(res, top: int = 6) -> None:
    """The facet counts, the most common few of each."""
    click.echo(click.style(f"\nAll {res.total:,} matches by", dim=True))
    for name, counts in res.facets.items():
        items = list(counts.items())
        shown = " · ".join(f"{k} {v:,}" for k, v in (items if name == "year" else items[:top]))
        more = f" · {len(items) - top} more" if name != "year" and len(items) > top else ""
        click.echo(f"  {name:<8} {shown or '-'}{more}")


def _factors_line(bd) -> str:
    """The scorer's record of one hit: its base, what the factors counted,
    then each factor it multiplied in, and those the reading left out with why."""
    parts = [f"{bd.base} {bd.base_score:.4g}"]
    if "matched" in bd.counts:
        parts.append(f"matched {bd.counts['matched']}")
    for f in bd.factors:
        if f.applied or f.note:
            value = round(f.value, 3) if f.applied else 1.0
            parts.append(f"{f.name} {value}" + (f" ({f.note})" if f.note else ""))
    if bd.reading not in ("words", "syntax"):
        parts.append(f"[read as: {bd.reading}]")
    return "  ".join(parts)


def _highlight(h) -> str:
    out, last = [], 0
    for a, b in h.spans:
        out.append(h.snippet[last:a])
        out.append(click.style(h.snippet[a:b], fg="yellow", bold=True))
        last = b
    out.append(h.snippet[last:])
    return "".join(out)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--rebuild", is_flag=True, help="Re-index everything, not only new or changed files.")
@click.option("--wait", is_flag=True, help="If another run is writing this index, wait for it instead of failing.")
@click.option("--procs", type=click.IntRange(1, 64), help="Worker processes (default: one per core).")
@click.option("-v", "--verbose", is_flag=True, help="Also name each file added, updated and removed.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@json_option
@index_option
def index(paths, rebuild, wait, procs, verbose, quiet, as_json, index_dir):
    """Add the article files under PATHS (every *.txt, recursively) to the index.

    Only new or changed files are read; articles whose files are gone are
    removed. Files that are not articles are skipped and listed; articles
    whose files stop after the header are indexed and named as truncated. An index
    built from the default corpus's two samples starts afresh: the samples
    are left out.
    """
    from .errors import KBSearchError
    from .kb import default_index_dir

    index_dir = index_dir or default_index_dir()
    report = _index(index_dir, paths, quiet or as_json, rebuild=rebuild, procs=procs, wait=wait)
    if as_json:
        _dump(report.to_dict(files=verbose))
    elif not quiet:
        _print_report(report, index_dir, paths, verbose)
    if report.articles == 0 and not (report.added or report.updated or report.removed or report.unchanged):
        why = (f"every one of the {len(report.skipped)} files found was skipped" if report.skipped
               else f"there are no *.txt article files under {' '.join(paths)}")
        raise _fail(KBSearchError(f"no article indexed: {why}; the index at {index_dir} holds no articles"))


def _index(index_dir, paths, quiet: bool, **kwargs):
    """Run an index with a progress bar on a terminal; a one-line error on failure."""
    from .errors import KBSearchError
    from .ingest import index_paths

    bar = _Progress("files") if not quiet and sys.stderr.isatty() else None
    try:
        return index_paths(index_dir, paths, progress=bar.update if bar else None, **kwargs)
    except KBSearchError as e:
        raise _fail(e)
    except KeyboardInterrupt:
        raise click.ClickException("interrupted: the index is as it was before this run")
    finally:
        if bar:
            bar.close()


def _print_report(report, index_dir, paths, verbose: bool) -> None:
    for s in report.skipped:
        click.echo(f"skipped {s.path}: {s.reason}", err=True)
    for d in report.duplicates:
        click.echo(f"duplicate {d.id}: kept {d.kept}, dropped {d.dropped}", err=True)
    for t in report.truncated:
        click.echo(f"truncated {t.path}: {t.id} has a header but no body (indexed by its header)", err=True)
    if verbose:
        for kind in ("added", "updated", "removed"):
            for path in report.files[kind]:
                click.echo(f"{kind:<8} {path}")
    if report.samples_removed:
        click.echo(f"Left out the {report.samples_removed} sample articles of the default corpus: "
                   f"the index now holds only the articles you index.", err=True)
    truncated = f", {len(report.truncated)} truncated" if report.truncated else ""
    click.echo(
        f"Indexed {index_dir}: {report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped{truncated}; "
        f"{report.articles} articles in {report.seconds:.1f}s"
    )
    if report.articles and report.indexed_nothing:
        click.echo(f"No article indexed from {' '.join(paths)}: every file found was skipped (listed above).",
                   err=True)
    elif report.articles and not (report.added or report.updated or report.removed or report.unchanged
                                  or report.skipped):
        click.echo(f"No *.txt article files under {' '.join(paths)}.", err=True)


class _Progress:
    """A stderr progress line with counts, rate and ETA (terminals only);
    it says what the run is doing once the counting is over ("committing").
    ``scale``: units of the count shown as one (1e6 for bytes as MB); a
    total of 0 is unknown (no bar, no ETA)."""

    def __init__(self, unit: str, scale: float = 1.0):
        self.unit, self.scale = unit, scale
        self.t0 = time.perf_counter()
        self.shown = False
        self.last = 0.0

    def update(self, done: int, total: int, stage: str = "") -> None:
        now = time.perf_counter()
        if now - self.last < 0.1 and done < total and stage != "committing":
            return  # at most ten redraws a second
        self.last = now
        el = now - self.t0
        rate = done / el / self.scale if el > 0 else 0.0
        width = 30
        fill = int(width * done / total) if total else 0
        eta = (total - done) / self.scale / rate if rate > 0 and total else 0.0
        tail = ("committing..." if stage == "committing"
                else f"{rate:,.1f} {self.unit}/s" + (f"  ETA {eta:4.0f}s" if total else ""))
        count = f"{done / self.scale:,.0f}" + (f"/{total / self.scale:,.0f}" if total else "")
        bar = f"[{'#' * fill}{'.' * (width - fill)}] " if total else ""
        click.echo(f"\r{bar}{count} {self.unit}  {tail}".ljust(78), err=True, nl=False)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


@cli.command()
@click.option("--url", default=None, help="Where the archive's tarball is (default: the jeffpar/kbarchive "
                                          "repository's master branch).")
@click.option("--to", "folder", type=click.Path(file_okay=False),
              help="Folder for the article files (default: kbarchive beside the index).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and no summary.")
@json_option
@index_option
def fetch(url, folder, quiet, as_json, index_dir):
    """Download the public archive (56,989 articles) and index it.

    Streams the tarball and writes only its txt/**.TXT article files; a
    broken download keeps nothing and indexes nothing, and a second run
    starts afresh. Then indexes them as `kbsearch index` does.
    """
    from .errors import KBSearchError
    from .fetch import DEFAULT_URL, default_folder, download
    from .kb import default_index_dir

    index_dir = index_dir or default_index_dir()
    url = url or DEFAULT_URL
    bar = _Progress("MB", 1e6) if not (quiet or as_json) and sys.stderr.isatty() else None
    if not (quiet or as_json):
        click.echo(f"Downloading {url}", err=True)
    try:
        got = download(url, folder or default_folder(index_dir), progress=bar.update if bar else None)
    except KBSearchError as e:
        raise _fail(e)
    finally:
        if bar:
            bar.close()
    if not (quiet or as_json):
        click.echo(f"Wrote {got.files:,} article files ({got.bytes / 1e6:,.1f} MB downloaded) to {got.folder}",
                   err=True)
    report = _index(index_dir, [got.folder], quiet or as_json)
    if as_json:
        _dump({"fetch": got.to_dict(), "index": report.to_dict()})
    elif not quiet:
        _print_report(report, index_dir, [got.folder], verbose=False)


@cli.command()
@click.argument("article_id")
@json_option
@index_option
def show(article_id, as_json, index_dir):
    """Print one article: Q168845, 168845 or KB168845, then the articles that cite it."""

    record = _with_kb(index_dir, lambda kb: kb.article(article_id))
    if as_json:
        _dump(record.to_dict())
        return
    click.echo(record.article.text.rstrip("\n"))
    click.echo("\n" + _cited_by_line(record.cited_by))


# The ids the ``Cited by`` line under ``show`` names before "and N more".
CITED_BY_SHOWN = 5


def _cited_by_line(citing: list) -> str:
    """``Cited by 7: Q1, Q2, Q3, Q4, Q5 and 2 more`` (``Cited by 0.`` when none)."""
    if not citing:
        return "Cited by 0."
    ids = ", ".join(c.id for c in citing[:CITED_BY_SHOWN])
    more = len(citing) - CITED_BY_SHOWN
    return f"Cited by {len(citing)}: {ids}" + (f" and {more} more" if more > 0 else "")


@cli.command()
@click.argument("article_id")
@click.option("-n", "--limit", default=10, show_default=True, type=click.IntRange(0, 1000),
              help="How many similar articles (and cited-by lines in text).")
@json_option
@index_option
def related(article_id, limit, as_json, index_dir):
    """What ARTICLE_ID cites, what cites it, and the articles about the same problem."""

    rel = _with_kb(index_dir, lambda kb: kb.related(article_id, limit=limit))
    if as_json:
        _dump(rel.to_dict())
        return
    click.echo(f"{click.style(rel.id, fg='cyan')}  {click.style(rel.title, bold=True)}")
    # One line per related article, labelled with the relation (grep-able).
    for label, items, total in (("cites", rel.cites, len(rel.cites)),
                                ("cited by", rel.cited_by[:limit], len(rel.cited_by)),
                                ("similar", rel.similar, len(rel.similar))):
        for c in items:
            extra = "  (not indexed)" if not getattr(c, "indexed", True) else ""
            if hasattr(c, "score"):
                extra = "  " + click.style(f"{c.score:.2f}", dim=True)
            click.echo(f"{label:<9} {click.style(c.id, fg='cyan')}  {c.title}{extra}")
        if total > len(items):
            click.echo(f"{label:<9} ... and {total - len(items)} more (--json lists them all)")
        elif not total:
            click.echo(f"{label:<9} none")


@cli.command()
@json_option
@index_option
def stats(as_json, index_dir):
    """What the index holds: articles by product, issue type and keyword
    (the values --product and --keyword take), their dates, and the fields
    an index made by an older kbsearch lacks (a --rebuild adds them)."""
    st = _with_kb(index_dir, lambda kb: kb.stats())
    if as_json:
        _dump(st)
        return
    click.echo(f"{st['articles']} articles in {st['index']}"
               + (f", dated {st['dates']['first']} to {st['dates']['last']}" if st["dates"] else ""))
    click.echo("\nProducts (--product takes words of the name, or the tag):")
    for name, n in st["products"].items():
        click.echo(f"{n:8}  {name}")
    click.echo("\nIssue types (--keyword):")
    for name, n in st["issue_types"].items():
        click.echo(f"{n:8}  {name}")
    keywords = list(st["keywords"].items())
    click.echo(f"\nKeywords (--keyword), the {min(30, len(keywords))} most common of {len(keywords):,} "
               f"(--json lists all):")
    for name, n in keywords[:30]:
        click.echo(f"{n:8}  {name}")
    if st["missing_fields"]:
        click.echo(f"Made by an older kbsearch, without {', '.join(st['missing_fields'])}: "
                   f"`kbsearch index --rebuild PATH...` adds them.", err=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 lets other machines reach the server.")
@click.option("-p", "--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("-w", "--workers", type=click.IntRange(1, 64),
              help="Processes answering requests, each with its own reader of the index (in one process, "
                   "queries take turns)  [default: one per core, at most 4].")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log each request on stderr.")
@index_option
def serve(host, port, workers, access_log, index_dir):
    """Serve the search page, article pages and JSON API over HTTP (read-only).

    \b
    /                    the search page (the URL holds the query and filters)
    /article/Q168845     an article, with what it cites, what cites it, similar articles
    /api/search?q=...    the search --json document (also /api/article/ID,
                         /api/related/ID, /api/stats; /openapi.json describes them)
    """
    from .errors import KBSearchError
    from .webapp import default_workers, is_loopback, serve as run

    kb = _open(index_dir)
    workers = workers or default_workers()

    def ready(url: str) -> None:
        click.echo(f"kbsearch serve: {url} ({kb.stats()['articles']:,} articles in {kb.path}; "
                   f"{workers} worker{'s' if workers > 1 else ''}); Ctrl-C stops", err=True)
        if not is_loopback(host):
            click.echo(f"kbsearch serve: listening on {host}, so other machines can reach it; "
                       "--host 127.0.0.1 keeps it to this one", err=True)

    try:
        run(kb, host, port, workers=workers, on_ready=ready, access_log=access_log)
    except KBSearchError as e:
        raise _fail(e)
    finally:
        kb.close()


@cli.command("eval")
@click.argument("judgments", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--per-query", is_flag=True,
              help="Also list each query: the rank of its first relevant article (- if not in the top 10) "
                   "and the article ranked first.")
@json_option
@index_option
def eval_(judgments, per_query, as_json, index_dir):
    """Score the ranking on JUDGMENTS files (JSON lines: query, relevant, exclude).

    Prints MRR@10, hit@10 and nDCG@10 for each file. Excluded articles count
    as not indexed: neither hits nor citing evidence. Judgments none of whose
    relevant articles the index has are counted on stderr (they score 0).
    """

    scores = _with_kb(index_dir, lambda kb: [kb.evaluate(j) for j in judgments])
    for s in scores:
        if s.unindexed:
            click.echo(f"{s.name}: {s.unindexed} of {s.queries} judgments name no article in this index "
                       f"(they score 0)", err=True)
    if as_json:
        _dump([s.to_dict(per_query=per_query) for s in scores])
        return
    click.echo(f"{'file':<28} {'queries':>7} {'MRR@10':>7} {'hit@10':>7} {'nDCG@10':>7} {'ms/q':>6}")
    for r in (s.to_dict() for s in scores):
        click.echo(f"{r['file']:<28} {r['queries']:>7} {r['mrr@10']:>7.3f} {r['hit@10']:>7.3f} "
                   f"{r['ndcg@10']:>7.3f} {r['ms_per_query']:>6}")
    if per_query:
        for s in scores:
            click.echo(f"\n{s.name}\n{'rank':>4}  {'first':<8}  query")
            for q in s.results:
                rank = str(q.rank) if q.rank else "-"
                first = q.ranking[0] if q.ranking else "-"
                query = " ".join(q.query.split())  # one line a query, whatever the file holds
                line = f"{rank:>4}  {first:<8}  {query}" + (f"  ({q.error})" if q.error else "")
                click.echo(click.style(line, fg=None if q.rank == 1 else "yellow" if q.rank else "red"))


@cli.command()
@index_option
def mcp(index_dir):
    """Serve the index to an assistant as Model Context Protocol tools on
    stdin/stdout: search, article and related.

    An MCP client (Claude Desktop, an IDE) starts this command itself; stdout
    carries only the protocol, messages go to stderr. Runs until the client
    closes stdin.
    """
    from .errors import KBSearchError
    from .mcp_server import serve_stdio

    try:
        serve_stdio(index_dir)
    except KBSearchError as e:
        raise _fail(e)


def main() -> None:
    cli()
