"""The ranking model as one readable thing: a frozen config, named factors,
and a breakdown per hit that is what the score was made of."""

import dataclasses
import json
from dataclasses import replace

import pytest

from kbsearch import KnowledgeBase
from kbsearch.ranking import DEFAULT, FACTORS, QUOTED, SHOWN, WORDS, RankingConfig
from kbsearch.ranking.factors import EXACT, HEAD

from .conftest import SHARED
from .test_search import _cited_overview, _label_pair, _lead_pair, _symptom_or_notes

SPOOLER = "when i print a long report the spooler stops and the report writer hangs"


def _assert_multiplies_out(hits):
    assert hits
    for h in hits:
        bd = h.breakdown
        assert bd is not None, h.id
        assert bd.score == pytest.approx(h.score, rel=1e-5), (h.id, bd)


def test_the_config_is_frozen_and_experiments_pass_a_copy():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.phrase = 0.0
    off = replace(DEFAULT, phrase=0.0)
    assert off.phrase == 0.0 and DEFAULT.phrase == 1.0
    # every factor is weighed by a field of the config
    names = {f.name for f in dataclasses.fields(RankingConfig)}
    assert all(f.config in names for f in FACTORS)


@pytest.mark.parametrize("query, reading", [
    ("redirector unable to delete", WORDS),
    ("sms event 3031", WORDS),
    ("redirector unable to delete banana zebra", WORDS),
])
def test_the_breakdown_multiplies_out_to_the_score(seed_kb, query, reading):
    hits = seed_kb.search(query, limit=5)
    _assert_multiplies_out(hits)
    assert all(h.breakdown.reading == reading and h.breakdown.base == "bm25" for h in hits)


@pytest.mark.parametrize("make, query, reading", [
    (_symptom_or_notes, "spool drive is not ready for printing", QUOTED),
    (_label_pair, "Save as type", SHOWN),
    (_cited_overview, "roaming profiles", WORDS),
    (_lead_pair, SPOOLER, WORDS),
])
def test_each_reading_records_what_it_multiplied(tmp_path, make, query, reading):
    with KnowledgeBase.open(make(tmp_path)) as kb:
        hits = kb.search(query, explain=True)
    _assert_multiplies_out(hits)
    for h in hits:
        bd = h.breakdown
        assert bd.reading == reading
        for f in FACTORS:
            got = bd.factor(f.name)
            if f is EXACT:  # only for a query with a rare code or file name: none of these
                assert not got.applied and got.note == ""
                continue
            # a factor counts only where the reading applies it (and the head
            # factors only on the head: these indexes are all head)
            assert got.applied == f.applies(reading), (f.name, reading)
        # the JSON renders the same record
        assert h.explanation["applied"] == [f.name for f in bd.factors if f.applied]
        assert h.explanation["reading"] == reading


def test_a_weight_of_zero_takes_its_factor_out(tmp_path):
    ix = _cited_overview(tmp_path)
    with KnowledgeBase.open(ix) as kb:
        on = {h.id: h.breakdown.factor("authority").value for h in kb.search("roaming profiles")}
    with KnowledgeBase.open(ix, ranking=replace(DEFAULT, authority=0.0)) as kb:
        off = {h.id: h.breakdown.factor("authority").value for h in kb.search("roaming profiles")}
    assert on["Q600001"] > 1.0 and set(off.values()) == {1.0}


def test_hits_below_the_head_say_the_head_factors_left_them_out(tmp_path):
    with KnowledgeBase.open(_lead_pair(tmp_path), ranking=replace(DEFAULT, lead_depth=1)) as kb:
        hits = kb.search(SPOOLER)
    _assert_multiplies_out(hits)
    head = [f for f in FACTORS if f.stage == HEAD]
    assert all(hits[0].breakdown.factor(f.name).applied for f in head)
    below = hits[1].breakdown
    assert not any(below.factor(f.name).applied for f in head)
    assert "not among the best 1" in below.factor("lead_cover").note


def test_syntax_and_named_articles_have_their_own_base(seed_kb):
    (h,) = seed_kb.search("title:3031")
    assert h.breakdown.base == "bm25f" and h.breakdown.factors == [] and h.breakdown.score == h.score
    h = seed_kb.search("Q280515 redirector")[0]
    assert h.id == "Q280515" and h.breakdown.base == "named" and h.breakdown.score == h.score


def test_explain_prints_the_scorers_record(seed_index):
    from click.testing import CliRunner

    from kbsearch.cli import cli

    r = CliRunner().invoke(cli, ["redirector unable to delete", "--explain", "--json", "--index", str(seed_index)])
    h = json.loads(r.output)["hits"][0]["explanation"]
    assert h["base"]["bm25"] > 0 and h["reading"] == WORDS
    r = CliRunner().invoke(cli, ["redirector unable to delete", "--explain", "--index", str(seed_index)])
    line = next(x for x in r.output.splitlines() if "×" in x)
    assert f"bm25 {h['base']['bm25']:.4g}" in line
    for name in h["applied"]:
        assert f"{name} {h['factors'][name]}" in line


@pytest.mark.archive
def test_the_breakdown_multiplies_out_on_dev_queries(archive_kb):
    from kbsearch.evaluate import load_judgments

    files = sorted((SHARED / "eval").glob("dev-*.jsonl"))
    if not files:
        pytest.skip(f"no dev judgments in {SHARED}/eval")
    readings = set()
    for f in files:
        for j in load_judgments(f)[::25]:
            hits = archive_kb.search(j.query, limit=15, exclude=j.exclude)
            _assert_multiplies_out(hits)
            readings.update(h.breakdown.reading for h in hits)
    assert {QUOTED, WORDS} <= readings
