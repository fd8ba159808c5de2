import json

import pytest
from click.testing import CliRunner

from kbsearch import engine
from kbsearch.cli import cli


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args, env=None):
    return runner.invoke(cli, list(args), env=env or {}, catch_exceptions=False)


def test_plain_query_is_search(runner, seed_index):
    r = run(runner, "redirector unable to delete", "--index", str(seed_index))
    assert r.exit_code == 0
    first = r.output.splitlines()[0]
    assert "Q168845" in first and "Windows NT SMS Clients Produce NT Event 3031" in first
    assert "Microsoft Windows NT · 2001-08-09" in r.output
    assert "The redirector was unable to delete the file" in r.output
    assert "\x1b[" not in r.output  # no colour when not on a terminal


def test_search_subcommand_and_words_as_args(runner, seed_index):
    r = run(runner, "search", "client.lkp", "not", "updated", "--index", str(seed_index))
    assert r.exit_code == 0
    assert r.output.splitlines()[0].split()[1] == "Q280515"


def test_search_json(runner, seed_index):
    r = run(runner, "redirector unable to delete", "--json", "--limit", "1", "--index", str(seed_index))
    data = json.loads(r.output)
    assert data["query"] == "redirector unable to delete"
    assert data["total"] >= 1
    assert len(data["hits"]) == 1
    hit = data["hits"][0]
    assert set(hit) == {"id", "title", "product", "versions", "date", "score", "snippet"}
    assert hit["id"] == "Q168845"
    assert hit["versions"] == ["1.2", "3.51", "4.0"]


def test_search_filters(runner, seed_index):
    r = run(runner, "file", "--product", "sms", "--json", "--index", str(seed_index))
    assert [h["id"] for h in json.loads(r.output)["hits"]] == ["Q280515"]
    r = run(runner, "file", "--version", "3.51", "--keyword", "kbbug", "--json", "--index", str(seed_index))
    assert [h["id"] for h in json.loads(r.output)["hits"]] == ["Q168845"]


def test_search_explain(runner, seed_index):
    r = run(runner, "redirector", "--explain", "--index", str(seed_index))
    # the message SYMPTOMS shows ("The redirector was unable to delete ...") is named: it weighs more
    assert "redirector" in r.output and "bm25" in r.output and "in symptoms,message,cause" in r.output


def test_search_explain_names_citation_topics(runner, tmp_path):
    from .test_search import _citing_pair

    r = run(runner, "configure", "--explain", "--limit", "1", "--index", str(_citing_pair(tmp_path)))
    assert "Q100001" in r.output.splitlines()[0]
    assert "configur" in r.output and "topic of 1 citing article" in r.output


def test_search_explain_names_the_kb_words_a_query_word_matched_as(runner, tmp_path):
    from .test_search import _vocabulary_pair

    r = run(runner, "dhcp", "freezes", "--explain", "--limit", "1", "--index", str(_vocabulary_pair(tmp_path)))
    assert "Q200001" in r.output.splitlines()[0]
    assert "freez" in r.output and "in title,symptoms; as hang" in r.output


def _explained(runner, words, ix) -> tuple[list[str], list[dict]]:
    """The factor lines of ``--explain`` for ``words``, and each hit's factors from ``--explain --json``."""
    r = run(runner, *words, "--explain", "--index", ix)
    lines = [ln for ln in r.output.splitlines() if ln.strip().startswith("×")]
    r = run(runner, *words, "--explain", "--json", "--index", ix)
    return lines, [h["explanation"]["factors"] for h in json.loads(r.output)["hits"]]


@pytest.mark.parametrize("words, quoted", [
    (["spool", "drive", "is", "not", "ready", "for", "printing"], True),
    (["drive", "not", "ready"], False),
])
def test_search_explain_says_when_a_query_is_read_as_a_quoted_message(runner, tmp_path, words, quoted):
    from .test_search import _quoting_pair

    factor_lines, factors = _explained(runner, words, str(_quoting_pair(tmp_path)))
    assert len(factor_lines) == 3
    assert all(("title 1.0 (quoted message" in ln) is quoted for ln in factor_lines)
    # each line names the factors of its reading only
    assert all(("symptoms_quote" in ln and "message_cover" in ln) is quoted for ln in factor_lines)
    assert all(("lead_cover" in ln and "subject" in ln and "authority" in ln) is not quoted for ln in factor_lines)
    assert {f["quoted"] for f in factors} == {quoted}


