"""kbsearch's MRR@10 on a judgment file reweighted until the peers score given figures.

The issue gives the peers' MRR@10 on the held-out split (SQLite FTS5 0.59
errmsg / 0.44 xref, plain Whoosh 0.61 / 0.41, Tantivy 0.51 / 0.52). Where
the held-out queries are harder or easier than dev's, every system moves.
This weighs a file's queries, as little as possible (the weights nearest
to uniform in relative entropy: ``w ∝ exp(λ · the peers' reciprocal
ranks)``), until the peers' weighted MRR@10 are the given figures, and
prints kbsearch's weighted MRR@10: kbsearch on queries as hard for the
peers as the held-out ones. The effective sample size (``1 / Σw²``) says
how far the weights had to move.

    python benchmarks/relevance.py --index ~/kb-index --per-query /tmp/rr.jsonl
    python benchmarks/heldout.py /tmp/rr.jsonl \\
        --at dev-errmsg.jsonl sqlite-fts5=0.59 whoosh=0.61 tantivy=0.51 \\
        --at dev-xref.jsonl sqlite-fts5=0.44 whoosh=0.41 tantivy=0.52
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

import numpy as np

import peers

SYSTEM = "kbsearch"


def matching_weights(rr: np.ndarray, targets: np.ndarray, tol: float = 1e-9, steps: int = 200) -> np.ndarray:
    """Weights over the rows of ``rr`` (queries × peers) nearest to uniform
    whose weighted column means are ``targets``; ValueError if none are."""
    n, m = rr.shape
    lam = np.zeros(m)

    def dual(lam: np.ndarray) -> tuple[float, np.ndarray]:
        z = rr @ lam
        top = z.max()
        w = np.exp(z - top)
        total = w.sum()
        return top + np.log(total) - lam @ targets, w / total

    value, w = dual(lam)
    for _ in range(steps):
        grad = w @ rr - targets
        if np.abs(grad).max() < tol:
            return w
        centred = rr - w @ rr
        hess = (centred * w[:, None]).T @ centred + 1e-12 * np.eye(m)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:
            new_value, new_w = dual(lam - t * step)
            if new_value <= value:
                break
            t /= 2
        else:
            break
        lam, value, w = lam - t * step, new_value, new_w
    if np.abs(w @ rr - targets).max() > 1e-4:
        raise ValueError("no weighting of these queries gives the peers those figures")
    return w


def read_per_query(path: str) -> dict[str, dict[str, list[float]]]:
    """``{judgment file: {system: [reciprocal rank per query]}}`` from ``relevance.py --per-query``."""
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                try:
                    row = json.loads(line)
                    out[row["judgments"]][row["system"]].append(float(row["rr"]))
                except (ValueError, KeyError, TypeError):
                    raise SystemExit(f"{path}:{n}: not a relevance.py --per-query line") from None
    except OSError as e:
        raise SystemExit(f"cannot read {path}: {e.strerror}") from None
    return out


def parse_at(spec: list[str]) -> tuple[str, dict[str, float]]:
    """``["dev-xref.jsonl", "sqlite-fts5=0.44", ...]`` -> (file, {peer: MRR@10})."""
    name, figures = spec[0], {}
    for item in spec[1:]:
        peer, _, value = item.partition("=")
        try:
            figures[peer] = float(value)
        except ValueError:
            raise SystemExit(f"--at {name}: want PEER=MRR, not {item!r}") from None
    if not figures:
        raise SystemExit(f"--at {name}: give at least one PEER=MRR")
    return name, figures


def bootstrap_sd(kb: np.ndarray, rr: np.ndarray, targets: np.ndarray, times: int, seed: int = 0) -> float:
    """The spread of the reweighted figure over ``times`` resamplings of the
    queries (with replacement): how much it owes to which queries the file
    happens to hold. Resamples no weighting fits are skipped."""
    rng = np.random.default_rng(seed)
    got = []
    for _ in range(times):
        i = rng.integers(0, len(kb), len(kb))
        try:
            got.append(matching_weights(rr[i], targets) @ kb[i])
        except ValueError:
            pass
    return float(np.std(got)) if len(got) > 1 else float("nan")


def left_out_checks(rr: np.ndarray, figures: dict[str, float]) -> str:
    """Each peer's figure as the weights that match the *other* peers predict
    it, beside the given one: a check of the method on a system whose
    held-out figure is known."""
    names = list(figures)
    if len(names) < 2:
        return "—"
    cells = []
    for k, name in enumerate(names):
        others = [j for j in range(len(names)) if j != k]
        try:
            w = matching_weights(rr[:, others], np.array([figures[names[j]] for j in others]))
            cells.append(f"{name} {w @ rr[:, k]:.3f} ({figures[name]:.3f})")
        except ValueError:
            cells.append(f"{name} n/a")
    return ", ".join(cells)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("per_query", help="file written by relevance.py --per-query")
    ap.add_argument("--at", nargs="+", action="append", required=True, metavar="ARG",
                    help="a judgment file's name, then PEER=MRR for each peer (e.g. sqlite-fts5=0.44)")
    ap.add_argument("--bootstrap", type=int, default=200, metavar="N",
                    help="resamplings of the queries for the reweighted figure's spread (default 200; 0: none)")
    args = ap.parse_args(argv)
    data = read_per_query(args.per_query)
    rows = []
    for spec in args.at:
        name, figures = parse_at(spec)
        systems = data.get(name)
        if systems is None:
            raise SystemExit(f"{args.per_query} has no queries from {name}")
        missing = [s for s in (SYSTEM, *figures) if s not in systems]
        if missing:
            raise SystemExit(f"{args.per_query} has no {', '.join(missing)} scores on {name}")
        rr = np.array([systems[p] for p in figures]).T
        targets = np.array(list(figures.values()))
        try:
            w = matching_weights(rr, targets)
        except ValueError as e:
            raise SystemExit(f"{name}: {e}") from None
        kb = np.array(systems[SYSTEM])
        peers_cell = ", ".join(f"{p} {np.mean(systems[p]):.3f} → {v:.3f}" for p, v in figures.items())
        sd = bootstrap_sd(kb, rr, targets, args.bootstrap) if args.bootstrap > 0 else float("nan")
        rows.append([name, len(kb), f"{kb.mean():.3f}", peers_cell, f"{w @ kb:.3f}",
                     "—" if np.isnan(sd) else f"{sd:.3f}", f"{1 / (w @ w):.0f}", left_out_checks(rr, figures)])
    peers.print_table(["judgments", "queries", "kbsearch", "peers, as scored → as given",
                       "kbsearch, reweighted", "± (bootstrap sd)", "effective queries",
                       "each peer from the others (given)"], rows, numeric_from=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
