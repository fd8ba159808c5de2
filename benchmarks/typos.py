"""What typo correction is worth: MRR@10 of queries with one seeded typo,
with and without correction, and of the clean queries with it on and off.

    python benchmarks/typos.py --index KBINDEX [--judgments FILE...] [--seed 1] [--every N]

Each judgment's query gets one typo (a deletion, transposition, substitution
or insertion of a letter) in one of its plain words of five letters or more,
chosen by a random generator seeded with ``--seed`` and the query itself (so
a subsample keeps each query's typo); a query with no such word is scored
as it is. Every run is scored by :func:`kbsearch.evaluate.evaluate`
(``exclude`` honoured). ``drop`` is clean minus typo: "off" is
``exact=True`` (no correction), "on" the default. ``Δclean`` is the clean
queries' MRR@10 with correction on minus off (it should be 0: correctly
spelled queries keep their rankings). ``p50 ms`` is the median query time
of the clean queries, off and on (hits with snippets), timed in turn after
the scoring passes.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import string
import time
from pathlib import Path

import peers
from kbsearch.evaluate import evaluate, load_judgments
from kbsearch.kb import KnowledgeBase

_WORD_RE = re.compile(r"(?<![\w.'-])[A-Za-z]{5,}(?![\w.'-])")
KINDS = ("deletion", "transposition", "substitution", "insertion")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="kbsearch index (with the words field)")
    ap.add_argument("--judgments", nargs="+", type=Path, default=peers.default_judgments(),
                    help="judgment files (default: ../shared/eval/dev-*.jsonl)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the typos (default: 1)")
    ap.add_argument("--every", type=int, default=1, help="score every Nth judgment only (default: all)")
    return ap.parse_args()


def add_typo(query: str, seed: int) -> str:
    """``query`` with one typo in one of its plain words of 5+ letters
    (unchanged if it has none); the same for the same query and seed."""
    words = list(_WORD_RE.finditer(query))
    if not words:
        return query
    rng = random.Random(f"{seed}:{query}")
    m = rng.choice(words)
    w = m.group()
    while True:
        kind = rng.choice(KINDS)
        i = rng.randrange(len(w))
        c = rng.choice(string.ascii_lowercase)
        if kind == "deletion":
            new = w[:i] + w[i + 1:]
        elif kind == "transposition":
            i = min(i, len(w) - 2)
            new = w[:i] + w[i + 1] + w[i] + w[i + 2:]
        elif kind == "substitution":
            new = w[:i] + c + w[i + 1:]
        else:
            new = w[:i] + c + w[i:]
        if new.lower() != w.lower():
            return query[:m.start()] + new + query[m.end():]


class Ranker:
    """``rank(query, k, exclude)`` with correction on or off."""

    def __init__(self, kb: KnowledgeBase, exact: bool):
        self.kb, self.exact = kb, exact

    def __call__(self, query: str, k: int, exclude: frozenset[str] = frozenset()) -> list[str]:
        return [h.id for h in self.kb.search(query, limit=k, exclude=exclude, exact=self.exact)]


def median_ms(kb: KnowledgeBase, judgments: list) -> tuple[float, float]:
    """Median milliseconds of a query with correction off and on, each query
    timed both ways in turn (warm: after the scoring passes)."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for i, j in enumerate(judgments):
        for exact in ((True, False) if i % 2 else (False, True)):
            t = time.perf_counter()
            kb.search(j.query, limit=10 + len(j.exclude), exclude=j.exclude, exact=exact)
            times[exact].append(time.perf_counter() - t)
    return (statistics.median(times[True]) * 1000, statistics.median(times[False]) * 1000) if judgments else (0, 0)


def main() -> None:
    args = parse_args()
    rows = []
    with KnowledgeBase.open(args.index) as kb:
        if kb.stats()["missing_fields"]:
            peers.log(f"note: {args.index} lacks {kb.stats()['missing_fields']}: no correction (rebuild it)")
        kb.search("warm up the caches", limit=10)
        for path in args.judgments:
            clean = peers.subsample(load_judgments(path), args.every)
            typed = [type(j)(add_typo(j.query, args.seed), j.relevant, j.exclude) for j in clean]
            changed = sum(1 for a, b in zip(clean, typed) if a.query != b.query)
            peers.log(f"scoring {path.name} ({len(clean)} queries, {changed} with a typo)")
            mrr = {}
            for name, judgments in (("clean", clean), ("typo", typed)):
                for exact in (True, False):
                    mrr[name, exact] = evaluate(Ranker(kb, exact), judgments, name=path.name).mrr
            off_ms, on_ms = median_ms(kb, clean)
            rows.append([path.name, len(clean), changed,
                         f"{mrr['clean', True]:.3f}", f"{mrr['clean', False]:.3f}",
                         f"{mrr['clean', False] - mrr['clean', True]:+.3f}",
                         f"{mrr['typo', True]:.3f}", f"{mrr['typo', False]:.3f}",
                         f"{mrr['clean', True] - mrr['typo', True]:.3f}",
                         f"{mrr['clean', False] - mrr['typo', False]:.3f}",
                         f"{off_ms:.1f}", f"{on_ms:.1f}"])
    peers.print_table(["judgments", "queries", "typos", "clean off", "clean on", "Δclean", "typo off",
                       "typo on", "drop off", "drop on", "p50 ms off", "p50 ms on"], rows, numeric_from=1)


if __name__ == "__main__":
    main()
