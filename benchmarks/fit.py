"""Fit the ranking model's weights on generated training judgments (coordinate ascent).

    python benchmarks/fit.py --index ~/kb-index --train /work/idx/fit/train \\
        [--per-kind 200] [--minutes 30] [--weights symptom=0.4 xref=0.25 errmsg=0.2 title=0.15]

Maximises a weighted mean of MRR@10 over the training kinds that
``training.py`` writes (``train-KIND.jsonl`` in ``--train``; ``--per-kind``
judgments of each, a seeded sample), one continuous field of
:class:`kbsearch.ranking.RankingConfig` at a time (Metzler & Croft 2007):
multiply it by ``step`` and by ``1/step``, keep the best value if it gains
more than ``--min-gain``, go on in that direction while it gains; sweep the
fields until a sweep gains nothing, then halve the step's exponent (2, 1.41,
1.19). Each field has a range (``PARAMS``); a weight that would fall under a
tenth of its default is tried at 0. One open index serves every config
(``kb.ranking`` is swapped: the engine's caches hold postings, not scores).
Stops after ``--minutes``. Prints each step (field, value, objective, each
kind's MRR@10) to stderr, the final config as a ``replace(DEFAULT, ...)``
expression, and a table of the dev files' halves, default against fitted.

The dev files are split in two by a hash of the query text
(:func:`dev_half`): ``fit`` and ``check``. ``--fit-dev`` adds the fit halves
to the objective (as kinds ``dev-errmsg``, ``dev-xref``, ``dev-symptom``,
weights from ``--weights``); the check halves are only ever reported.
``--no-fit --config 'title=0.4 phrase=0.8'`` reports the halves for one
config against the default; ``--rest`` also scores both on the training
judgments the fit left out of its sample (a check on the generated kinds).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import peers
from kbsearch.evaluate import Judgment, Scores, evaluate, load_judgments
from kbsearch.kb import KnowledgeBase
from kbsearch.ranking import DEFAULT, RankingConfig

# field: (lowest, highest) value tried
PARAMS: dict[str, tuple[float, float]] = {
    "coordination": (0.0, 0.95),
    "title": (0.0, 5.0),
    "title_cover": (0.0, 5.0),
    "anchor_weight": (0.0, 32.0),
    "topic_as_title": (0.0, 4.0),
    "citations": (0.0, 1.0),
    "phrase": (0.0, 8.0),
    "proximity": (0.0, 4.0),
    "authority": (0.0, 2.0),
    "symptoms_quote": (0.0, 4.0),
    "message_cover": (0.0, 4.0),
    "lead_cover": (0.0, 6.0),
    "lead_summary_weight": (0.0, 2.0),
    "subject": (0.0, 2.0),
    "k1": (0.2, 4.0),
    "b": (0.1, 1.0),
}
INT_PARAMS = {"rerank_depth": (20, 400), "proximity_window": (2, 40)}
STEPS = (2.0, 2 ** 0.5, 2 ** 0.25)
WEIGHTS = {"symptom": 0.4, "xref": 0.25, "errmsg": 0.2, "title": 0.15}
DEV_FILES = {"dev-errmsg": ["dev-errmsg.jsonl"], "dev-xref": ["dev-xref.jsonl"],
             "dev-symptom": ["dev-symptom.jsonl", "dev-symptom2.jsonl"]}


def dev_half(query: str) -> str:
    """``fit`` or ``check``: a fixed split of the dev judgments by their query text."""
    return "fit" if hashlib.sha1(query.encode("utf-8")).digest()[0] % 2 == 0 else "check"


def config_expr(cfg: RankingConfig) -> str:
    """``cfg`` as ``replace(DEFAULT, ...)``: the fields that differ from the default."""
    changed = [f"{f.name}={getattr(cfg, f.name)!r}" for f in fields(cfg)
               if getattr(cfg, f.name) != getattr(DEFAULT, f.name)]
    return f"replace(DEFAULT, {', '.join(changed)})" if changed else "DEFAULT"


def parse_config(text: str) -> RankingConfig:
    """``'title=0.4 phrase=0.8'`` as a config."""
    kinds = {f.name: f.type for f in fields(RankingConfig)}
    values = {}
    for item in text.replace(",", " ").split():
        name, _, value = item.partition("=")
        if name not in kinds:
            raise SystemExit(f"fit.py: no ranking field {name!r}")
        default = getattr(DEFAULT, name)
        values[name] = type(default)(value) if not isinstance(default, str) else value
    return replace(DEFAULT, **values)


class Objective:
    """The weighted mean MRR@10 of a config over the kinds, each scored once."""

    def __init__(self, kb: KnowledgeBase, kinds: dict[str, list[Judgment]], weights: dict[str, float]):
        self.kb, self.kinds = kb, kinds
        total = sum(weights[k] for k in kinds)
        self.weights = {k: weights[k] / total for k in kinds}
        self.seen: dict[RankingConfig, tuple[float, dict[str, float]]] = {}
        self.evaluations = 0

    def __call__(self, cfg: RankingConfig) -> tuple[float, dict[str, float]]:
        if cfg not in self.seen:
            per = {k: score(self.kb, cfg, js).mrr for k, js in self.kinds.items()}
            self.seen[cfg] = (sum(self.weights[k] * v for k, v in per.items()), per)
            self.evaluations += 1
        return self.seen[cfg]


def score(kb: KnowledgeBase, cfg: RankingConfig, judgments: list[Judgment], name: str = "") -> Scores:
    kb.ranking = cfg

    def rank(q: str, k: int, exclude: frozenset[str]) -> list[str]:
        return [h.id for h in kb.search(q, limit=k, exclude=exclude)]

    return evaluate(rank, judgments, name=name)


def show(per: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4f}" for k, v in per.items())


def candidates(name: str, value: float, step: float) -> list[float]:
    """The values of ``name`` one step up and one down from ``value``, in range."""
    if name in INT_PARAMS:
        lo, hi = INT_PARAMS[name]
        out = [round(value * step), round(value / step)]
    else:
        lo, hi = PARAMS[name]
        if value == 0:
            d = getattr(DEFAULT, name)
            out = [d / 4 if d else 0.05]
        else:
            out = [value * step, value / step]
            floor = getattr(DEFAULT, name) / 10
            if lo == 0 and out[1] < floor:
                out[1] = 0.0
        out = [round(v, 4) for v in out]
    return [v for v in dict.fromkeys(min(hi, max(lo, v)) for v in out) if v != value]


def ascend(objective: Objective, start: RankingConfig, names: list[str], min_gain: float,
           deadline: float) -> RankingConfig:
    cfg = start
    best, per = objective(cfg)
    peers.log(f"start objective {best:.4f} ({show(per)})")
    for step in STEPS:
        improved = True
        while improved:
            improved = False
            for name in names:
                direction = None
                while time.time() < deadline:
                    cur = getattr(cfg, name)
                    tries = candidates(name, cur, step)
                    if direction is not None:  # keep going the way that gained
                        tries = [v for v in tries if (v > cur) == direction][:1]
                    found = None
                    for v in tries:
                        if time.time() >= deadline:
                            break
                        trial = replace(cfg, **{name: v})
                        obj, p = objective(trial)
                        peers.log(f"  step {step:.3f} {name}={v} objective {obj:.4f} ({show(p)})")
                        if obj > best + min_gain and (found is None or obj > found[0]):
                            found = (obj, v, p)
                    if found is None:
                        break
                    best, v, per = found
                    direction = v > cur
                    cfg = replace(cfg, **{name: v})
                    improved = True
                    peers.log(f"KEEP {name}={v} objective {best:.4f} ({show(per)}) [{objective.evaluations} configs]")
                if time.time() >= deadline:
                    peers.log("time is up")
                    return cfg
    return cfg


def load_dev(dev_dir: Path) -> dict[str, list[Judgment]]:
    return {name: [j for f in files for j in load_judgments(dev_dir / f)] for name, files in DEV_FILES.items()}


def report_dev(kb: KnowledgeBase, configs: dict[str, RankingConfig], dev_dir: Path) -> None:
    """MRR@10 of each config on each dev file's fit and check halves, and whole."""
    rows = []
    for fname in sorted(p.name for p in dev_dir.glob("dev-*.jsonl")):
        judgments = load_judgments(dev_dir / fname)
        halves = [dev_half(j.query) for j in judgments]
        for label, cfg in configs.items():
            peers.log(f"dev report: {label} on {fname}")
            s = score(kb, cfg, judgments, fname)
            cells = []
            for half in ("fit", "check"):
                rr = [r.rr for r, h in zip(s.results, halves) if h == half]
                cells.append(f"{sum(rr) / max(1, len(rr)):.3f} ({len(rr)})")
            rows.append([fname, label, *cells, f"{s.mrr:.3f}"])
    peers.print_table(["judgments", "ranking", "fit half MRR@10 (queries)", "check half MRR@10 (queries)",
                       "all MRR@10"], rows, numeric_from=2)


