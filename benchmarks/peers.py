"""Shared code of the benchmarks: the archive's articles, the peer engines, timing and tables.

Peers are the baselines kbsearch is measured against, built from the same
parsed articles (:func:`load_docs`):

- ``sqlite-fts5``: one FTS5 table ``(id UNINDEXED, title, body)`` with the
  porter tokenizer; a query is the OR of its words, ranked by ``bm25()``.
- ``whoosh``: plain Whoosh, ``id`` + ``body`` (title and body text) with the
  default StandardAnalyzer, OR-group query parser, default BM25F.
- ``tantivy`` (when the ``tantivy`` package is installed: ``pip install -e
  '.[bench]'``): ``title`` and ``body`` fields with Tantivy's default
  tokenizer; the query's words OR-ed over both fields, BM25.

Run as a script, this module builds or updates the FTS5 peer in a process of
its own, so that ``speed.py`` can measure its wall time and peak RSS apart::

    python benchmarks/peers.py build-fts5 WORK ROOT...
    python benchmarks/peers.py update-fts5 DB FILE
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from kbsearch.article import parse_file
from kbsearch.errors import KBSearchError
from kbsearch.evaluate import Judgment, load_judgments

# kbsearch.ingest and kbsearch.kb (Whoosh, numpy) are imported where used, so
# that ``peers.py update-fts5`` starts as fast as a small script can.

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEFAULT_WORK = Path("/tmp/kbsearch-bench")
PARSE_PROCS = 2


def log(msg: str) -> None:
    """Progress and notes go to stderr; stdout carries only the table."""
    print(msg, file=sys.stderr, flush=True)


# --- inputs -------------------------------------------------------------------

def default_archive() -> str | None:
    """The unpacked archive folder printed by ``../shared/kbarchive/path``, if that script exists."""
    script = SHARED / "kbarchive" / "path"
    if not script.exists():
        return None
    out = subprocess.run([str(script)], capture_output=True, text=True, check=True)
    return out.stdout.strip() or None


def default_judgments() -> list[Path]:
    """The dev judgment files in ``../shared/eval``."""
    return sorted((SHARED / "eval").glob("dev-*.jsonl"))


def add_common_args(ap: argparse.ArgumentParser) -> None:
    """``--archive`` and ``--work``, as every benchmark script takes them."""
    archive = default_archive()
    ap.add_argument("--archive", default=archive, required=archive is None,
                    help=f"archive folder (txt/NNN/QNNNNN.TXT; default: {archive})")
    ap.add_argument("--work", type=Path, default=DEFAULT_WORK,
                    help=f"scratch folder for built indexes (default: {DEFAULT_WORK})")


def add_generator_args(ap: argparse.ArgumentParser, leave_out_help: str) -> None:
    """``--archive``, ``--out``, ``--seed`` and ``--leave-out``, as the
    judgment generators (``fragments.py``, ``citations.py``) take them."""
    ap.add_argument("--archive", required=True, help="folder of article files")
    ap.add_argument("--out", required=True, help="judgments file to write (outside the repository)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--leave-out", action="append", default=[], metavar="JUDGMENTS", help=leave_out_help)


def articles_named(files: Iterable[str], excluded: bool = False) -> set[str]:
    """The ids the judgments in ``files`` count as relevant (and, with
    ``excluded``, the ids they exclude)."""
    return {i for f in files for j in load_judgments(f)
            for i in (*j.relevant, *(j.exclude if excluded else ()))}


def sample_queries(files: Iterable[Path], count: int, offset: int = 0) -> list[str]:
    """``count`` queries (at most): every Nth line over all the judgment files, from line ``offset``."""
    queries = [j.query for f in files for j in load_judgments(f)]
    step = max(1, len(queries) // max(1, count))
    return queries[offset::step][:count]


def subsample(judgments: list[Judgment], every: int) -> list[Judgment]:
    """Every ``every``-th judgment (all of them for 1)."""
    return judgments[::max(1, every)]


# --- the articles -------------------------------------------------------------

@dataclass(frozen=True)
class Doc:
    """What the peers index of one article."""

    id: str
    title: str
    body: str

    @property
    def rowid(self) -> int:
        return int(self.id[1:])


def archive_files(roots: Sequence[str]) -> list[str]:
    """Every article file under ``roots``, found the way ``kbsearch index`` finds them."""
    from kbsearch.ingest import find_files

    skipped: list = []
    files = find_files(roots, skipped)
    for s in skipped:
        log(f"skipped {s.path}: {s.reason}")
    return [path for path, _ in files.values()]


def _parse(path: str) -> tuple[Doc, str, str] | None:
    """``(doc, date, path)`` for one file, or None if it is not an article."""
    try:
        art = parse_file(path)
    except KBSearchError:
        return None
    date = art.date.isoformat() if art.date else ""
    return Doc(art.id, art.title, art.body), date, path


def load_docs(roots: Sequence[str], procs: int = PARSE_PROCS) -> list[Doc]:
    """Parse every article under ``roots`` once, in ``procs`` processes.

    Files raising :class:`KBSearchError` are skipped. When two files carry one
    Q-number, the later ``DOCUMENT:`` date wins, then the later path, as in
    ``kbsearch index``.
    """
    paths = archive_files(roots)
    best: dict[str, tuple[str, str, Doc]] = {}
    skipped = 0
    with mp.get_context("fork").Pool(procs) as pool:
        for n, res in enumerate(pool.imap(_parse, paths, chunksize=256), 1):
            if res is None:
                skipped += 1
            else:
                doc, date, path = res
                if (date, path) > best.get(doc.id, ("", "", doc))[:2]:
                    best[doc.id] = (date, path, doc)
            if n % 10000 == 0:
                log(f"  parsed {n}/{len(paths)} files")
    log(f"  parsed {len(paths)} files: {len(best)} articles, {skipped} skipped")
    return [doc for _, _, doc in best.values()]


# --- build records ------------------------------------------------------------

@dataclass
class BuildRecord:
    """How an index was built: kept beside it (``INDEX.build.json``) so cached runs can report it."""

    seconds: float
    docs: int
    roots: list[str]
    peak_mb: float = 0.0

    @staticmethod
    def path_for(index: Path) -> Path:
        index = Path(index)
        return index.with_name(index.name + ".build.json")

    @classmethod
    def load(cls, index: Path) -> "BuildRecord | None":
        try:
            return cls(**json.loads(cls.path_for(index).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def save(self, index: Path) -> None:
        self.path_for(index).write_text(json.dumps(asdict(self)))


def abs_roots(roots: Sequence[str]) -> list[str]:
    return [os.path.abspath(r) for r in roots]


def is_cached(index: Path, roots: Sequence[str]) -> bool:
    """Whether ``index`` exists and was built by these scripts from ``roots``."""
    rec = BuildRecord.load(index)
    return Path(index).exists() and rec is not None and rec.roots == abs_roots(roots)


def _remove(path: Path) -> None:
    """Delete a file or folder, if there."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _replace(tmp: Path, final: Path) -> None:
    """Move a finished build into place, removing what was there."""
    _remove(final)
    tmp.rename(final)