def test_search_explain_shows_the_lead_cover_of_a_description(runner, tmp_path):
    from .test_search import SPOOLER, _lead_pair

    r = run(runner, SPOOLER, "--explain", "--index", str(_lead_pair(tmp_path)))
    assert "Q530001" in r.output.splitlines()[0]
    covers = [float(ln.split("lead_cover ")[1].split()[0])
              for ln in r.output.splitlines() if ln.strip().startswith("×")]
    assert len(covers) == 2 and covers[0] > 1.5 > covers[1]


@pytest.mark.parametrize("words, shown", [
    (["Save", "as", "type"], True),
    (["save", "as", "type", "converters"], False),
])
def test_search_explain_says_when_an_article_shows_the_query_whole(runner, tmp_path, words, shown):
    from .test_search import _label_pair

    factor_lines, factors = _explained(runner, words, str(_label_pair(tmp_path)))
    assert len(factor_lines) == 2
    assert all(("(an article shows the query whole: not a subject)" in ln) is shown for ln in factor_lines)
    assert {f["shown"] for f in factors} == {shown}


def test_search_explain_says_the_authority_is_not_for_a_query_shown_whole(runner, tmp_path):
    from .test_search import _index_articles

    cite = ("For more information about the Save as type box, see the following article in the\n"
            "Microsoft Knowledge Base:\n\n   Q550001 Converters Not Registered After a Custom Setup")
    ix = _index_articles(tmp_path, {
        550001: ("Converters Not Registered After a Custom Setup", {
            "SYMPTOMS": 'When you click Save As on the File menu, the "Save as type" box is empty.'}),
        550003: ("Word Saves Files in the Wrong Type", {
            "SYMPTOMS": "Files you save as text are saved in Word format.", "MORE INFORMATION": cite}),
    })
    factor_lines, _ = _explained(runner, ["Save", "as", "type"], str(ix))
    hits = json.loads(run(runner, "Save", "as", "type", "--explain", "--json", "--index", str(ix)).output)["hits"]
    f = {h["id"]: h["explanation"]["factors"] for h in hits}["Q550001"]
    assert f["shown"] and f["cited_nearby"] == 1 and f["authority"] == 1.0
    assert any("(cited by 1 of the query's best matches; not for a query an article shows whole)" in ln
               for ln in factor_lines)


def test_search_explain_says_how_many_best_matches_cite_a_hit(runner, tmp_path):
    from .test_search import _cited_overview

    factor_lines, factors = _explained(runner, ["roaming", "profiles"], str(_cited_overview(tmp_path)))
    assert "(cited by 3 of the query's best matches)" in factor_lines[0]
    assert sum("of the query's best matches" in ln for ln in factor_lines) == 1
    assert factors[0]["cited_nearby"] == 3 and factors[0]["authority"] > 1.0


@pytest.mark.parametrize("flag, hits", [([], ["Q200001"]), (["--no-vocabulary"], [])])
def test_search_vocabulary_flag(runner, tmp_path, flag, hits):
    from .test_search import _vocabulary_pair

    r = run(runner, "freezes", "--json", *flag, "--index", str(_vocabulary_pair(tmp_path)))
    assert [h["id"] for h in json.loads(r.output)["hits"]] == hits


def test_env_var_picks_index(runner, seed_index):
    r = run(runner, "redirector", "--json", env={"KBSEARCH_INDEX": str(seed_index)})
    assert json.loads(r.output)["hits"][0]["id"] == "Q168845"


