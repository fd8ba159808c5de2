"""What facets, batch and snippets cost and give, on a real index.

    python benchmarks/find.py --index KBINDEX [--queries N] [--one-shots N]

Prints three tables:
- warm query latency (p50/p95, one process) of the same sampled dev queries
  with and without ``facets=True``, alternating so the machine's drift
  falls on both;
- ``kbsearch batch`` throughput (queries a second, one process for all of
  them) against one-shot ``kbsearch QUERY --json`` processes;
- snippets of the top 10 of 20 queries: how many repeat the title, are a
  prefix of it, or are empty.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import peers


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="a kbsearch index of the archive")
    ap.add_argument("--queries", type=int, default=300, help="sampled dev queries timed (default 300)")
    ap.add_argument("--one-shots", type=int, default=20, help="one-shot processes timed (default 20)")
    return ap.parse_args()


def _pct(ms: list[float], p: float) -> float:
    ms = sorted(ms)
    return ms[min(len(ms) - 1, int(p * len(ms)))]


def facets_cost(kb, queries: list[str]) -> list[list[object]]:
    plain, faceted = [], []
    for i, q in enumerate(queries):
        kb.results(q, facets=True)  # untimed: the query's postings read once
        order = ((False, plain), (True, faceted)) if i % 2 else ((True, faceted), (False, plain))
        for facets, out in order:
            t = time.perf_counter()
            kb.results(q, facets=facets)
            out.append(1000 * (time.perf_counter() - t))
    rows = [["without facets", f"{statistics.median(plain):.1f}", f"{_pct(plain, 0.95):.1f}"],
            ["with facets", f"{statistics.median(faceted):.1f}", f"{_pct(faceted, 0.95):.1f}"]]
    rows.append(["added", f"{statistics.median(faceted) - statistics.median(plain):+.1f}",
                 f"{_pct(faceted, 0.95) - _pct(plain, 0.95):+.1f}"])
    return rows


def batch_throughput(index: Path, queries: list[str], one_shots: int) -> list[list[object]]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(queries) + "\n")
    cmd = [sys.executable, "-m", "kbsearch"]
    t = time.perf_counter()
    subprocess.run([*cmd, "batch", f.name, "--index", str(index)], check=True, capture_output=True)
    batch_s = time.perf_counter() - t
    t = time.perf_counter()
    for q in queries[:one_shots]:
        subprocess.run([*cmd, "search", "--json", "--index", str(index), "--", q], capture_output=True)
    one_s = (time.perf_counter() - t) / one_shots
    Path(f.name).unlink()
    return [["kbsearch batch", len(queries), f"{batch_s:.2f}", f"{len(queries) / batch_s:.1f}"],
            ["one-shot kbsearch QUERY --json", one_shots, f"{one_s * one_shots:.2f}", f"{1 / one_s:.1f}"],
            ["batch / one-shot", "", "", f"{(len(queries) / batch_s) * one_s:.1f}x"]]


def snippet_quality(kb, queries: list[str]) -> list[list[object]]:
    hits = [h for q in queries[:20] for h in kb.search(q, limit=10)]
    same = sum(1 for h in hits if h.snippet.strip(" …") == h.title.strip())
    prefix = sum(1 for h in hits if h.snippet and h.title.startswith(h.snippet.strip(" …")))
    empty = sum(1 for h in hits if not h.snippet)
    return [[len(hits), same, prefix, empty]]


def main() -> None:
    from kbsearch import KnowledgeBase

    args = parse_args()
    queries = peers.sample_queries(peers.default_judgments(), args.queries)
    with KnowledgeBase.open(args.index) as kb:
        peers.log(f"facets: {len(queries)} queries, each with and without")
        peers.print_table(["warm query", "p50 ms", "p95 ms"], facets_cost(kb, queries))
        print()
        peers.log("snippets of 20 queries' top 10")
        peers.print_table(["hits", "snippet is the title", "snippet is a title prefix", "empty"],
                          snippet_quality(kb, queries))
        print()
    peers.log(f"batch: {len(queries)} queries; one-shot: {args.one_shots}")
    peers.print_table(["run", "queries", "seconds", "queries/s"], batch_throughput(args.index, queries, args.one_shots))


if __name__ == "__main__":
    main()
