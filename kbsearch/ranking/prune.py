"""Which documents the first pass must score: MaxScore over the query's words.

A first-pass score is a BM25 sum times factors (coordination, exact, title,
title cover) that each grow with what the document matches and stay under a
bound the config gives. Each word's BM25 share has a largest value, from its
largest posting weight and the shortest body; ordering the words by it, a
document that has none of the last (the *essential*) words scores at most
the others' shares summed, times the factors' bounds for a document matching
those words only. When that is below the k-th best score among the
documents that have an essential word, no other document can reach the top
k: only those are scored. The stages after the first pass see the same top
k as when every document is scored (ties at the k-th score aside).

Nothing here is tuned: every bound is computed from the config and the
index, and a config under which a factor could shrink as a document matches
more (a negative weight) is not pruned at all (:func:`applies`).
"""

from __future__ import annotations

import numpy as np

from .config import RankingConfig
from .evidence import Evidence
from .factors import COORDINATION, EXACT, TITLE, TITLE_COVER

# Relative margin on the bound: float32 scores may round up by a few ulps.
MARGIN = 1e-5


def applies(cfg: RankingConfig) -> bool:
    """Whether the bounds hold under ``cfg``: every factor at least 1 and
    growing with what a document matches (BM25 growing with the weight and
    falling with the length)."""
    return (cfg.prune and cfg.k1 >= 0 and 0 <= cfg.b <= 1 and 0 <= cfg.coordination <= 1 and cfg.title >= 0
            and cfg.title_cover >= 0 and cfg.exact >= 0 and cfg.anchor_weight >= 0 and cfg.topic_as_title >= 0
            and cfg.abbreviations >= 0 and cfg.part_share >= 0)


def term_bound(cfg: RankingConfig, e: Evidence, norm_min: float) -> float:
    """The largest BM25 share ``e`` can give a document (its share of a
    typed word included): its largest weight in the shortest body."""
    if not len(e.weights):
        return 0.0
    w = float(e.weights.max())
    if w <= 0:
        return 0.0
    return e.share * e.idf * w * (cfg.k1 + 1) / (w + norm_min)


def title_weight(cfg: RankingConfig, found: dict[str, Evidence]) -> float:
    """The most one word can add to a title share, per unit of its idf
    share: the weight of the alternative the title has, or of a topic."""
    alts = [w for e in found.values() for _, _, w in e.postings]
    return max([1.0, cfg.topic_as_title] + alts)


def outside_bound(cfg: RankingConfig, rest: list[Evidence], bounds: list[float], n_words: int, idf_sum: float,
                  rare: list[Evidence], title_w: float) -> float:
    """The highest first-pass score of a document that has only words of
    ``rest`` (``bounds``: their :func:`term_bound`)."""
    if not rest:
        return 0.0
    bm25 = sum(bounds)
    matched = sum(e.share for e in rest)
    value = bm25 * float(COORDINATION.value(cfg, matched, n_words))
    share = title_w * sum(e.share * e.idf for e in rest) / idf_sum
    value *= float(TITLE.value(cfg, share)) * float(TITLE_COVER.value(cfg, 1.0))
    if rare:
        ids = {id(e) for e in rest}
        has = sum(e.idf for e in rare if id(e) in ids)
        value *= float(EXACT.value(cfg, has / sum(e.idf for e in rare)))
    return value * (1 + MARGIN)


def kth_best(scores: np.ndarray, k: int) -> float:
    """The ``k``-th highest of ``scores`` (-inf when there are fewer)."""
    if k <= 0:
        return float("inf")
    if len(scores) < k:
        return float("-inf")
    return float(np.partition(scores, len(scores) - k)[len(scores) - k])