def test_no_results(runner, seed_index):
    r = runner.invoke(cli, ["zzzzqqq", "--index", str(seed_index)])
    assert r.exit_code == 0
    assert "No matching articles" in r.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["   "], "empty query"),
        (["the of and"], "only stop words"),
        (["redirector", "--index", "{missing}"], "no index at"),
        (["show", "Q1"], "not in the index"),
        (["show", "nonsense"], "not an article id"),
        (["index", "{missing}"], "no such file or directory"),
    ],
)
def test_user_errors_are_one_line_exit_1(runner, seed_index, tmp_path, args, message):
    args = [a.replace("{missing}", str(tmp_path / "missing")) for a in args]
    if "--index" not in args:
        args += ["--index", str(seed_index)]
    r = runner.invoke(cli, args)
    assert r.exit_code == 1, r.output
    assert message in r.output
    assert r.output.startswith("Error: ")
    assert len(r.output.strip().splitlines()) == 1
    assert "Traceback" not in r.output


def test_usage_errors_exit_2(runner, seed_index):
    r = runner.invoke(cli, ["search", "--limit", "0", "x", "--index", str(seed_index)])
    assert r.exit_code == 2
    r = runner.invoke(cli, ["search"])
    assert r.exit_code == 2


def test_first_run_builds_default_index(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(cli, ["redirector unable to delete", "--json"], env={"KBSEARCH_INDEX": None})
    assert r.exit_code == 0, r.output
    # it says what the default corpus is and how to get the real archive
    assert "building it from the default corpus, the 2 sample articles" in r.stderr
    assert "kbsearch fetch" in r.stderr and "kbsearch index PATH" in r.stderr
    assert json.loads(r.stdout)["hits"][0]["id"] == "Q168845"
    assert engine.index_exists(str(tmp_path / "index"))
    # The second run uses it and says nothing about building.
    r = runner.invoke(cli, ["client.lkp", "--json"], env={"KBSEARCH_INDEX": None})
    assert "building" not in r.stderr
    assert json.loads(r.stdout)["hits"][0]["id"] == "Q280515"


def test_the_samples_are_not_mixed_into_the_users_own_articles(runner, tmp_path, monkeypatch):
    from .test_search import _kb_article

    monkeypatch.chdir(tmp_path)
    env = {"KBSEARCH_INDEX": None}
    runner.invoke(cli, ["stats"], env=env)  # the first run builds ./index from the two samples
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "Q900001.TXT").write_text(_kb_article(900001, "Printer Stops After an Upgrade", {
        "SYMPTOMS": "The printer stops after the upgrade."}))
    r = runner.invoke(cli, ["index", str(mine)], env=env)
    assert r.exit_code == 0, r.output
    assert "Left out the 2 sample articles of the default corpus" in r.stderr
    assert "1 added" in r.stdout and "; 1 articles" in r.stdout
    r = runner.invoke(cli, ["stats", "--json"], env=env)
    assert json.loads(r.stdout)["articles"] == 1
    # later runs are ordinary incremental ones
    r = runner.invoke(cli, ["index", str(mine)], env=env)
    assert "Left out" not in r.stderr and "1 unchanged" in r.stdout


def test_an_index_of_the_samples_by_hand_keeps_them(runner, tmp_path, seed_dir):
    ix = str(tmp_path / "ix")
    run(runner, "index", str(seed_dir), "--index", ix)
    (seed_dir / "more").mkdir()
    r = run(runner, "index", str(seed_dir / "more"), "--index", ix)
    assert "Left out" not in r.output and "2 articles" in r.output


def test_index_verbose_names_the_files(runner, tmp_path, seed_dir):
    ix = str(tmp_path / "ix")
    r = run(runner, "index", str(seed_dir), "-v", "--index", ix)
    added = sorted(ln.split(None, 1)[1] for ln in r.stdout.splitlines() if ln.startswith("added "))
    assert [p.rsplit("/", 1)[1] for p in added] == ["Q168845.TXT", "Q280515.TXT"]
    (seed_dir / "Q280515.TXT").unlink()
    (seed_dir / "Q168845.TXT").write_text((seed_dir / "Q168845.TXT").read_text() + "\n")
    r = run(runner, "index", str(seed_dir), "--verbose", "--index", ix)
    lines = r.stdout.splitlines()
    assert any(ln.startswith("updated ") and ln.endswith("Q168845.TXT") for ln in lines)
    assert any(ln.startswith("removed ") and ln.endswith("Q280515.TXT") for ln in lines)
    data = json.loads(run(runner, "index", str(seed_dir), "-v", "--json", "--index", ix).output)
    assert data["files"] == {"added": [], "updated": [], "removed": []}
    assert "files" not in json.loads(run(runner, "index", str(seed_dir), "--json", "--index", ix).output)


