import json

import pytest

from kbsearch.errors import KBSearchError
from kbsearch.evaluate import Judgment, evaluate, load_judgments, score_ranking


@pytest.mark.parametrize(
    "ranking, relevant, exclude, expected",
    [
        (["Q1", "Q2"], {"Q1"}, set(), (1.0, 1.0, 1.0)),
        (["Q2", "Q1"], {"Q1"}, set(), (0.5, 1.0, 0.6309)),
        (["Q9", "Q2", "Q1"], {"Q1"}, {"Q9"}, (0.5, 1.0, 0.6309)),
        (["Q2", "Q3"], {"Q1"}, set(), (0.0, 0.0, 0.0)),
        ([f"Q{i}" for i in range(2, 13)] + ["Q1"], {"Q1"}, set(), (0.0, 0.0, 0.0)),
    ],
)
def test_score_ranking(ranking, relevant, exclude, expected):
    rr, hit, nd = score_ranking(ranking, Judgment("q", relevant, exclude))
    assert (round(rr, 4), hit, round(nd, 4)) == expected


def test_evaluate_means_and_errors():
    js = [Judgment("a", {"Q1"}), Judgment("b", {"Q2"}), Judgment("bad", {"Q3"})]

    def rank(q, k, exclude):
        if q == "bad":
            raise KBSearchError("nope")
        return ["Q1", "Q2"]

    s = evaluate(rank, js, "x")
    assert s.queries == 3 and s.errors == 1
    assert s.mrr == pytest.approx((1 + 0.5) / 3)
    assert s.hit == pytest.approx(2 / 3)


def test_evaluate_keeps_each_query_result_in_file_order():
    js = [Judgment("a", {"Q1"}), Judgment("bad", {"Q1"}), Judgment("c", {"Q1"}, {"Q3"}), Judgment("d", {"Q9"})]

    def rank(q, k, exclude):
        if q == "bad":
            raise KBSearchError("only stop words")
        return ["Q3", "Q1", "Q2"]

    s = evaluate(rank, js, "x")
    got = [(r.query, r.rank, r.rr, r.ranking, r.error) for r in s.results]
    assert got == [
        ("a", 2, 0.5, ["Q3", "Q1", "Q2"], None),
        ("bad", None, 0.0, [], "only stop words"),
        ("c", 1, 1.0, ["Q1", "Q2"], None),  # the excluded Q3 is dropped: Q1 moves up
        ("d", None, 0.0, ["Q3", "Q1", "Q2"], None),
    ]
    assert s.mrr == pytest.approx(sum(r.rr for r in s.results) / 4)
    assert "per_query" not in s.to_dict()
    rows = s.to_dict(per_query=True)["per_query"]
    assert [(r["query"], r["rank"], r["error"]) for r in rows] == [
        ("a", 2, None), ("bad", None, "only stop words"), ("c", 1, None), ("d", None, None)]
    json.dumps(rows)


@pytest.mark.parametrize("line, message", [
    ({"query": "x", "relevant": "Q191428"}, r"line 2: 'relevant' must be a list of article ids.*got \"Q191428\""),
    ({"query": "x"}, r"line 2: 'relevant' must be a list of article ids.*\(missing\)"),
    ({"query": "x", "relevant": []}, r"line 2: 'relevant' must be a list"),
    ({"query": "x", "relevant": [191428]}, r"line 2: 'relevant' must be a list"),
    ({"query": "x", "relevant": ["Q1"], "exclude": "Q2"}, r"line 2: 'exclude' must be a list"),
    ({"query": "", "relevant": ["Q1"]}, r"line 2: 'query' must be a non-empty string"),
    ({"query": 32, "relevant": ["Q1"]}, r"line 2: 'query' must be"),
    (["x", ["Q1"]], r"line 2: not a judgment"),
])
def test_an_invalid_judgment_line_is_an_error_that_names_it(tmp_path, line, message):
    p = tmp_path / "j.jsonl"
    p.write_text(json.dumps({"query": "ok", "relevant": ["Q1"]}) + "\n" + json.dumps(line) + "\n")
    with pytest.raises(KBSearchError, match=message):
        load_judgments(p)


def test_load_judgments(tmp_path):
    p = tmp_path / "j.jsonl"
    p.write_text(json.dumps({"query": "x", "relevant": ["Q1", "168845"], "exclude": ["KB2"]}) + "\n\n")
    (j,) = load_judgments(p)
    assert j.relevant == {"Q1", "Q168845"} and j.exclude == {"Q2"}
    p.write_text("not json\n")
    with pytest.raises(KBSearchError, match=r"j.jsonl line 1: not JSON"):
        load_judgments(p)
    with pytest.raises(KBSearchError, match="cannot read"):
        load_judgments(tmp_path / "missing.jsonl")
    p.write_text("\n \n")
    with pytest.raises(KBSearchError, match="no judgments in"):
        load_judgments(p)


def test_evaluate_counts_judgments_the_index_cannot_answer():
    judgments = [Judgment("a", {"Q1"}), Judgment("b", {"Q2", "Q9"}), Judgment("c", {"Q8", "Q9"})]
    s = evaluate(lambda q, k, ex: ["Q1", "Q2"], judgments, indexed=lambda i: i in {"Q1", "Q2"})
    assert s.unindexed == 1 and s.to_dict()["unindexed"] == 1
    assert evaluate(lambda q, k, ex: ["Q1"], judgments).unindexed == 0  # not asked: not counted


def test_eval_on_seed_index(seed_kb, tmp_path):
    p = tmp_path / "j.jsonl"
    p.write_text(
        json.dumps({"query": "redirector unable to delete", "relevant": ["Q168845"], "exclude": []}) + "\n"
        + json.dumps({"query": "client.lkp not updated", "relevant": ["Q280515"], "exclude": []}) + "\n"
    )
    s = seed_kb.evaluate(p)
    assert (s.queries, s.mrr, s.hit, s.ndcg) == (2, 1.0, 1.0, 1.0)


@pytest.mark.parametrize("exclude, mrr", [([], 1.0), (["Q100002"], 0.0)])
def test_eval_treats_excluded_articles_as_not_indexed(tmp_path, exclude, mrr):
    from kbsearch import KnowledgeBase

    from .test_search import _citing_pair

    p = tmp_path / "j.jsonl"
    # Only Q100002's lead-in ("how to configure deleted item retention") ties "configure" to Q100001.
    p.write_text(json.dumps({"query": "configure", "relevant": ["Q100001"], "exclude": exclude}) + "\n")
    with KnowledgeBase.open(_citing_pair(tmp_path)) as kb:
        assert kb.evaluate(p).mrr == mrr
