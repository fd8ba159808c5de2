"""Citation-topic judgments generated from an archive, beside the dev xref file.

The dev xref file has 905 topic phrases ("For more information about
*topic*, click the article number below ..."); at that size MRR@10 has a
standard error of about 0.015. This writes more judgments of the same kind,
in the format ``kbsearch eval`` reads:

* query: the topic a citing article gives the article it cites;
* relevant: that article; exclude: the citing article (whose own topic and
  citation must not count).

Only topics a citing article gives to one article are used, one judgment
per cited article, so that often-cited articles (service packs, how to
contact support) do not fill the file; with ``--every-topic``, one per
distinct topic a cited article is given, which is how the dev file is made
(905 judgments for 731 articles: often-cited articles come up more often),
and, as there, no topic twice in the file (letter case aside): a phrase
such as "how to do this", which citing articles give to many articles,
is one judgment, not one per article. Topics that start with a word that
points back into the citing article ("this problem", "these issues", "that
fix") are dropped: read alone they name nothing. Articles relevant to or
excluded by a judgment file given with ``--leave-out`` are not used, as
sources or as targets. The file goes where ``--out`` says, outside the
repository: it holds archive text.

    python benchmarks/citations.py --archive "$(../shared/kbarchive/path)" \\
        --leave-out ../shared/eval/dev-xref.jsonl --out /tmp/citations.jsonl
    python benchmarks/relevance.py --index ~/kb-index --judgments /tmp/citations.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from multiprocessing import Pool

import peers
from kbsearch.article import parse_file
from kbsearch.errors import KBSearchError

# A topic that starts by pointing back at the citing article's own text.
DEICTIC = re.compile(r"(?:this|these|that|those|it|its|other|the above|above)\b", re.I)
MAX_WORDS = 16


def citations_of(path: str) -> tuple[str, list[tuple[str, str]]] | None:
    """``(id, [(cited id, topic), ...])`` of one article file; None if unreadable."""
    try:
        art = parse_file(path)
    except KBSearchError:
        return None
    return art.id, [(c.id, t.strip()) for c in art.citations if c.topic
                    for t in c.topic.split("; ") if t.strip()]


def usable(topic: str) -> bool:
    """Whether ``topic`` names something on its own."""
    return 1 <= len(topic.split()) <= MAX_WORDS and not DEICTIC.match(topic)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    peers.add_generator_args(ap, "do not use the articles these judgments name (relevant or excluded)")
    ap.add_argument("--procs", type=int, default=peers.PARSE_PROCS,
                    help=f"parsing processes (default {peers.PARSE_PROCS})")
    ap.add_argument("--every-topic", action="store_true",
                    help="one judgment per distinct topic each cited article is given, "
                         "no topic twice in the file (as the dev xref file is made), "
                         "not one per cited article")
    args = ap.parse_args(argv)
    left_out = peers.articles_named(args.leave_out, excluded=True)

    files = sorted(peers.archive_files([args.archive]))
    with Pool(max(1, args.procs)) as pool:
        parsed = [r for r in pool.imap(citations_of, files, chunksize=200) if r is not None]
    known = {aid for aid, _ in parsed}

    # (citing article, topic) -> the articles it gives that topic to
    given: dict[tuple[str, str], set[str]] = defaultdict(set)
    for source, cites in parsed:
        for target, topic in cites:
            if target in known and target != source:
                given[(source, topic)].add(target)
    by_target: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (source, topic), targets in sorted(given.items()):
        target = next(iter(targets))
        if len(targets) == 1 and usable(topic) and not {source, target} & left_out:
            by_target[target].append((source, topic))

    rng = random.Random(args.seed)
    targets = sorted(by_target)
    rng.shuffle(targets)
    with open(args.out, "w", encoding="utf-8") as out:
        written = 0
        asked: set[str] = set()
        for target in targets:
            for source, topic in _chosen(by_target[target], args.every_topic, rng):
                if args.every_topic and topic.lower() in asked:
                    continue
                asked.add(topic.lower())
                out.write(json.dumps({"set": "citations", "query": topic,
                                      "relevant": [target], "exclude": [source]}) + "\n")
                written += 1
    print(f"{written} judgments on {len(targets)} articles written to {args.out} "
          f"({len(given)} topics in {len(parsed)} articles)", file=sys.stderr)
    return 0


def _chosen(given: list[tuple[str, str]], every_topic: bool,
            rng: random.Random) -> list[tuple[str, str]]:
    """The (source, topic) judgments to write for one cited article that
    ``given`` topics: one of them, or one per distinct topic (letter case
    aside), each from one of the articles that give it."""
    if not every_topic:
        return [rng.choice(given)]
    by_topic: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for source, topic in given:
        by_topic[topic.lower()].append((source, topic))
    return [rng.choice(pairs) for pairs in by_topic.values()]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KBSearchError as e:
        sys.exit(f"{sys.argv[0]}: {e}")