def test_index_progress_says_committing(tmp_path, seed_dir):
    from kbsearch.ingest import index_paths

    calls = []
    index_paths(str(tmp_path / "ix"), [str(seed_dir)], progress=lambda *a: calls.append(a))
    assert calls[-1] == (2, 2, "committing") and all(c[2] == "reading" for c in calls[:-1])


def test_progress_line_says_committing():
    import click

    from kbsearch.cli import _Progress

    @click.command()
    def show():
        bar = _Progress("files")
        bar.update(5, 10, "reading")
        bar.update(10, 10, "committing")
        bar.close()

    out = CliRunner().invoke(show).stderr
    assert "5/10 files" in out and "ETA" in out and out.rstrip().endswith("committing...")


@pytest.mark.parametrize("junk_only", [True, False])
def test_a_run_that_indexes_no_article_says_so(runner, tmp_path, seed_dir, junk_only):
    junk = tmp_path / "junk"
    junk.mkdir()
    if junk_only:
        (junk / "a.txt").write_bytes(b"\x00" * 64)
        (junk / "b.txt").write_text("not an article\n")
    r = runner.invoke(cli, ["index", str(junk), "--index", str(tmp_path / "ix")])
    assert r.exit_code == 1
    last = r.stderr.strip().splitlines()[-1]
    why = "every one of the 2 files found was skipped" if junk_only else "there are no *.txt article files under"
    assert last.startswith("Error: no article indexed: " + why) and "holds no articles" in last
    # into an index that has articles, the same run is a warning, not an error
    ix = str(tmp_path / "full")
    run(runner, "index", str(seed_dir), "--index", ix)
    r = runner.invoke(cli, ["index", str(junk), "--index", ix])
    assert r.exit_code == 0 and ("every file found was skipped" in r.stderr if junk_only
                                 else "No *.txt article files" in r.stderr)


def test_index_command(runner, tmp_path, seed_dir):
    ix = str(tmp_path / "ix")
    r = run(runner, "index", str(seed_dir), "--index", ix)
    assert r.exit_code == 0
    assert "2 added, 0 updated, 0 removed, 0 unchanged, 0 skipped; 2 articles" in r.output
    r = run(runner, "index", str(seed_dir), "--index", ix, "--json")
    data = json.loads(r.output)
    assert (data["added"], data["unchanged"], data["articles"]) == (0, 2, 2)
    r = run(runner, "index", str(seed_dir), "--index", ix, "--quiet")
    assert r.output == ""


def test_index_names_truncated_articles(runner, tmp_path, seed_dir):
    cut = seed_dir / "Q123456.TXT"
    cut.write_bytes(b"DOCUMENT:Q123456  01-JAN-2000  [win95x]\r\nTITLE   :Half a head\r\n")
    ix = str(tmp_path / "ix")
    r = runner.invoke(cli, ["index", str(seed_dir), "--index", ix])
    assert r.exit_code == 0, r.output
    assert f"truncated {cut}: Q123456 has a header but no body" in r.stderr
    assert "3 added, 0 updated, 0 removed, 0 unchanged, 0 skipped, 1 truncated; 3 articles" in r.stdout
    r = run(runner, "index", str(seed_dir), "--index", str(tmp_path / "ix2"), "--json")
    assert json.loads(r.stdout)["truncated"] == [{"path": str(cut), "id": "Q123456"}]
    # indexed all the same: its title finds it
    r = run(runner, "half head", "--index", ix, "--json")
    assert [h["id"] for h in json.loads(r.stdout)["hits"]] == ["Q123456"]


def test_index_reports_skipped_files(runner, tmp_path, seed_dir):
    (seed_dir / "junk.txt").write_bytes(b"\x00" * 64)
    r = runner.invoke(cli, ["index", str(seed_dir), "--index", str(tmp_path / "ix")])
    assert r.exit_code == 0
    assert "skipped" in r.stderr and "junk.txt" in r.stderr and "binary" in r.stderr
    assert "1 skipped" in r.stdout


