"""What each query-time factor of kbsearch's ranking adds, on the dev judgments.

    python benchmarks/ablation.py --index KBINDEX [--judgments FILE...] [--every-errmsg N]

Scores the index once with the full model, then once with each factor of
:mod:`kbsearch.search` switched off (its constant set to 0 for that run):
coordination, the title factor (the share of the query in the title), the
title cover (the share of the title that is query words), the citation
prior, the topics citing articles give an article (as words, phrases and
title words), topic words counting towards the title factor alone, phrase
evidence, proximity evidence (query words near each other), reading a query that an article quotes word for word in its
SYMPTOMS as a quoted message (no title factors), the bonus for the articles
that quote it so, the message and lead covers, the subject prior, the topic
authority, and the query vocabulary (thesaurus); one more row reads a
quote anywhere in SYMPTOMS rather than in the messages it sets off. A last row shows what a
harness that only drops excluded ids from the results would report: the
excluded source article's own citation and topic phrase then count.
Index-time choices (section weights, weighted lengths) need a rebuild each and
are not covered here. errmsg is scored on every third query by default
(``--every-errmsg``), as the dev-floor test does.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from pathlib import Path

import peers
from kbsearch import search
from kbsearch.evaluate import evaluate, load_judgments

# (label, constant in kbsearch.search switched off[, the value that does it])
VARIANTS = [
    ("full model", None),
    ("without coordination", "COORD"),
    ("without title factor", "TITLE_BOOST"),
    ("without title cover", "TITLE_COVER_BOOST"),
    ("without citation prior", "CITED_BOOST"),
    ("without citation topics", "ANCHOR_WEIGHT"),
    ("without topic words as title words", "TOPIC_AS_TITLE"),
    ("without phrase evidence", "PHRASE_BOOST"),
    ("without proximity evidence", "PROXIMITY_BOOST"),
    ("without quoted-message reading", "QUOTE_MIN_PAIRS"),
    ("without the symptoms-quote bonus", "QUOTE_SYMPTOMS_BOOST"),
    ("without the message cover", "MESSAGE_COVER_BOOST"),
    ("without the lead cover", "LEAD_COVER_BOOST"),
    ("without the subject prior", "SUBJECT_BOOST"),
    ("without the topic authority", "AUTHORITY_BOOST"),
    ("quotes anywhere in SYMPTOMS, not its messages", "QUOTE_FIELD", "symptoms"),
    ("without query vocabulary", "USE_THESAURUS"),
]


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="a kbsearch index of the archive")
    ap.add_argument("--judgments", nargs="+", type=Path, default=peers.default_judgments(),
                    help="judgment files (default: ../shared/eval/dev-*.jsonl)")
    ap.add_argument("--every-errmsg", type=int, default=3, help="score every Nth errmsg judgment (default 3)")
    return ap.parse_args()


@contextmanager
def switched_off(name: str | None, value: object = 0.0):
    """Set ``kbsearch.search.<name>`` to ``value`` for the duration."""
    if name is None:
        yield
        return
    old = getattr(search, name)
    setattr(search, name, value)
    try:
        yield
    finally:
        setattr(search, name, old)


def main() -> None:
    args = parse_args()
    files = [(p.name, peers.subsample(load_judgments(p), args.every_errmsg if "errmsg" in p.name else 1))
             for p in args.judgments]
    ranker = peers.KbRanker(args.index)
    rows = []
    try:
        for label, name, *value in VARIANTS:
            row: list[object] = [label]
            with switched_off(name, *value):
                for fname, judgments in files:
                    peers.log(f"{label}: {fname} ({len(judgments)} queries)")
                    s = evaluate(ranker, judgments, name=fname)
                    row.append(f"{s.mrr:.3f} ({s.hit:.3f})")
            rows.append(row)
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