def _scratch(final: Path) -> Path:
    """An empty sibling path to build ``final`` in."""
    tmp = final.with_name(final.name + ".tmp")
    _remove(tmp)
    return tmp


# --- peer: SQLite FTS5 --------------------------------------------------------

FTS5_SCHEMA = "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='porter')"


def fts5_insert(db: sqlite3.Connection, docs: Iterable[Doc]) -> None:
    db.executemany("INSERT INTO docs(rowid, id, title, body) VALUES (?, ?, ?, ?)",
                   ((d.rowid, d.id, d.title, d.body) for d in docs))


def build_fts5(path: Path, docs: Sequence[Doc]) -> None:
    """Write the FTS5 peer of ``docs`` at ``path`` (rowid = the article number)."""
    tmp = _scratch(Path(path))
    db = sqlite3.connect(tmp)
    try:
        db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
        db.execute(FTS5_SCHEMA)
        with db:
            fts5_insert(db, docs)
            db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    finally:
        db.close()
    _replace(tmp, Path(path))


def remove_fts5_row(path: Path, rowid: int) -> None:
    """Delete one article (by number) from the FTS5 peer."""
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
    finally:
        db.close()


def update_fts5(path: Path, file: str) -> None:
    """Re-index one article file in the FTS5 peer: delete its row, insert the new text."""
    res = _parse(file)
    if res is None:
        raise KBSearchError(f"not an article: {file}")
    doc = res[0]
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute("DELETE FROM docs WHERE rowid = ?", (doc.rowid,))
            fts5_insert(db, [doc])
    finally:
        db.close()


def query_words(text: str) -> list[str]:
    """The query's whitespace-separated words that hold a letter or digit, double quotes removed."""
    words = (w.replace('"', "") for w in text.split())
    return [w for w in words if any(c.isalnum() for c in w)]


