"""Write every judged query's top 10, or compare two such runs.

    python benchmarks/rankings.py dump --index KBINDEX OUT.jsonl [--judgments FILE...]
    python benchmarks/rankings.py compare BEFORE.jsonl AFTER.jsonl

``dump`` ranks each query of the judgment files (default: every
``../shared/eval/dev-*.jsonl``) as ``kbsearch eval`` does, excluded articles
honoured, and writes one JSON line per query: file, query, the top 10 ids
and their scores. ``compare`` says how many queries kept the same top 10 in
the same order, lists those that did not, and gives each file's MRR@10 in
both runs; it exits 1 when any top 10 differs. Run ``dump`` once with the
code before a change and once after, on the same index, to check that a
change meant to keep the ranking keeps it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import peers


def dump(index: Path, files: list[Path], out: Path) -> None:
    from kbsearch import KBSearchError, KnowledgeBase
    from kbsearch.evaluate import load_judgments

    with KnowledgeBase.open(index) as kb, out.open("w") as fh:
        for f in files:
            for n, j in enumerate(load_judgments(f), 1):
                row = {"file": f.name, "n": n, "query": j.query, "relevant": sorted(j.relevant)}
                try:
                    hits = kb.search(j.query, limit=10, exclude=j.exclude)
                    row["ids"] = [h.id for h in hits]
                    row["scores"] = [round(h.score, 4) for h in hits]
                except KBSearchError as e:
                    row["ids"], row["scores"], row["error"] = [], [], str(e)
                fh.write(json.dumps(row) + "\n")
            peers.log(f"{f.name}: done")


def _load(path: Path) -> dict[tuple[str, str], dict]:
    out = {}
    with path.open() as fh:
        for line in fh:
            row = json.loads(line)
            out[(row["file"], row["n"], row["query"])] = row
    return out


def _mrr(rows: list[dict]) -> float:
    total = 0.0
    for r in rows:
        rel = set(r["relevant"])
        total += next((1.0 / i for i, d in enumerate(r["ids"], 1) if d in rel), 0.0)
    return total / max(1, len(rows))


def compare(before: Path, after: Path) -> int:
    a, b = _load(before), _load(after)
    keys = [k for k in a if k in b]
    differ = [k for k in keys if a[k]["ids"] != b[k]["ids"]]
    scores = sum(1 for k in keys if a[k]["scores"] != b[k]["scores"])
    for f in dict.fromkeys(k[0] for k in keys):
        mine = [k for k in keys if k[0] == f]
        print(f"{f:<24} {len(mine):>5} queries  MRR@10 {_mrr([a[k] for k in mine]):.4f} -> "
              f"{_mrr([b[k] for k in mine]):.4f}  top 10 differs: {sum(1 for k in differ if k[0] == f)}")
    print(f"same top 10 in the same order: {len(keys) - len(differ)} of {len(keys)}; "
          f"scores differ (4 decimals) on {scores}")
    missing = len(a) + len(b) - 2 * len(keys)
    if missing:
        print(f"queries in one run only: {missing}")
    for k in differ[:20]:
        print(f"  {k[0]} line {k[1]}: {k[2]!r}\n    before {a[k]['ids']}\n    after  {b[k]['ids']}")
    return 1 if differ or missing else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="write each judged query's top 10")
    d.add_argument("--index", type=Path, required=True)
    d.add_argument("--judgments", nargs="+", type=Path, default=peers.default_judgments())
    d.add_argument("out", type=Path)
    c = sub.add_parser("compare", help="compare two dumps; exit 1 if any top 10 differs")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.index, args.judgments, args.out)
    else:
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
