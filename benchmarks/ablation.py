"""What each query-time factor of kbsearch's ranking adds, on the dev judgments.

    python benchmarks/ablation.py --index KBINDEX [--judgments FILE...] [--every-errmsg N]

Scores the index once with the full model, then once with each factor of
the ranking switched off (a :class:`kbsearch.ranking.RankingConfig` with its
weight set to 0, passed to :class:`KnowledgeBase`):
coordination, the title factor (the share of the query in the title), the
title cover (the share of the title that is query words), the citation
prior, the topics citing articles give an article (as words, phrases and
title words), topic words counting towards the title factor alone, phrase
evidence, proximity evidence (query words near each other), reading a query that an article quotes word for word in its
SYMPTOMS as a quoted message (no title factors), the bonus for the articles
that quote it so, the message and lead covers, the subject prior, the topic
authority, the exact-token factor (rare codes and file names), the parts of
a compact token ("sp3": service pack 3) counted as one typed word, the long
forms of the abbreviations the archive defines, the one word the archive
writes for two typed apart, and the query vocabulary (thesaurus,
abbreviations and joined words); one more row reads a
quote anywhere in SYMPTOMS rather than in the messages it sets off. A last row shows what a
harness that only drops excluded ids from the results would report: the
excluded source article's own citation and topic phrase then count.
Index-time choices (section weights, weighted lengths) need a rebuild each and
are not covered here. errmsg is scored on every third query by default
(``--every-errmsg``), as the dev-floor test does.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import peers
from kbsearch.ranking import DEFAULT
from kbsearch.evaluate import evaluate, load_judgments

# (label, the RankingConfig weights that switch the factor off). "without
# query vocabulary" is no weight: it searches with vocabulary=False.
VARIANTS: list[tuple[str, dict]] = [
    ("full model", {}),
    ("without coordination", {"coordination": 0.0}),
    ("without title factor", {"title": 0.0}),
    ("without title cover", {"title_cover": 0.0}),
    ("without citation prior", {"citations": 0.0}),
    ("without citation topics", {"anchor_weight": 0.0}),
    ("without topic words as title words", {"topic_as_title": 0.0}),
    ("without phrase evidence", {"phrase": 0.0}),
    ("without proximity evidence", {"proximity": 0.0}),
    ("without quoted-message reading", {"quote_min_pairs": 0}),
    ("without the symptoms-quote bonus", {"symptoms_quote": 0.0}),
    ("without the message cover", {"message_cover": 0.0}),
    ("without the lead cover", {"lead_cover": 0.0}),
    ("without the subject prior", {"subject": 0.0}),
    ("without the topic authority", {"authority": 0.0}),
    ("without the exact-token factor", {"exact": 0.0}),
    ("parts of a compact token as words", {"part_share": 0.0}),
    ("quotes anywhere in SYMPTOMS, not its messages", {"quote_field": "symptoms"}),
    ("without mined abbreviations", {"abbreviations": 0.0}),
    ("without words typed apart joined", {"compounds": 0.0}),
    ("without query vocabulary", {}),
]
NO_VOCABULARY = "without query vocabulary"


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="a kbsearch index of the archive")
    ap.add_argument("--judgments", nargs="+", type=Path, default=peers.default_judgments(),
                    help="judgment files (default: ../shared/eval/dev-*.jsonl)")
    ap.add_argument("--every-errmsg", type=int, default=3, help="score every Nth errmsg judgment (default 3)")
    ap.add_argument("--only", nargs="+", metavar="WORDS",
                    help="the full model and only the rows whose label contains one of these (e.g. exact abbreviations)")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    files = [(p.name, peers.subsample(load_judgments(p), args.every_errmsg if "errmsg" in p.name else 1))
             for p in args.judgments]
    rows = []
    variants = [(label, weights) for label, weights in VARIANTS
                if not args.only or not weights and label != NO_VOCABULARY or any(w in label for w in args.only)]
    for label, weights in variants:
        row: list[object] = [label]
        with peers.KbRanker(args.index, ranking=replace(DEFAULT, **weights),
                            vocabulary=label != NO_VOCABULARY) as ranker:
            for fname, judgments in files:
                peers.log(f"{label}: {fname} ({len(judgments)} queries)")
                s = evaluate(ranker, judgments, name=fname)
                row.append(f"{s.mrr:.3f} ({s.hit:.3f})")
        rows.append(row)
    if args.only:
        peers.print_table(["ranking"] + [f"{n} MRR@10 (hit@10)" for n, _ in files], rows)
        return
    ranker = peers.KbRanker(args.index)
    try:
        row = ["excluded articles' links counted"]
        for fname, judgments in files:
            peers.log(f"{row[0]}: {fname} ({len(judgments)} queries)")
            s = evaluate(lambda q, k, exclude: ranker(q, k), judgments, name=fname)
            row.append(f"{s.mrr:.3f} ({s.hit:.3f})")
        rows.append(row)
    finally:
        ranker.close()
    peers.print_table(["ranking"] + [f"{n} MRR@10 (hit@10)" for n, _ in files], rows)


if __name__ == "__main__":
    main()
