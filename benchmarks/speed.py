"""Archive-scale speed of kbsearch, each figure beside a peer measured in the same run.

    python benchmarks/speed.py [--archive DIR] [--work DIR] [--quick]
    python benchmarks/speed.py --index IX --index4 IX4 [--fts5 DB] [--queries N]

Figures: full build (wall time, peak RSS) against an SQLite FTS5 build of the
same parsed text; warm query latency (p50/p95, one process, one open index,
hits with snippets as the CLI shows them) against FTS5 OR queries (and plain
Whoosh, if ``relevance.py`` left its index in the work folder); a one-shot
``kbsearch QUERY`` process (wall, peak RSS) against ripgrep or ``grep -ril``;
re-indexing after one article changed against an FTS5 row update, and a
re-index run with nothing changed. ``--quick`` uses the first few archive
folders, fewer queries and fewer repeats, in ``WORK/quick``.

With ``--index4`` only queries are measured, on built indexes: the same
queries alternate between the archive's index (``--index``) and one of an
archive four times its size in one process (p50/p95 at each size, 4× ÷ 1×),
FTS5 runs them on the 1× archive in the same run, and the one-shot CLI runs
on the 1× index beside one grep pass over the archive.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import peers
from kbsearch.errors import KBSearchError
from kbsearch.kb import KnowledgeBase

ONE_SHOT_QUERY = "redirector unable to delete"
GREP_WORD = "redirector"
FREE_ID = "Q999999"  # the changed article's id: absent from the archive (checked)
QUICK_FOLDERS = 16
WARMUP_QUERIES = 20
SCALE_QUERIES = 300
# Issue 31's targets, as ratios within one run.
FTS5_P50, FTS5_P95, SCALE_GROWTH, ONE_SHOT_VS_GREP = 0.20, 0.30, 1.6, 1.2


@dataclass
class Settings:
    """What a run measures over: full or ``--quick``."""

    roots: list[str]
    work: Path
    queries: int
    runs: int


@dataclass
class Figure:
    """One row of the table: kbsearch's value, the peer's, and kbsearch's target."""

    name: str
    unit: str
    kb: float
    peer: float | None = None
    peer_name: str = ""
    target: float | None = None

    def row(self) -> list[str]:
        peer = "—" if self.peer is None else f"{self._fmt(self.peer)} ({self.peer_name})"
        ratio = f"{self.kb / self.peer:.2f}×" if self.peer else "—"
        target = "—" if self.target is None else f"≤ {self._fmt(self.target)}"
        met = "—" if self.target is None else ("yes" if self.kb <= self.target else "no")
        return [self.name, self._fmt(self.kb), peer, ratio, target, met]

    def _fmt(self, v: float) -> str:
        return f"{v:.0f} {self.unit}" if v >= 100 else f"{v:.3g} {self.unit}"


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    peers.add_common_args(ap)
    ap.add_argument("--quick", action="store_true", help="smoke run: a subset of the archive, fewer queries and runs")
    ap.add_argument("--index", type=Path, help="a built index of the archive (with --index4)")
    ap.add_argument("--index4", type=Path, help="a built index of an archive 4× the size: measure queries only")
    ap.add_argument("--fts5", type=Path, help="a built FTS5 peer of the archive (default: WORK/fts5.db, built if missing)")
    ap.add_argument("--queries", type=int, default=SCALE_QUERIES, help="queries with --index4")
    return ap.parse_args()


def settings(args: argparse.Namespace) -> Settings:
    if not args.quick:
        return Settings([args.archive], args.work, queries=500, runs=7)
    folders = sorted(p for p in Path(args.archive).iterdir() if p.is_dir())[:QUICK_FOLDERS]
    return Settings([str(p) for p in folders], args.work / "quick", queries=100, runs=3)


# --- build --------------------------------------------------------------------

def measure_build(s: Settings) -> list[Figure]:
    """``kbsearch index --rebuild`` and the FTS5 build, each in a subprocess of its own."""
    peers.log("full build: kbsearch")
    kb = peers.build_kbsearch(s.work / "kb", s.roots, rebuild=True)
    peers.log(f"  {kb.seconds:.1f} s, {kb.peak_mb:.0f} MB; full build: sqlite-fts5")
    fts = peers.run_measured(peers.peers_cmd() + ["build-fts5", str(s.work), *s.roots])
    peers.log(f"  {fts.seconds:.1f} s, {fts.peak_mb:.0f} MB")
    return [Figure("full build wall time", "s", kb.seconds, fts.seconds, "sqlite-fts5", 60),
            Figure("full build peak RSS", "MB", kb.peak_mb, fts.peak_mb, "sqlite-fts5")]


# --- warm queries -------------------------------------------------------------