def test_index_locked(runner, seed_index, seed_dir):
    holder = engine.Writer(engine.open_index(str(seed_index)))
    try:
        r = runner.invoke(cli, ["index", str(seed_dir), "--index", str(seed_index)])
    finally:
        holder.cancel()
    assert r.exit_code == 1
    assert "locked by another" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_index_rebuild(runner, tmp_path, seed_dir, seed_index):
    r = run(runner, "index", str(seed_dir), "--rebuild", "--index", str(seed_index), "--json")
    assert json.loads(r.output)["added"] == 2


@pytest.mark.parametrize("aid", ["Q168845", "168845", "KB168845"])
def test_show(runner, seed_index, aid):
    r = run(runner, "show", aid, "--index", str(seed_index))
    assert r.exit_code == 0
    assert r.output.startswith("DOCUMENT:Q168845  09-AUG-2001  [winnt]")
    assert "The redirector was unable to delete the file specified on server" in r.output


def test_show_json(runner, seed_index):
    r = run(runner, "show", "Q280515", "--json", "--index", str(seed_index))
    data = json.loads(r.output)
    assert data["id"] == "Q280515"
    assert data["date"] == "2002-08-06"
    assert data["citations"] == [
        {"id": "Q288239", "title": "SMS: How to Obtain the Latest Systems Management Server 2.0 Service Pack",
         "topic": ""}
    ]
    assert [s["heading"] for s in data["sections"]] == ["SYMPTOMS", "CAUSE", "RESOLUTION", "STATUS"]
    assert data["messages"] == ["Copying X:\\SMS\\inboxes\\clidata.src\\client.lkp to\n"
                                "\\\\SERVER\\CAP_XYZ\\clidata.box\\client.lkp, Failed, Win32 Error = 32"]
    assert data["quotes"] == []  # its SYMPTOMS' prose quotes nothing


def test_stats(runner, seed_index):
    r = run(runner, "stats", "--json", "--index", str(seed_index))
    data = json.loads(r.output)
    assert data["articles"] == 2
    assert data["products"]["Microsoft Windows NT"] == 1
    assert data["missing_fields"] == []
    r = run(runner, "stats", "--index", str(seed_index))
    assert r.output.startswith("2 articles in") and "older kbsearch" not in r.output


def test_stats_says_an_older_index_lacks_fields(runner, seed_index, monkeypatch):
    from kbsearch import engine

    monkeypatch.setattr(engine.Engine, "missing_fields", lambda self: ["message"])
    assert json.loads(run(runner, "stats", "--json", "--index", str(seed_index)).output)["missing_fields"] == ["message"]
    r = run(runner, "stats", "--index", str(seed_index))
    assert r.exit_code == 0
    assert "without message: `kbsearch index --rebuild PATH...` adds them" in r.output


def test_help_lists_commands(runner):
    # Each command must be a line of its own in the "Commands:" list: a bare
    # substring test passes for "search" on "kbsearch" with the command gone.
    r = run(runner, "--help")
    assert r.exit_code == 0
    listing = r.output.split("\nCommands:\n", 1)[1]
    listed = {line.split()[0] for line in listing.splitlines() if line.startswith("  ") and line.strip()}
    for cmd in ("search", "index", "show", "stats", "eval"):
        assert cmd in listed, f"{cmd!r} not listed in --help's commands: {sorted(listed)}"


