"""The pruned first pass (kbsearch.ranking.prune) ranks as scoring every
document does: the same hits, scores, breakdowns and totals, under the
default weights and others, with filters and exclusions."""

import random
from dataclasses import replace

import numpy as np
import pytest

from kbsearch import KnowledgeBase, ingest
from kbsearch.ranking import DEFAULT
from kbsearch.ranking import pipeline, prune
from kbsearch.search import query_terms, search

WORDS = ("printer spooler driver network server share folder profile roaming logon password account "
         "service registry setup upgrade install memory disk drive partition boot error message dialog "
         "excel word access outlook exchange mailbox query report form macro").split()
CODES = ["0x80004005", "c0000218", "stop0x0000007b", "msvcrt.dll", "ntoskrnl.exe"]
PRODUCTS = ["Exchange", "Windows NT", "Office"]
N = 160
# Small depths, so that the top is a small part of the matches and pruning bites.
SMALL = replace(DEFAULT, rerank_depth=6, authority_depth=4, lead_depth=3, quote_scope=4)


def _article(rng: random.Random, n: int) -> str:
    def words(k: int) -> str:
        # Zipf-like: the first words of the list are the common ones.
        return " ".join(WORDS[min(len(WORDS) - 1, int(rng.paretovariate(0.8)) - 1)] for _ in range(k))

    title = words(rng.randint(2, 6)).title()
    symptoms = f"{words(rng.randint(5, 25))}."
    if rng.random() < 0.2:
        symptoms += f"\n\n   Error {rng.choice(CODES)}: {words(4)}\n"
    cause = f"{words(rng.randint(5, 40))}."
    more = f"{words(rng.randint(10, 80))}."
    if n > 700005 and rng.random() < 0.4:
        cited = rng.randint(700001, n - 1)
        more += ("\n\nFor more information about " + words(2) + ", see the following article in the "
                 f"Microsoft Knowledge Base:\n\n   Q{cited} {words(3).title()}")
    body = "".join(f"{h}\n{'=' * len(h)}\n\n{t}\n\n" for h, t in
                   (("SYMPTOMS", symptoms), ("CAUSE", cause), ("MORE INFORMATION", more)))
    return (f"DOCUMENT:Q{n}  01-JAN-{1995 + n % 6}  [{'exchange' if n % 3 else 'winnt'}]\nTITLE   :{title}\n"
            f"PRODUCT :{PRODUCTS[n % 3]}\n\n{body}")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """An index of generated articles over a small vocabulary (common and
    rare words, codes, citations with topics)."""
    root = tmp_path_factory.mktemp("prune")
    src = root / "src"
    src.mkdir()
    rng = random.Random(31)
    for n in range(700001, 700001 + N):
        (src / f"Q{n}.TXT").write_text(_article(rng, n))
    ingest.index_paths(str(root / "ix"), [str(src)], procs=1)
    with KnowledgeBase.open(root / "ix") as kb:
        yield kb


def _queries() -> list[str]:
    rng = random.Random(7)
    out = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 9))) for _ in range(40)]
    out += ["printer spooler", "error 0x80004005 access", "roaming profile logon password",
            "msvcrt.dll error message dialog", "stop0x0000007b boot disk partition setup upgrade"]
    return out


def _ranked(kb: KnowledgeBase, cfg, text: str, **kw) -> tuple:
    res = search(kb.engine, text, config=cfg, explain=True, **kw)
    return res.total, [(h.id, h.score, h.breakdown.to_dict()) for h in res.hits]


@pytest.mark.parametrize("cfg", [DEFAULT, SMALL, replace(SMALL, title=2.0, title_cover=0.0, coordination=1.0),
                                 replace(SMALL, exact=10.0, k1=2.0, b=0.0, topic_as_title=2.5),
                                 replace(SMALL, authority=0.0, anchor_weight=0.0, part_share=0.0)],
                         ids=["default", "small", "title-coordination", "exact-bm25", "no-links"])
def test_pruned_and_exhaustive_rank_alike(generated, cfg):
    assert prune.applies(cfg)
    for text in _queries():
        assert _ranked(generated, cfg, text, limit=8) == \
            _ranked(generated, replace(cfg, prune=False), text, limit=8), text


def test_pruned_with_filters_and_exclusions_ranks_alike(generated):
    for text in _queries()[:20]:
        for kw in ({"product": "exchange"}, {"exclude": ["Q700003", "Q700010"]}, {"since": "1998"}):
            assert _ranked(generated, SMALL, text, limit=5, **kw) == \
                _ranked(generated, replace(SMALL, prune=False), text, limit=5, **kw), (text, kw)


def test_pruning_scores_fewer_documents_than_match(generated):
    eng = generated.engine
    none = np.zeros(0, dtype=np.int64)
    fewer = 0
    for text in _queries():
        sc = pipeline.first_pass(eng, SMALL, query_terms(text), none, 5)
        every = pipeline.first_pass(eng, replace(SMALL, prune=False), query_terms(text), none, 5)
        assert sc.total == every.total and (sc.matches == every.matches).all()
        assert set(every.docs.tolist()) >= set(sc.docs.tolist())
        fewer += len(sc.docs) < every.total
    assert fewer >= len(_queries()) // 2


@pytest.mark.parametrize("field, value", [("coordination", -0.2), ("coordination", 1.5), ("title", -0.1),
                                          ("exact", -1.0), ("b", 1.5), ("prune", False)])
def test_weights_the_bounds_do_not_hold_for_score_every_document(generated, field, value):
    cfg = replace(SMALL, **{field: value})
    assert not prune.applies(cfg)
    sc = pipeline.first_pass(generated.engine, cfg, query_terms("printer spooler driver"), np.zeros(0, np.int64), 5)
    assert len(sc.docs) == sc.total
