"""Names that fit several entities are an error listing them, in `query` and the shell, never a silent pick."""
from __future__ import annotations

import pytest

from tests.conftest import kgnlp, kgnlp_json, seeded_workspace


@pytest.fixture(scope="module")
def two_mercuries(tmp_path_factory):
    return seeded_workspace(tmp_path_factory.mktemp("names"), [
        {"id": "chem:mercury", "name": "Mercury", "type": "Chemical"},
        {"id": "org:mercury_inc", "name": "Mercury", "type": "Organization", "aliases": ["Mercury Inc."]},
        {"id": "dis:poison", "name": "mercury poisoning", "type": "Disease"},
        {"id": "loc:zurich", "name": "Zürich", "type": "Location"},
        {"id": "dis:t1d", "name": "type 1 diabetes", "type": "Disease"},
        {"id": "dis:t2d", "name": "type 2 diabetes", "type": "Disease"}],
        "chem:mercury\tCAUSES\tdis:poison\norg:mercury_inc\tHEADQUARTERED_IN\tloc:zurich\n")


@pytest.mark.parametrize("args,listed", [
    (["query", "entity", "Mercury"], ["chem:mercury", "org:mercury_inc"]),
    (["query", "path", "Mercury", "Zürich"], ["chem:mercury", "org:mercury_inc"]),
    (["query", "neighbours", "diabetes"], ["dis:t1d", "dis:t2d"]),  # part of several names
])
def test_a_name_that_fits_several_entities_is_an_error_that_lists_them(two_mercuries, args, listed):
    proc = kgnlp(*args, "-w", two_mercuries)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert all(i in lines[0] for i in listed) and "id" in lines[0], lines[0]


def test_an_id_an_alias_or_the_one_name_that_fits_picks_that_entity(two_mercuries):
    assert kgnlp_json("query", "entity", "org:mercury_inc", "-w", two_mercuries)["entity"]["id"] == "org:mercury_inc"
    assert kgnlp_json("query", "entity", "Mercury Inc.", "-w", two_mercuries)["entity"]["id"] == "org:mercury_inc"
    assert kgnlp_json("query", "entity", "poisoning", "-w", two_mercuries)["entity"]["id"] == "dis:poison"
    path = kgnlp_json("query", "path", "org:mercury_inc", "Zürich", "-w", two_mercuries)
    assert [f["relation"] for f in path["facts"]] == ["HEADQUARTERED_IN"]


def test_the_shell_says_which_entities_a_name_fits(two_mercuries):
    proc = kgnlp("shell", "-w", two_mercuries, stdin="path Mercury -> Zürich\nentity Mercury Inc.\nquit\n")
    assert "chem:mercury" in proc.stdout + proc.stderr and "org:mercury_inc" in proc.stdout + proc.stderr
    assert "No path" not in proc.stdout


def test_the_shell_caps_hops_as_the_cli_does(two_mercuries):
    proc = kgnlp("shell", "-w", two_mercuries, stdin="neighbours Zürich --hops 9\nneighbours Zürich --hops 2\nquit\n")
    assert "--hops must be 1 to 4, got 9" in proc.stdout + proc.stderr
    assert "HEADQUARTERED_IN" in proc.stdout


def test_query_tables_print_names_as_written_never_as_markup_and_never_cut(tmp_path):
    long_name = "Zeta-Holdings-International-Pharmaceutical-Manufacturing-Group"
    ws = seeded_workspace(tmp_path, [
        {"id": "org:acme", "name": "Acme [/bold] Corp", "type": "Organization"},
        {"id": "org:beta", "name": "Beta[red]Ltd", "type": "Organization"},
        {"id": "org:zeta", "name": long_name, "type": "Organization"}],
        "org:acme\tACQUIRED\torg:beta\norg:zeta\tACQUIRED\torg:beta\n")
    narrow = {"COLUMNS": "70"}
    entity = kgnlp("query", "entity", "org:beta", "-w", ws, env=narrow)
    assert entity.returncode == 0, entity.stderr
    assert entity.stdout.startswith("Beta[red]Ltd [Organization] id=org:beta")
    assert "…" not in entity.stdout
    # a name wraps or folds onto more lines of its cell: read back whole
    heads = [line.split("│")[1].strip() for line in entity.stdout.splitlines() if line.startswith("│")]
    assert long_name in "".join(heads) and "Acme [/bold] Corp" in " ".join(heads)
    for args in (["neighbours", "org:acme", "--hops", "2"], ["path", "org:acme", "org:zeta"]):
        proc = kgnlp("query", *args, "-w", ws, env=narrow)
        assert proc.returncode == 0 and "Beta[red]Ltd" in proc.stdout, proc.stderr


def test_ask_and_ner_print_names_and_sentences_as_written_never_as_markup(tmp_path):
    """Rich markup in a name or a source sentence crashed `ask` ("[/bold]": MarkupError) or was swallowed
    ("[red]"); every command prints data as written."""
    ws = seeded_workspace(tmp_path, [
        {"id": "org:acme", "name": "Acme [/bold] Corp", "type": "Organization"},
        {"id": "org:beta", "name": "Beta[red]Ltd", "type": "Organization"}],
        "org:acme\tACQUIRED\torg:beta\n")
    ask = kgnlp("ask", "Who acquired Beta[red]Ltd?", "-w", ws)
    assert ask.returncode == 0, ask.stderr
    assert ask.stdout.startswith("1. Acme [/bold] Corp  (confidence") and "ACQUIRED Beta[red]Ltd" in ask.stdout
    ner = kgnlp("ner", "Acme [/bold] Corp bought Beta[red]Ltd.", "-w", ws)
    assert ner.returncode == 0, ner.stderr
    assert "Acme [/bold] Corp" in ner.stdout and "Beta[red]Ltd" in ner.stdout


@pytest.mark.parametrize("typed,shown", [("Zür\nich", "Zür\\nich"), ("Mercury\n", None), ("dia\rbetes", "dia\\rbetes")])
def test_a_line_break_typed_into_a_name_keeps_the_error_one_line(two_mercuries, typed, shown):
    proc = kgnlp("query", "entity", typed, "-w", two_mercuries)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert shown is None or f"'{shown}'" in lines[0]