def fts5_match(text: str) -> str:
    """An FTS5 MATCH expression: the OR of the query's words, each a quoted string."""
    words = query_words(text)
    if not words:
        raise KBSearchError(f"no words in {text!r}")
    return " OR ".join(f'"{w}"' for w in words)


class Ranker:
    """A system under test: ``rank(query, k) -> ids`` for :func:`kbsearch.evaluate.evaluate`,
    ``display(query)`` for what a user would be shown, ``close()``; a context manager."""

    name = ""

    def __call__(self, query: str, k: int, exclude: frozenset[str] = frozenset()) -> list[str]:
        """The top ``k`` ids; ``exclude`` matters only to rankers that use links (kbsearch)."""
        raise NotImplementedError

    def display(self, query: str, k: int = 10) -> list:
        """The top ``k`` as a result list shows them (ids only unless a system has more)."""
        return self(query, k)

    def close(self) -> None:
        pass

    def __enter__(self) -> "Ranker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Fts5Ranker(Ranker):
    """``rank(query, k)`` over the FTS5 peer, best ``bm25()`` first."""

    name = "sqlite-fts5"

    def __init__(self, path: Path):
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def _query(self, columns: str, query: str, k: int) -> list[tuple]:
        sql = f"SELECT {columns} FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?"
        try:
            return self.db.execute(sql, (fts5_match(query), k)).fetchall()
        except sqlite3.OperationalError as e:
            raise KBSearchError(f"fts5: {e}") from None

    def __call__(self, query: str, k: int, exclude: frozenset[str] = frozenset()) -> list[str]:
        return [r[0] for r in self._query("id", query, k)]

    def display(self, query: str, k: int = 10) -> list:
        """Ids, titles and ``snippet()`` of the body around the matches."""
        return self._query("id, title, snippet(docs, 2, '[', ']', '...', 24)", query, k)

    def close(self) -> None:
        self.db.close()


# --- peer: plain Whoosh -------------------------------------------------------

def whoosh_schema():
    from whoosh.fields import ID, TEXT, Schema

    return Schema(id=ID(stored=True, unique=True), body=TEXT())


def build_whoosh(path: Path, docs: Sequence[Doc]) -> None:
    """Write the plain-Whoosh peer of ``docs`` at ``path`` (two writer processes)."""
    from whoosh import index

    tmp = _scratch(Path(path))
    tmp.mkdir(parents=True)
    ix = index.create_in(str(tmp), whoosh_schema())
    writer = ix.writer(procs=2, multisegment=True, limitmb=256)
    for n, d in enumerate(docs, 1):
        writer.add_document(id=d.id, body=f"{d.title}\n{d.body}")
        if n % 10000 == 0:
            log(f"  whoosh: {n}/{len(docs)} documents sent")
    log("  whoosh: committing")
    writer.commit()
    ix.close()
    _replace(tmp, Path(path))


class WhooshRanker(Ranker):
    """``rank(query, k)`` over the plain-Whoosh peer: OR of the quoted words, BM25F."""

    name = "whoosh"

    def __init__(self, path: Path):
        from whoosh import index
        from whoosh.qparser import OrGroup, QueryParser

        self.ix = index.open_dir(str(path))
        self.searcher = self.ix.searcher()
        self.parser = QueryParser("body", self.ix.schema, group=OrGroup)

    def __call__(self, query: str, k: int, exclude: frozenset[str] = frozenset()) -> list[str]:
        # Each word quoted: no Whoosh syntax survives, and a word such as
        # client.lkp is analysed as one, as the FTS5 peer sees it.
        q = self.parser.parse(" ".join(f'"{w}"' for w in query_words(query)))
        return [hit["id"] for hit in self.searcher.search(q, limit=k)]

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()


# --- peer: Tantivy (optional) --------------------------------------------------

def tantivy_installed() -> bool:
    return importlib.util.find_spec("tantivy") is not None


# Tantivy's default tokenizer: lower case, no stemming ("en_stem" stems).
TANTIVY_TOKENIZER = "default"


def build_tantivy(path: Path, docs: Sequence[Doc]) -> None:
    """Write the Tantivy peer of ``docs`` at ``path``: ``id`` (raw), ``title``
    and ``body`` with :data:`TANTIVY_TOKENIZER`."""
    import tantivy

    tmp = _scratch(Path(path))
    tmp.mkdir(parents=True)
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", tokenizer_name=TANTIVY_TOKENIZER)
    sb.add_text_field("body", tokenizer_name=TANTIVY_TOKENIZER)
    ix = tantivy.Index(sb.build(), path=str(tmp))
    writer = ix.writer(heap_size=256_000_000, num_threads=2)
    for d in docs:
        writer.add_document(tantivy.Document(id=d.id, title=d.title, body=d.body))
    writer.commit()
    writer.wait_merging_threads()
    del writer, ix
    _replace(tmp, Path(path))


