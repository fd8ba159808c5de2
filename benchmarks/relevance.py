"""Relevance of kbsearch beside two baselines on the dev judgments, in one run.

    python benchmarks/relevance.py --index KBINDEX [--archive DIR] [--work DIR]
                                   [--judgments FILE...] [--every N] [--rebuild]
                                   [--per-query FILE]

kbsearch is read from KBINDEX (built from the archive first if it does not
exist). The peers, SQLite FTS5 and plain Whoosh, and Tantivy where it is
installed (see ``peers.py``), are built from the same parsed articles and
cached in ``--work``; ``--rebuild`` builds them afresh. Every system is
scored by :func:`kbsearch.evaluate.evaluate`: MRR@10, hit@10, nDCG@10 and
milliseconds per query (kbsearch's include its hits' snippets, as
``kbsearch eval`` does; the peers return ids only).
``--per-query FILE`` also writes each query's reciprocal rank per system,
as JSON lines, for ``heldout.py``, which tells the files apart by name (so
they must have different names).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import peers
from kbsearch.engine import index_exists
from kbsearch.evaluate import Scores, evaluate, load_judgments


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    peers.add_common_args(ap)
    ap.add_argument("--index", type=Path, required=True, help="kbsearch index (built from --archive if absent)")
    ap.add_argument("--judgments", nargs="+", type=Path, default=peers.default_judgments(),
                    help="judgment files (default: ../shared/eval/dev-*.jsonl)")
    ap.add_argument("--every", type=int, default=1, help="score every Nth judgment only (default: all)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached peer indexes")
    ap.add_argument("--per-query", type=Path, metavar="FILE",
                    help="also write each query's reciprocal rank per system here (JSON lines)")
    return ap.parse_args()


def ensure_kbsearch(index: Path, archive: str) -> tuple[peers.BuildRecord | None, bool]:
    """Build the kbsearch index if it is missing; its build record (None if unknown) and whether it was there."""
    if index_exists(str(index)):
        return peers.BuildRecord.load(index), True
    peers.log(f"building kbsearch at {index}")
    peers.build_kbsearch(index, [archive])
    return peers.BuildRecord.load(index), False


def build_cell(rec: peers.BuildRecord | None, cached: bool) -> str:
    """Build seconds for the table, marked when the index was built by an earlier run."""
    if rec is None:
        return "n/a"
    return f"{rec.seconds:.1f}" + (" (cached)" if cached else "")


def score_row(s: Scores, system: str, build: str) -> list[object]:
    d = s.to_dict()
    return [d["file"], system, d["queries"], d["errors"], f"{s.mrr:.3f}", f"{s.hit:.3f}",
            f"{s.ndcg:.3f}", d["ms_per_query"], build]


def main() -> None:
    args = parse_args()
    names = [p.name for p in args.judgments]
    if args.per_query and len(set(names)) < len(names):
        # heldout.py tells the files apart by name
        twice = sorted({n for n in names if names.count(n) > 1})
        raise SystemExit(f"--per-query needs judgment files with different names: {', '.join(twice)} given twice")
    try:
        per_query = open(args.per_query, "w", encoding="utf-8") if args.per_query else None
    except OSError as e:
        raise SystemExit(f"cannot write {args.per_query}: {e.strerror}") from None
    builds = {"kbsearch": ensure_kbsearch(args.index, args.archive)}
    chosen = peers.relevance_peers()
    builds.update(peers.ensure_peers(chosen, args.work, [args.archive], rebuild=args.rebuild))
    rankers = [peers.KbRanker(args.index)] + [p.ranker(p.index_path(args.work)) for p in chosen]
    rows = []
    try:
        for path in args.judgments:
            judgments = peers.subsample(load_judgments(path), args.every)
            for r in rankers:
                peers.log(f"scoring {r.name} on {path.name} ({len(judgments)} queries)")
                s = evaluate(r, judgments, name=path.name)
                rows.append(score_row(s, r.name, build_cell(*builds[r.name])))
                if per_query:
                    for q in s.results:
                        per_query.write(json.dumps({"judgments": path.name, "system": r.name,
                                                    "query": q.query, "rr": q.rr}) + "\n")
    finally:
        for r in rankers:
            r.close()
        if per_query:
            per_query.close()
    peers.print_table(["judgments", "system", "queries", "errors", "MRR@10", "hit@10", "nDCG@10",
                       "ms/query", "build s"], rows, numeric_from=2)


if __name__ == "__main__":
    main()