def latencies_ms(run: Callable[[str], object], queries: Sequence[str], warmup: Sequence[str]) -> list[float]:
    """Milliseconds per query after running ``warmup`` untimed; rejected queries are left out."""
    for q in warmup:
        _try(run, q)
    out = []
    for q in queries:
        t0 = time.perf_counter()
        if _try(run, q):
            out.append(1000 * (time.perf_counter() - t0))
    return out


def _try(run: Callable[[str], object], q: str) -> bool:
    try:
        run(q)
    except KBSearchError:
        return False
    return True


def measure_warm(s: Settings) -> list[Figure]:
    """p50/p95 of kbsearch's full display against each peer's query, over the same dev queries."""
    files = peers.default_judgments()
    queries = peers.sample_queries(files, s.queries)
    warmup = [q for q in peers.sample_queries(files, WARMUP_QUERIES, offset=1) if q not in set(queries)]
    peers.log(f"warm queries: {len(queries)} (after {len(warmup)} untimed)")
    with peers.KbRanker(s.work / "kb") as kb:
        kb_ms = latencies_ms(kb.display, queries, warmup)
    # This process holds nothing else of size: its peak is the query process's.
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = []
    for p, label in _peers_for_warm(s):
        with p.ranker(p.index_path(s.work)) as ranker:
            peer_ms = latencies_ms(ranker.display, queries, warmup)
        out += [Figure(f"warm query p50, n={len(kb_ms)}", "ms", peers.percentile(kb_ms, 50),
                       peers.percentile(peer_ms, 50), label, 20),
                Figure(f"warm query p95, n={len(kb_ms)}", "ms", peers.percentile(kb_ms, 95),
                       peers.percentile(peer_ms, 95), label, 80)]
    return out + [Figure(f"warm query process, peak RSS after {len(queries)}", "MB", rss_mb)]


def _peers_for_warm(s: Settings) -> list[tuple[peers.Peer, str]]:
    """FTS5 always (this run built it); plain Whoosh when its index for these roots is in the work folder."""
    out = [(peers.FTS5, "sqlite-fts5 + snippet()")]
    if peers.is_cached(peers.WHOOSH.index_path(s.work), s.roots):
        out.append((peers.WHOOSH, "whoosh, ids only"))
    else:
        peers.log("  (no plain-Whoosh index in the work folder: run relevance.py with this --work to add it)")
    return out


def measure_scale(s: Settings, index: Path, index4: Path, fts5: Path) -> list[Figure]:
    """Warm p50/p95 with the same queries alternating between the 1× and
    the 4× index in one process, and FTS5's on the 1× archive."""
    files = peers.default_judgments()
    queries = peers.sample_queries(files, s.queries)
    warmup = [q for q in peers.sample_queries(files, WARMUP_QUERIES, offset=1) if q not in set(queries)]
    peers.log(f"scale: {len(queries)} queries alternating between {index} and {index4} (after {len(warmup)} untimed)")
    ms: dict[int, list[float]] = {1: [], 4: []}
    with peers.KbRanker(index) as one, peers.KbRanker(index4) as four:
        for q in warmup:
            _try(one.display, q), _try(four.display, q)
        for i, q in enumerate(queries):
            # Which size goes first alternates, so neither always finds the other's work in the CPU caches.
            for size, kb in ((1, one), (4, four)) if i % 2 == 0 else ((4, four), (1, one)):
                t0 = time.perf_counter()
                if _try(kb.display, q):
                    ms[size].append(1000 * (time.perf_counter() - t0))
    peers.log(f"  fts5 on {fts5}")
    with peers.FTS5.ranker(fts5) as ranker:
        fts_ms = latencies_ms(ranker.display, queries, warmup)
    p = peers.percentile
    n = len(ms[1])
    p50, p95, f50, f95 = p(ms[1], 50), p(ms[1], 95), p(fts_ms, 50), p(fts_ms, 95)
    label = "sqlite-fts5 + snippet()"
    return [Figure(f"warm query p50, 1×, n={n}", "ms", p50, f50, label, FTS5_P50 * f50),
            Figure(f"warm query p95, 1×, n={n}", "ms", p95, f95, label, FTS5_P95 * f95),
            Figure(f"warm query p50, 4×, n={len(ms[4])}", "ms", p(ms[4], 50), p50, "kbsearch 1×", SCALE_GROWTH * p50),
            Figure(f"warm query p95, 4×, n={len(ms[4])}", "ms", p(ms[4], 95), p95, "kbsearch 1×", SCALE_GROWTH * p95)]


# --- one-shot CLI -------------------------------------------------------------

def grep_cmd(roots: Sequence[str]) -> tuple[list[str], str]:
    """ripgrep listing the files that hold the word, else ``grep -ril``; and its label."""
    if shutil.which("rg"):
        return ["rg", "-i", "-l", GREP_WORD, *roots], "rg -il"
    return ["grep", "-ril", GREP_WORD, *roots], "grep -ril"


