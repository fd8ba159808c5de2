"""Error-message judgments generated from an archive, beside the dev files.

The dev errmsg file takes its fragments from the messages SYMPTOMS sets off
from its prose. Older articles often quote a message in a sentence instead
("... you receive the error message "Access is denied""), and a user pastes
either. This writes judgments in the format ``kbsearch eval`` reads, one
kind at a time:

* ``shown``: up to 8 words of a message SYMPTOMS sets off (``Article.messages``);
* ``quoted``: up to 8 words of text SYMPTOMS' prose quotes (``Article.quotes``).

Relevant: every article whose SYMPTOMS has the fragment, word for word
(punctuation aside); fragments that more than 20 articles have are left
out. Articles relevant to a dev judgment file given with ``--leave-out``
are not sampled. The file goes where ``--out`` says, outside the
repository: it holds archive text.

    python benchmarks/fragments.py quoted --archive "$(../shared/kbarchive/path)" \\
        --leave-out ../shared/eval/dev-errmsg.jsonl --out /tmp/quoted.jsonl
    python benchmarks/relevance.py --index ~/kb-index --judgments /tmp/quoted.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys

import peers
from kbsearch.article import SYMPTOM_SECTIONS, parse_file
from kbsearch.errors import KBSearchError

STRIP = "\"'.,:;!?()[]{}<>`"
MAX_WORDS = 8
MIN_WORDS = 3
MAX_RELEVANT = 20


def words(text: str) -> list[str]:
    return [w.strip(STRIP) for w in text.split() if w.strip(STRIP)]


def joined(ws: list[str]) -> str:
    return " " + " ".join(w.lower() for w in ws) + " "


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["shown", "quoted"])
    ap.add_argument("--n", type=int, default=1500, help="how many judgments (default 1500)")
    peers.add_generator_args(ap, "do not sample the articles relevant to these judgments")
    args = ap.parse_args(argv)
    left_out = peers.articles_named(args.leave_out)

    symptoms: dict[str, str] = {}
    texts: dict[str, list[list[str]]] = {}
    for path in peers.archive_files([args.archive]):
        try:
            art = parse_file(path)
        except KBSearchError:
            continue
        sym = "\n".join(s.text for s in art.sections if s.name in SYMPTOM_SECTIONS)
        if not sym:
            continue
        symptoms[art.id] = joined(words(sym))
        found = art.messages if args.kind == "shown" else art.quotes
        texts[art.id] = [ws for ws in map(words, found) if len(ws) >= MIN_WORDS]

    rng = random.Random(args.seed)
    pool = sorted(i for i, found in texts.items() if found and i not in left_out)
    rng.shuffle(pool)
    written = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for aid in pool:
            if written >= args.n:
                break
            message = rng.choice(texts[aid])
            size = min(MAX_WORDS, len(message))
            start = rng.randrange(0, len(message) - size + 1)
            fragment = message[start:start + size]
            key = joined(fragment)
            relevant = sorted(i for i, s in symptoms.items() if key in s)
            if aid not in relevant or len(relevant) > MAX_RELEVANT:
                continue
            out.write(json.dumps({"set": f"fragments-{args.kind}", "query": " ".join(fragment),
                                  "relevant": relevant, "exclude": []}) + "\n")
            written += 1
    print(f"{written} judgments written to {args.out} ({len(pool)} articles to sample from)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KBSearchError as e:
        sys.exit(f"{sys.argv[0]}: {e}")