def test_eval_command(runner, seed_index, tmp_path):
    p = tmp_path / "j.jsonl"
    p.write_text(json.dumps({"query": "event 3031", "relevant": ["Q168845"], "exclude": []}) + "\n")
    r = run(runner, "eval", str(p), "--index", str(seed_index))
    assert r.exit_code == 0
    assert "j.jsonl" in r.output and "1.000" in r.output
    r = run(runner, "eval", str(p), "--json", "--index", str(seed_index))
    assert json.loads(r.output)[0]["mrr@10"] == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")
    r = runner.invoke(cli, ["eval", str(bad), "--index", str(seed_index)])
    assert r.exit_code == 1 and "bad.jsonl line 1: 'query' must be a non-empty string" in r.output
    bad.write_text(json.dumps({"query": "event 3031", "relevant": "Q168845"}) + "\n")
    r = runner.invoke(cli, ["eval", str(bad), "--index", str(seed_index)])
    assert r.exit_code == 1 and "line 1: 'relevant' must be a list of article ids" in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_eval_says_which_judgments_the_index_cannot_answer(runner, seed_index, tmp_path):
    p = tmp_path / "j.jsonl"
    p.write_text(json.dumps({"query": "event 3031", "relevant": ["Q168845"]}) + "\n"
                 + json.dumps({"query": "event 3031", "relevant": ["Q999999"]}) + "\n")
    r = run(runner, "eval", str(p), "--json", "--index", str(seed_index))
    assert r.exit_code == 0
    assert "j.jsonl: 1 of 2 judgments name no article in this index" in r.stderr
    assert json.loads(r.stdout)[0]["unindexed"] == 1
    p.write_text(json.dumps({"query": "event 3031", "relevant": ["Q168845"]}) + "\n")
    r = run(runner, "eval", str(p), "--index", str(seed_index))
    assert r.stderr == "" and "1.000" in r.stdout
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    r = runner.invoke(cli, ["eval", str(empty), "--index", str(seed_index)])
    assert r.exit_code == 1 and "no judgments in" in r.output


def test_eval_per_query_lists_each_query(runner, seed_index, tmp_path):
    p = tmp_path / "j.jsonl"
    p.write_text(json.dumps({"query": "event 3031", "relevant": ["Q168845"]}) + "\n"
                 + json.dumps({"query": "event\n3031", "relevant": ["Q280515"]}) + "\n")
    r = run(runner, "eval", str(p), "--per-query", "--index", str(seed_index))
    lines = r.output.splitlines()
    start = lines.index("j.jsonl")
    assert lines[start + 2:] == ["   1  Q168845   event 3031", "   -  Q168845   event 3031"]  # one line each
    assert "\x1b[" not in r.output  # plain when piped
    r = runner.invoke(cli, ["eval", str(p), "--per-query", "--index", str(seed_index)], color=True)
    assert "\x1b[31m   -  Q168845" in r.output  # on a terminal, a miss is red
    r = run(runner, "eval", str(p), "--per-query", "--json", "--index", str(seed_index))
    (f,) = json.loads(r.output)
    assert [q["rank"] for q in f["per_query"]] == [1, None]
    assert f["per_query"][0]["ranking"][0] == "Q168845"
    r = run(runner, "eval", str(p), "--json", "--index", str(seed_index))
    assert "per_query" not in json.loads(r.output)[0]


def test_search_help_names_every_syntax_field(runner):
    from kbsearch import terms

    r = run(runner, "search", "--help")
    listed = r.output.split("Syntax fields:")[1].split("e.g.")[0]
    assert all(name in listed for name in terms.TEXT_FIELDS + terms.KEYWORD_FIELDS)


@pytest.mark.parametrize("args", [
    ["--index", "{ix}", "stats"],
    ["--json", "--index", "{ix}", "stats"],
    ["--index", "{ix}", "show", "Q168845"],
    ["--index={ix}", "--json", "show", "Q168845"],
])
def test_options_before_the_command_work_as_after_it(runner, seed_index, args):
    args = [a.replace("{ix}", str(seed_index)) for a in args]
    before = run(runner, *args)
    cmd = next(a for a in args if a in ("stats", "show"))
    i = args.index(cmd)
    after = run(runner, *args[i:], *args[:i])
    assert before.exit_code == 0 and before.output == after.output
    assert "Q168845" in before.output if cmd == "show" else "2 articles" in before.output or '"articles": 2' in before.output


def test_options_before_the_command_do_not_build_the_default_index(runner, tmp_path, monkeypatch, seed_index):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    r = run(runner, "--json", "--index", str(seed_index), "stats")
    assert json.loads(r.output)["articles"] == 2
    assert not (tmp_path / "cwd" / "index").exists()


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(runner, flag):
    from kbsearch import __version__

    r = run(runner, flag)
    assert r.exit_code == 0 and r.output.strip() == f"kbsearch {__version__}"