def sample(judgments: list[Judgment], n: int, seed: int) -> list[Judgment]:
    """The seeded sample of ``n`` judgments the fit scores (all for 0)."""
    if n <= 0 or n >= len(judgments):
        return judgments
    return random.Random(seed).sample(judgments, n)


def rest(judgments: list[Judgment], n: int, seed: int) -> list[Judgment]:
    """The judgments :func:`sample` leaves out."""
    chosen = {id(j) for j in sample(judgments, n, seed)}
    return [j for j in judgments if id(j) not in chosen]


def report_rest(kb: KnowledgeBase, configs: dict[str, RankingConfig], train: Path, n: int, seed: int) -> None:
    """MRR@10 of each config on the training judgments the fit did not score."""
    rows = []
    for path in sorted(train.glob("train-*.jsonl")):
        js = rest(load_judgments(path), n, seed)
        if not js:
            continue
        row: list[object] = [path.name, len(js)]
        for label, cfg in configs.items():
            peers.log(f"unscored training judgments: {label} on {path.name}")
            row.append(f"{score(kb, cfg, js, path.name).mrr:.3f}")
        rows.append(row)
    peers.print_table(["training judgments the fit did not score", "queries",
                       *(f"{k} MRR@10" for k in configs)], rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--train", type=Path, help="folder of train-KIND.jsonl (training.py --out-dir)")
    ap.add_argument("--dev-dir", type=Path, default=peers.SHARED / "eval", help="the dev-*.jsonl files")
    ap.add_argument("--per-kind", type=int, default=200, help="judgments of each kind scored (0: all)")
    ap.add_argument("--weights", nargs="+", default=[], metavar="KIND=W",
                    help=f"objective weights (default {' '.join(f'{k}={v}' for k, v in WEIGHTS.items())})")
    ap.add_argument("--params", nargs="+", default=list(PARAMS), metavar="FIELD",
                    help=f"fields to fit (default: all of {', '.join(PARAMS)}; also {', '.join(INT_PARAMS)})")
    ap.add_argument("--min-gain", type=float, default=0.001, help="objective gain a step must make (default 0.001)")
    ap.add_argument("--minutes", type=float, default=30.0, help="stop the ascent after this long")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fit-dev", action="store_true", help="add the dev files' fit halves to the objective")
    ap.add_argument("--config", default="", help="start from (with --no-fit: report) these fields, 'title=0.4 b=0.7'")
    ap.add_argument("--no-fit", action="store_true", help="only report the dev halves for --config")
    ap.add_argument("--no-dev", action="store_true", help="do not report the dev halves")
    ap.add_argument("--rest", action="store_true",
                    help="also report the training judgments the fit did not score (beyond --per-kind)")
    args = ap.parse_args(argv)
    weights = dict(WEIGHTS)
    for item in args.weights:
        k, _, v = item.partition("=")
        weights[k] = float(v)
    start = parse_config(args.config)

    kb = KnowledgeBase.open(args.index)
    try:
        cfg = start
        if not args.no_fit:
            kinds: dict[str, list[Judgment]] = {}
            for path in sorted(args.train.glob("train-*.jsonl")):
                kind = path.stem.removeprefix("train-")
                if weights.get(kind, 0) > 0:
                    kinds[kind] = sample(load_judgments(path), args.per_kind, args.seed)
            if args.fit_dev:
                for name, js in load_dev(args.dev_dir).items():
                    weights.setdefault(name, weights.get(name.removeprefix("dev-"), 0.2))
                    kinds[name] = sample([j for j in js if dev_half(j.query) == "fit"], args.per_kind, args.seed)
            if not kinds:
                raise SystemExit("fit.py: no training judgments (give --train)")
            peers.log("kinds: " + ", ".join(f"{k} {len(v)} (weight {weights[k]})" for k, v in kinds.items()))
            objective = Objective(kb, kinds, weights)
            t0 = time.time()
            cfg = ascend(objective, start, args.params, args.min_gain, t0 + 60 * args.minutes)
            d_obj, d_per = objective(DEFAULT)
            f_obj, f_per = objective(cfg)
            print(f"default: objective {d_obj:.4f} ({show(d_per)})")
            print(f"fitted:  objective {f_obj:.4f} ({show(f_per)}) after {objective.evaluations} configs, "
                  f"{(time.time() - t0) / 60:.1f} min")
        print(f"fitted = {config_expr(cfg)}")
        if args.rest and args.train:
            report_rest(kb, {"default": DEFAULT, "fitted": cfg}, args.train, args.per_kind, args.seed)
        if not args.no_dev:
            report_dev(kb, {"default": DEFAULT, "fitted": cfg}, args.dev_dir)
    finally:
        kb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
