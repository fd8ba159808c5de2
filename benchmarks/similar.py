"""How well ``kbsearch related`` finds articles about the same problem, and how fast.

The archive's own groups: articles that show the same error message in their
SYMPTOMS, taken from the error-message judgments that have two or more
relevant articles (each distinct group once). For each member, its top 10
similar articles are compared with the other members of its group:

* MRR: 1 / rank of the first other member (0 if none in the top 10);
* hit@10: share of members with at least one other member in their top 10;
* recall@10: share of the other members in the top 10 (then averaged).

Then ``related`` (cites, cited by and the top 10 similar) is timed warm, in
the same process after the scoring above, on ``--sample`` random articles:
p50, p95 and max.

    python benchmarks/similar.py --index ~/kb-index [--judgments ../shared/eval/dev-errmsg.jsonl]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from pathlib import Path

from kbsearch import KnowledgeBase
from kbsearch.errors import KBSearchError
from kbsearch import related
from kbsearch.ranking.config import DEFAULT_SIMILAR, SimilarConfig

DEFAULT_JUDGMENTS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev-errmsg.jsonl"


def groups_of(path: str | Path) -> list[tuple[str, ...]]:
    """The distinct groups (two or more relevant articles) of a judgments file."""
    seen: dict[tuple[str, ...], None] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    relevant = json.loads(line)["relevant"]
                except (ValueError, KeyError, TypeError):
                    raise KBSearchError(f"{path}:{n}: not a judgment line") from None
                if len(set(relevant)) >= 2:
                    seen.setdefault(tuple(sorted(set(relevant))), None)
    except OSError as e:
        raise KBSearchError(f"cannot read {path}: {e.strerror or e}") from None
    return list(seen)


def similar_ids(kb: KnowledgeBase, article_id: str, k: int, cfg: SimilarConfig) -> list[str]:
    """The ids of the ``k`` articles most like ``article_id`` under ``cfg``."""
    eng = kb.engine
    _, docnum = related.docnum_of(eng, article_id, kb.path)
    return [s.id for s in related.similar(eng, docnum, related.article_at(eng, docnum), k, cfg, kb.ranking)]


def score(kb: KnowledgeBase, groups: list[tuple[str, ...]], k: int = 10,
          cfg: SimilarConfig = DEFAULT_SIMILAR) -> dict:
    """MRR, hit@k and mean recall@k of each indexed member's similar
    articles against the other indexed members of its group."""
    rr, hits, recall = [], [], []
    for g in groups:
        members = [m for m in g if kb.engine.docnum_for(m) is not None]
        if len(members) < 2:
            continue
        for m in members:
            others = set(members) - {m}
            got = similar_ids(kb, m, k, cfg)
            ranks = [i for i, a in enumerate(got, 1) if a in others]
            rr.append(1.0 / ranks[0] if ranks else 0.0)
            hits.append(1.0 if ranks else 0.0)
            recall.append(len(ranks) / len(others))
    n = len(rr) or 1
    return {"members": len(rr), "mrr": sum(rr) / n, "hit": sum(hits) / n, "recall": sum(recall) / n}


def latency(kb: KnowledgeBase, sample: int, seed: int = 1) -> dict:
    """p50/p95 of warm ``related`` calls (ms) on ``sample`` random articles."""
    ids = sorted(kb.engine.iter_ids())
    random.Random(seed).shuffle(ids)
    kb.related(ids[0])  # opens the index and reads its length columns, if not done yet
    times = []
    for aid in ids[1:sample + 1]:
        t = time.perf_counter()
        kb.related(aid)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"calls": len(times), "p50": times[len(times) // 2], "p95": times[int(len(times) * 0.95)],
            "max": times[-1]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", required=True, help="An index of the full archive.")
    ap.add_argument("--judgments", default=str(DEFAULT_JUDGMENTS),
                    help="Error-message judgments whose multi-article lines are the groups.")
    ap.add_argument("--sample", type=int, default=300, help="Articles timed for the latency (0: none).")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="Try another SimilarConfig weight (e.g. --set message=1); repeatable.")
    args = ap.parse_args(argv)
    try:
        cfg = DEFAULT_SIMILAR
        for s in args.set:
            name, _, value = s.partition("=")
            if name not in {f.name for f in dataclasses.fields(cfg)}:
                raise KBSearchError(f"--set {s}: SimilarConfig has no weight {name!r}")
            cfg = dataclasses.replace(cfg, **{name: type(getattr(cfg, name))(value)})
        groups = groups_of(args.judgments)
        with KnowledgeBase.open(args.index) as kb:
            t = time.perf_counter()
            s = score(kb, groups, cfg=cfg)
            print(f"scored {s['members']} members of {len(groups)} groups in {time.perf_counter() - t:.1f}s",
                  file=sys.stderr)
            lat = latency(kb, args.sample) if args.sample > 0 else None
    except KBSearchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print("| groups | members | MRR@10 | hit@10 | recall@10 | related p50 ms | p95 ms | max ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    p50, p95, top = (f"{lat[k]:.1f}" for k in ("p50", "p95", "max")) if lat else ("-", "-", "-")
    print(f"| {len(groups)} | {s['members']} | {s['mrr']:.3f} | {s['hit']:.3f} | {s['recall']:.3f} "
          f"| {p50} | {p95} | {top} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