def tantivy_query_text(query: str) -> str:
    """The query's words for Tantivy's parser, lower-cased and with their
    punctuation made spaces: no operator (``AND``, ``+``, ``"``, ``:``)
    survives, and ``client.lkp`` is the two words the tokenizer indexed."""
    words = ("".join(c if c.isalnum() else " " for c in w) for w in query_words(query))
    return " ".join(" ".join(words).lower().split())


class TantivyRanker(Ranker):
    """``rank(query, k)`` over the Tantivy peer: the OR of the words over title and body, BM25."""

    name = "tantivy"

    def __init__(self, path: Path):
        import tantivy

        self.ix = tantivy.Index.open(str(path))
        self.searcher = self.ix.searcher()

    def __call__(self, query: str, k: int, exclude: frozenset[str] = frozenset()) -> list[str]:
        text = tantivy_query_text(query)
        if not text:
            raise KBSearchError(f"no words in {query!r}")
        q = self.ix.parse_query(text, ["title", "body"])
        return [self.searcher.doc(addr)["id"][0] for _, addr in self.searcher.search(q, k).hits]


# --- kbsearch as a ranker -----------------------------------------------------

class KbRanker(Ranker):
    """``rank(query, k, exclude)`` through :meth:`KnowledgeBase.search` (hits with snippets, as the CLI shows)."""

    name = "kbsearch"

    def __init__(self, path: Path, ranking=None, vocabulary: bool = True):
        from kbsearch.kb import KnowledgeBase

        self.kb = KnowledgeBase.open(path) if ranking is None else KnowledgeBase.open(path, ranking=ranking)
        self.vocabulary = vocabulary

    def __call__(self, query: str, k: int, exclude: frozenset[str] = frozenset()) -> list[str]:
        return [h.id for h in self.kb.search(query, limit=k, exclude=exclude, vocabulary=self.vocabulary)]

    def display(self, query: str, k: int = 10) -> list:
        """What ``kbsearch QUERY`` computes before printing: hits, snippets and the total."""
        return self.kb.results(query, limit=k).hits

    def close(self) -> None:
        self.kb.close()


@dataclass(frozen=True)
class Peer:
    """A baseline: where its index lives in the work folder, how to build and query it."""

    name: str
    filename: str
    build: Callable[[Path, Sequence[Doc]], None]
    ranker: Callable[[Path], Ranker]

    def index_path(self, work: Path) -> Path:
        return Path(work) / self.filename


FTS5 = Peer("sqlite-fts5", "fts5.db", build_fts5, Fts5Ranker)
WHOOSH = Peer("whoosh", "whoosh", build_whoosh, WhooshRanker)
TANTIVY = Peer("tantivy", "tantivy", build_tantivy, TantivyRanker)
PEERS = (FTS5, WHOOSH)


def relevance_peers() -> tuple[Peer, ...]:
    """The peers of the relevance table: FTS5 and plain Whoosh, and Tantivy where it is installed."""
    if tantivy_installed():
        return (*PEERS, TANTIVY)
    log("tantivy is not installed: its peer is left out (pip install -e '.[bench]')")
    return PEERS


def ensure_peers(peers: Sequence[Peer], work: Path, roots: Sequence[str],
                 rebuild: bool = False) -> dict[str, tuple[BuildRecord, bool]]:
    """Build the peers not cached in ``work`` (parsing the archive once for all of them).

    Returns ``{name: (build record, was cached)}``; a record's seconds are the
    shared parse time plus that peer's own indexing time.
    """
    Path(work).mkdir(parents=True, exist_ok=True)
    todo = [p for p in peers if rebuild or not is_cached(p.index_path(work), roots)]
    out = {p.name: (BuildRecord.load(p.index_path(work)), True) for p in peers if p not in todo}
    if not todo:
        return out
    log(f"parsing the articles under {', '.join(roots)} for {', '.join(p.name for p in todo)}")
    t0 = time.perf_counter()
    docs = load_docs(roots)
    parse_s = time.perf_counter() - t0
    log(f"  parse: {parse_s:.1f} s")
    for p in todo:
        log(f"building {p.name} at {p.index_path(work)}")
        t0 = time.perf_counter()
        p.build(p.index_path(work), docs)
        rec = BuildRecord(round(parse_s + time.perf_counter() - t0, 2), len(docs), abs_roots(roots))
        rec.save(p.index_path(work))
        log(f"  {p.name}: {rec.seconds:.1f} s (parse included)")
        out[p.name] = (rec, False)
    return out