def measure_one_shot(s: Settings, index: Path | None = None) -> list[Figure]:
    """Median wall time and peak RSS of ``kbsearch QUERY`` against a grep of the archive."""
    peers.log(f"one-shot: {s.runs} runs each")
    cmd = peers.kbsearch_cmd() + [ONE_SHOT_QUERY, "--index", str(index or s.work / "kb")]
    kb_s, kb_mb = peers.repeat(cmd, s.runs)
    gcmd, label = grep_cmd(s.roots)
    g_s, g_mb = peers.repeat(gcmd, s.runs, check=False)
    return [Figure("one-shot CLI query, median wall", "s", kb_s, g_s, label, ONE_SHOT_VS_GREP * g_s),
            Figure("one-shot CLI query, peak RSS", "MB", kb_mb, g_mb, label)]


# --- incremental --------------------------------------------------------------

def make_extra_article(s: Settings) -> Path:
    """Copy one archive article into ``WORK/extra`` under an id the archive lacks."""
    extra = s.work / "extra"
    shutil.rmtree(extra, ignore_errors=True)
    extra.mkdir(parents=True)
    if _indexed(s.work / "kb", FREE_ID):
        raise SystemExit(f"{FREE_ID} is in the archive: choose another free id")
    source = Path(peers.archive_files(s.roots)[0])
    text = source.read_bytes().decode("latin-1")  # any bytes, written back unchanged
    text, n = re.subn(r"^(DOCUMENT:\s*)Q\d+", rf"\g<1>{FREE_ID}", text, count=1, flags=re.M)
    if not n:
        raise SystemExit(f"no DOCUMENT: line in {source}")
    target = extra / f"{FREE_ID}.TXT"
    target.write_text(text, encoding="latin-1")
    return target


def _indexed(index: Path, article_id: str) -> bool:
    with KnowledgeBase.open(index) as kb:
        try:
            kb.get(article_id)
        except KBSearchError:
            return False
    return True


def edit(article: Path, n: int) -> None:
    """A body edit that keeps the id: one more line at the end (size and mtime change)."""
    with open(article, "a", encoding="ascii") as f:
        f.write(f"\nBenchmark edit {n}.\n")


def index_run(s: Settings, extra: Path) -> dict:
    """``kbsearch index ROOTS WORK/extra --index WORK/kb --json`` timed; its report plus ``seconds``."""
    cmd = peers.kbsearch_cmd() + ["index", *s.roots, str(extra), "--index", str(s.work / "kb"), "--json"]
    run = peers.run_measured(cmd)
    report = json.loads(run.stdout)
    report["wall"] = run.seconds
    return report


def measure_incremental(s: Settings) -> list[Figure]:
    """One changed article (median of ``runs``) and a run with nothing changed, against an FTS5 row update."""
    article = make_extra_article(s)
    db = peers.FTS5.index_path(s.work)
    report = index_run(s, article.parent)  # adds the copy: not timed
    peers.log(f"incremental: copy {article.name} added ({report['added']} added); {s.runs} edits")
    changed, fts, unchanged = [], [], []
    for n in range(s.runs):
        edit(article, n)
        report = index_run(s, article.parent)
        if report["updated"] != 1 or report["added"] or report["removed"]:
            peers.log(f"  unexpected report after an edit: {report}")
        changed.append(report["wall"])
        fts.append(peers.run_measured(peers.peers_cmd() + ["update-fts5", str(db), str(article)]).seconds)
        unchanged.append(index_run(s, article.parent)["wall"])
    # Leave both indexes as built: the copy removed from kbsearch's, its row from FTS5's.
    article.unlink()
    index_run(s, article.parent)
    peers.remove_fts5_row(db, int(FREE_ID[1:]))
    med = statistics.median
    return [Figure("re-index, one article changed", "s", med(changed), med(fts), "fts5 row update", 1.0),
            Figure("re-index, nothing changed", "s", med(unchanged))]


def main() -> None:
    args = parse_args()
    s = settings(args)
    s.work.mkdir(parents=True, exist_ok=True)
    if args.index4:
        if args.index is None:
            raise SystemExit("--index4 needs --index (the 1× index)")
        fts5 = args.fts5 or peers.FTS5.index_path(s.work)
        if not fts5.exists():
            peers.run_measured(peers.peers_cmd() + ["build-fts5", str(s.work), *s.roots])
        s.queries = args.queries
        figures = measure_scale(s, args.index, args.index4, fts5) + measure_one_shot(s, args.index)
        peers.print_table(["figure", "kbsearch", "peer", "ratio", "target", "met"], [f.row() for f in figures])
        return
    figures = measure_build(s) + measure_warm(s) + measure_one_shot(s) + measure_incremental(s)
    peers.print_table(["figure", "kbsearch", "peer", "ratio", "target", "met"], [f.row() for f in figures])


if __name__ == "__main__":
    main()