def test_version_after_a_query_is_still_the_version_filter(runner, seed_index):
    r = run(runner, "file", "--version", "3.51", "--json", "--index", str(seed_index))
    assert [h["id"] for h in json.loads(r.output)["hits"]] == ["Q168845"]


@pytest.mark.parametrize("args", [["-2147467259", "--index", "{ix}"], ["error", "-2147467259", "--json", "--index", "{ix}"],
                                  ["-2147467259", "-n", "1", "--index", "{ix}"], ["search", "-2147467259", "--index", "{ix}"],
                                  ["--index", "{ix}", "--", "-2147467259"]])
def test_a_query_that_starts_with_a_dash_is_a_query(runner, tmp_path, args):
    from .test_search import _index_articles

    ix = _index_articles(tmp_path, {620003: ("Error -2147467259 Connecting to the Server", {
        "SYMPTOMS": "You receive run-time error -2147467259 when you connect."})})
    r = run(runner, *[a.replace("{ix}", str(ix)) for a in args])
    assert r.exit_code == 0, r.output
    assert "Q620003" in r.output


def test_an_unknown_option_is_still_a_usage_error(runner, seed_index):
    r = runner.invoke(cli, ["redirector", "--bogus", "--index", str(seed_index)])
    assert r.exit_code == 2 and "No such option" in r.output


@pytest.mark.parametrize("env, args, coloured", [
    ({}, [], False),                                  # not a terminal
    ({}, ["--color", "always"], True),
    ({"NO_COLOR": "1"}, ["--color", "always"], True),  # asked for: it wins
    ({}, ["--color=never"], False),
    ({"NO_COLOR": "1"}, [], False),
])
def test_color(runner, seed_index, env, args, coloured):
    r = run(runner, "redirector", *args, "--index", str(seed_index), env=env)
    assert r.exit_code == 0 and ("\x1b[" in r.output) is coloured
    r = run(runner, *args, "redirector", "--index", str(seed_index), env=env)  # before the query too
    assert ("\x1b[" in r.output) is coloured


def test_no_color_is_honoured_on_a_terminal(runner, seed_index):
    r = runner.invoke(cli, ["redirector", "--index", str(seed_index)], env={"NO_COLOR": "1"}, color=True)
    assert "\x1b[" not in r.output
    r = runner.invoke(cli, ["redirector", "--index", str(seed_index)], env={}, color=True)
    assert "\x1b[" in r.output


def test_a_bad_color_is_a_usage_error(runner, seed_index):
    r = runner.invoke(cli, ["redirector", "--color", "purple", "--index", str(seed_index)])
    assert r.exit_code == 2 and "--color must be one of auto, always, never" in r.output


@pytest.fixture(scope="module")
def many_articles(tmp_path_factory):
    """An index of 600 articles: enough output to fill a pipe."""
    from .test_search import _index_articles

    return _index_articles(tmp_path_factory.mktemp("many"), {
        800000 + i: (f"Printer Spooler Error {i} After You Install the Driver", {
            "SYMPTOMS": f"The printer spooler stops with error {i} when you print a long report."})
        for i in range(600)})


@pytest.mark.parametrize("args", [["printer", "spooler", "-n", "1000"], ["printer", "-n", "1000", "--json"],
                                  ["show", "Q800001"], ["stats"]])
def test_a_closed_pipe_ends_quietly_with_status_0(many_articles, args):
    import subprocess
    import sys

    p = subprocess.run(["bash", "-o", "pipefail", "-c",
                        f"{sys.executable} -m kbsearch {' '.join(args)} --index {many_articles} | head -c 1"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


@pytest.mark.parametrize("query, expected", [
    ("cites:Q100001", ["Q100002"]), ("cites:100001", ["Q100002"]), ("cites:KB100001", ["Q100002"]),
    ('cites:"kb100001"', ["Q100002"]), ("id:100001", ["Q100001"]), ("(id:q100002)", ["Q100002"]),
])
def test_ids_in_syntax_take_every_form_show_takes(runner, tmp_path, query, expected):
    from .test_search import _citing_pair

    r = run(runner, query, "--json", "--index", str(_citing_pair(tmp_path)))
    assert [h["id"] for h in json.loads(r.output)["hits"]] == expected