# --- measuring processes ------------------------------------------------------

@dataclass
class Run:
    """One finished subprocess: wall time, peak RSS (its own or its children's) and output."""

    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


# A minimal process that runs a command and writes the command's peak RSS
# (KB, itself and its waited-for descendants) to a file: used where GNU time
# is missing. The command's floor is this interpreter's own RSS, ~7 MB.
_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _with_rss(cmd: Sequence[str], rss_file: str) -> list[str]:
    """``cmd`` wrapped so that its peak RSS (KB) ends up on the last line of ``rss_file``.

    Neither ``getrusage(RUSAGE_CHILDREN)`` nor ``os.wait4`` from this process
    can give it: a child's ``ru_maxrss`` starts at the RSS of the process that
    forked it (kept through ``exec``), and this one holds an index and numpy.
    So the command is started by a small process: GNU ``time`` if installed,
    else :data:`_LAUNCHER`.
    """
    gnu_time = shutil.which("time")
    if gnu_time:
        return [gnu_time, "-f", "%M", "-o", rss_file, "--", *cmd]
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, rss_file, *cmd]


def run_measured(cmd: Sequence[str], check: bool = True) -> Run:
    """Run ``cmd`` once: wall time (this process's clock) and peak RSS, its workers included."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        t0 = time.perf_counter()
        proc = subprocess.run(_with_rss(cmd, rss.name), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, errors="replace")
        seconds = time.perf_counter() - t0
        lines = rss.read().split()
    peak_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    run = Run(seconds, peak_kb / 1024, proc.returncode, proc.stdout, proc.stderr)
    if check and run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {run.returncode}: {run.stderr.strip()[-500:]}")
    return run


def repeat(cmd: Sequence[str], times: int, check: bool = True) -> tuple[float, float]:
    """(median wall seconds, largest peak RSS in MB) over ``times`` runs of ``cmd``."""
    runs = [run_measured(cmd, check) for _ in range(times)]
    return statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs)


def kbsearch_cmd() -> list[str]:
    """The ``kbsearch`` script of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "kbsearch"
    found = str(beside) if beside.exists() else shutil.which("kbsearch")
    if not found:
        raise SystemExit("kbsearch is not installed in this environment")
    return [found]


def peers_cmd() -> list[str]:
    """This module, run as a script by the running interpreter."""
    return [sys.executable, str(Path(__file__).resolve())]


def build_kbsearch(index: Path, roots: Sequence[str], rebuild: bool = False) -> Run:
    """``kbsearch index ROOTS --index INDEX -q`` as a measured subprocess; records the build."""
    cmd = kbsearch_cmd() + ["index", *roots, "--index", str(index), "-q"] + (["--rebuild"] if rebuild else [])
    run = run_measured(cmd)
    with KbRanker(index) as kb:
        docs = kb.kb.stats()["articles"]
    BuildRecord(round(run.seconds, 2), docs, abs_roots(roots), round(run.peak_mb, 1)).save(index)
    return run


# --- output -------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated."""
    s = sorted(values)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric_from: int = 1) -> None:
    """Print a Markdown table; columns from ``numeric_from`` on are right-aligned."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if i >= numeric_from else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(r, widths))) + " |"

    print(line(cells[0]))
    print("|" + "|".join(("-" * (w + 1) + ":") if i >= numeric_from else ("-" * (w + 2))
                         for i, w in enumerate(widths)) + "|")
    for r in cells[1:]:
        print(line(r))
    sys.stdout.flush()


# --- script -------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Build or update the SQLite FTS5 peer in a process of its own.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build-fts5", help=f"parse the articles under ROOTS and write WORK/{FTS5.filename} afresh")
    b.add_argument("work", type=Path)
    b.add_argument("roots", nargs="+")
    u = sub.add_parser("update-fts5", help="re-index one article FILE in the FTS5 database DB")
    u.add_argument("db", type=Path)
    u.add_argument("file")
    args = ap.parse_args(argv)
    if args.cmd == "build-fts5":
        ensure_peers([FTS5], args.work, args.roots, rebuild=True)
    else:
        update_fts5(args.db, args.file)


if __name__ == "__main__":
    main()
