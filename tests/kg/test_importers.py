"""Hetionet and CSV imports, through the real CLI: CRLF and gzip files, idempotent reruns, clear errors."""
from __future__ import annotations

import gzip
import json

import pytest

from tests.conftest import kgnlp, kgnlp_json, write_seed


def _hetionet(tmp_path):
    nodes = tmp_path / "nodes.tsv"
    nodes.write_bytes(b"id\tname\tkind\r\nCompound::DB1\tMetformin\tCompound\r\n"
                      b"Disease::DOID:9352\ttype 2 diabetes mellitus\tDisease\r\nGene::1\tINS\tGene\r\n")
    edges = tmp_path / "edges.sif.gz"
    with gzip.open(edges, "wb") as f:
        f.write(b"source\tmetaedge\ttarget\r\nCompound::DB1\tCtD\tDisease::DOID:9352\r\n"
                b"Disease::DOID:9352\tDaG\tGene::1\r\n")
    return nodes, edges


def test_import_hetionet_then_ask(tmp_path):
    nodes, edges = _hetionet(tmp_path)
    ws = tmp_path / "ws"
    got = kgnlp_json("import", "hetionet", str(nodes), str(edges), "-w", str(ws))
    assert (got["entities"], got["facts"], got["new_facts"]) == (3, 2, 2)
    again = kgnlp_json("import", "hetionet", str(nodes), str(edges), "-w", str(ws))
    assert again["new_facts"] == 0
    answer = kgnlp_json("ask", "What does metformin treat?", "-w", str(ws))["answers"][0]
    assert answer["text"] == "type 2 diabetes mellitus"
    assert answer["evidence"][0]["doc"] == "import:edges.sif.gz"
    tsv = kgnlp("export", "--format", "tsv", "-w", str(ws), check=True).stdout
    assert "type 2 diabetes mellitus\tASSOCIATED_WITH\tINS" in tsv


def test_import_hetionet_refuses_unknown_node(tmp_path):
    nodes, _ = _hetionet(tmp_path)
    edges = tmp_path / "bad.sif"
    edges.write_text("source\tmetaedge\ttarget\nCompound::DB1\tCtD\tDisease::NOPE\n", encoding="utf-8")
    proc = kgnlp("import", "hetionet", str(nodes), str(edges), "-w", str(tmp_path / "ws"))
    assert proc.returncode == 1 and "bad.sif:2: node 'Disease::NOPE'" in proc.stderr


def test_import_csv_uses_extraction_ids(tmp_path):
    f = tmp_path / "deals.csv"
    f.write_text("head,relation,tail,head_type,tail_type\nAcme Robotics Inc.,acquired,Beta Sensors,Organization,"
                 "Organization\n", encoding="utf-8")
    ws = tmp_path / "ws"
    assert kgnlp_json("import", "csv", str(f), "-w", str(ws))["new_facts"] == 1
    ent = kgnlp_json("query", "entity", "Acme Robotics Inc.", "-w", str(ws))
    assert ent["entity"]["id"] == "org:acme-robotics"
    assert ent["facts"][0]["relation"] == "ACQUIRED"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    proc = kgnlp("import", "csv", str(bad), "-w", str(ws))
    assert proc.returncode == 1 and "head, relation, tail" in proc.stderr


@pytest.mark.parametrize("line,needle", [
    ('{"id": "chem:x", "name": "X", "type": "Chemical", "aliases": "Xano"}', "aliases"),  # not split into letters
    ('{"id": "chem:x", "name": "  ", "type": "Chemical"}', "name"),
    ('{"id": "", "name": "X", "type": "Chemical"}', "id"),
    (b'{"id": "chem:x", "name": "Caf\xe9", "type": "Chemical"}', "UTF-8"),
])
def test_seed_entities_of_the_wrong_shape_are_refused(tmp_path, line, needle):
    from kg.errors import KGError
    from kg.seed import read_seed

    path = tmp_path / "entities.jsonl"
    path.write_bytes(line if isinstance(line, bytes) else line.encode("utf-8"))
    with pytest.raises(KGError, match=needle) as err:
        read_seed(tmp_path)
    assert "entities.jsonl" in str(err.value)


def test_seed_entity_names_may_hold_unicode_line_separators(tmp_path):
    from kg.seed import read_seed

    rows = [{"id": "org:a", "name": "Acme\u2028Robotics", "type": "Organization", "aliases": ["Acme\x85R"]},
            {"id": "org:b", "name": "Beta", "type": "Organization"}]
    (tmp_path / "entities.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                                             encoding="utf-8")
    got = read_seed(tmp_path).entities
    assert [(e.id, e.name, e.aliases) for e in got] == [("org:a", "Acme\u2028Robotics", ("Acme\x85R",)),
                                                        ("org:b", "Beta", ())]


def test_a_seed_entity_id_given_twice_is_refused_before_anything_is_stored(tmp_path):
    seed = write_seed(tmp_path / "seed", [{"id": "a", "name": "Alpha", "type": "Chemical"},
                                          {"id": "a", "name": "Beta", "type": "Disease"}])
    (tmp_path / "doc.txt").write_text("Alpha and Beta.", encoding="utf-8")
    proc = kgnlp("ingest", str(tmp_path / "doc.txt"), "--seed", str(seed), "-w", str(tmp_path / "ws"))
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert "entities.jsonl:2" in proc.stderr and "'a' appears twice (lines 1 and 2)" in proc.stderr
    assert not (tmp_path / "ws").exists()


def test_a_seed_fact_with_an_unknown_relation_names_its_file_and_line(tmp_path):
    from kg.errors import KGError
    from kg.seed import read_seed

    seed = write_seed(tmp_path / "seed", [{"id": "a", "name": "Alpha", "type": "Chemical"},
                                          {"id": "b", "name": "Beta", "type": "Disease"}],
                      "head\trelation\ttail\na\tTREATS\tb\na\tCURES_MAYBE\tb\n")
    with pytest.raises(KGError, match=r"triples.tsv:3: Unknown relation 'CURES_MAYBE'"):
        read_seed(seed)
    for ext in ('["D001"]', '{"mesh": ["D001", "D002"]}', '{"mesh": null}', '{"mesh": ""}'):
        (seed / "entities.jsonl").write_text('{"id": "a", "name": "Alpha", "type": "Chemical", "external_ids": %s}\n'
                                             % ext, encoding="utf-8")
        with pytest.raises(KGError, match=r"entities.jsonl:1: .*external_ids"):  # was stored as "['D001', 'D002']"
            read_seed(seed)
    (seed / "entities.jsonl").write_text('{"id": "a", "name": "Alpha", "type": "Chemical", "external_ids": '
                                         '{"mesh": "D001", "pubchem": 2244}}\n', encoding="utf-8")
    (seed / "triples.tsv").unlink()
    assert read_seed(seed).entities[0].external() == {"mesh": "D001", "pubchem": "2244"}


def test_a_seed_value_or_folder_name_that_is_not_unicode_is_one_line_and_writes_nothing(tmp_path):
    import os

    (tmp_path / "doc.txt").write_text("Alpha.", encoding="utf-8")
    good = tmp_path / "good"
    good.mkdir()
    (good / "entities.jsonl").write_text('{"id": "a", "name": "A\\ud800", "type": "Chemical"}\n', encoding="utf-8")
    latin1 = os.path.join(os.fsencode(tmp_path), b"s\xe9")  # a folder name that is not UTF-8
    os.mkdir(latin1)
    with open(os.path.join(latin1, b"entities.jsonl"), "w", encoding="utf-8") as f:
        f.write('{"id": "a", "name": "Alpha", "type": "Chemical"}\n')
    for seed, needle in ((str(good), "entities.jsonl:1: 'A\\ud800' is not valid Unicode"),
                         (os.fsdecode(latin1), "its name is not UTF-8")):
        proc = kgnlp("ingest", str(tmp_path / "doc.txt"), "--seed", seed, "-w", str(tmp_path / "ws"))
        assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert needle in proc.stderr and "Internal error" not in proc.stderr
        assert not (tmp_path / "ws").exists()


def test_import_csv_links_names_the_graph_already_has(tmp_path):
    from tests.conftest import DATA

    ws = str(tmp_path / "ws")
    kgnlp("ingest", str(DATA / "documents" / "medical" / "med01_metformin.txt"), "--seed", str(DATA / "seed"),
          "-w", ws, check=True)
    before = kgnlp_json("stats", "-w", ws)["entities"]
    f = tmp_path / "more.csv"
    f.write_bytes("\ufeffhead,relation,tail,head_type,tail_type\n"  # a BOM, as spreadsheet programs write
                  "Glucophage,treats,type 2 diabetes,Chemical,Disease\nmetformin,causes,Zorbitis,,Disease\n"
                  .encode("utf-8"))
    assert kgnlp_json("import", "csv", str(f), "-w", ws)["facts"] == 2
    assert kgnlp_json("stats", "-w", ws)["entities"] == before + 1  # only Zorbitis is new
    facts = kgnlp_json("query", "entity", "metformin", "-w", ws)["facts"]
    treats = [x for x in facts if x["relation"] == "TREATS" and x["tail"] == "type 2 diabetes"]
    assert len(treats) == 1 and any(s["doc"] == "import:more.csv" for s in treats[0]["sources"])
    assert any(x["relation"] == "CAUSES" and x["tail"] == "Zorbitis" for x in facts)


@pytest.mark.parametrize("kind,content,needle", [
    ("csv", "head,relation,tail\nCaf\xe9,treats,x\n".encode("latin-1"), "UTF-8"),
    ("csv", b"head,relation,tail\n!!!,treats,???\n", "letter"),
    ("csv", b"head,relation,tail\n  ,treats,x\n", "empty"),
    ("csv", b"head,relation,tail\nx,<REL>,y\n", "relation '<REL>'"),
    ("nodes", b"id\tname\tkind\nCompound::DB1\tMetformin\n", "nodes.tsv:2"),
    ("edges", b"not gzip at all", "gzip"),
])
def test_import_files_of_the_wrong_shape_are_one_line_errors(tmp_path, kind, content, needle):
    ws = str(tmp_path / "ws")
    if kind == "csv":
        (tmp_path / "f.csv").write_bytes(content)
        proc = kgnlp("import", "csv", str(tmp_path / "f.csv"), "-w", ws)
    else:
        nodes, edges = _hetionet(tmp_path)
        if kind == "nodes":
            nodes.write_bytes(content)
        else:
            edges.write_bytes(content)
        proc = kgnlp("import", "hetionet", str(nodes), str(edges), "-w", ws)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and "Internal error" not in lines[0], proc.stderr
    assert needle.lower() in lines[0].lower(), lines[0]


def test_import_csv_keeps_every_name_that_lands_on_one_entity(tmp_path):
    f = tmp_path / "names.csv"
    f.write_text("head,relation,tail,head_type,tail_type\nA-B,treats,X,Chemical,Disease\n"
                 "A B,causes,X,Chemical,Disease\na-b,causes,X,Chemical,Disease\n", encoding="utf-8")
    ws = str(tmp_path / "ws")
    assert kgnlp_json("import", "csv", str(f), "-w", ws)["entities"] == 2
    ent = kgnlp_json("query", "entity", "A B", "-w", ws)["entity"]  # the second spelling is still a name
    assert (ent["id"], ent["name"], ent["aliases"]) == ("chem:a-b", "A-B", ["A B"])


def test_rerunning_ingest_with_an_edited_seed_removes_what_only_the_seed_gave(tmp_path):
    from kg.stores.sqlite import SQLiteStore

    seed = write_seed(tmp_path / "seed", [{"id": "a", "name": "Alpha", "type": "Chemical", "aliases": ["Alfa", "A-1"]},
                                          {"id": "b", "name": "Beta", "type": "Disease"},
                                          {"id": "c", "name": "Gamma", "type": "Disease"}], "a\tTREATS\tb\n")
    (tmp_path / "doc.txt").write_text("Gamma was seen.", encoding="utf-8")
    ws = tmp_path / "ws"
    kgnlp("ingest", str(tmp_path / "doc.txt"), "--seed", str(seed), "-w", str(ws), check=True)
    write_seed(seed, [{"id": "a", "name": "Alpha", "type": "Chemical", "aliases": ["Alfa"]}])
    data = kgnlp_json("ingest", str(tmp_path / "doc.txt"), "--seed", str(seed), "-w", str(ws))
    assert data["seed"]["removed"] == 1
    assert (data["seed"]["entities_removed"], data["seed"]["aliases_removed"]) == (["b"], {"a": ["A-1"]})
    write_seed(seed, [])  # the human report names what the seed took back, on stderr
    proc = kgnlp("ingest", str(tmp_path / "doc.txt"), "--seed", str(seed), "-w", str(ws), check=True)
    assert "took back what it no longer lists and only it gave: 1 entity(ies) (a)" in proc.stderr
    store = SQLiteStore.open(ws / "graph.db", create=False)
    try:
        assert store.entity("b") is None  # only the seed had it
        assert store.entity("c") is not None  # the document mentions it
        assert store.entity("a") is None and store.entity("c") is not None
    finally:
        store.close()


def test_remove_takes_a_seed_out_of_the_graph(tmp_path):
    """A renamed seed folder is a new source: `kgnlp remove seed:<old name>` takes the old one out."""
    from kg.stores.sqlite import SQLiteStore

    seed = write_seed(tmp_path / "old", [{"id": "a", "name": "Alpha", "type": "Chemical", "aliases": ["Alfa"]},
                                         {"id": "b", "name": "Beta", "type": "Disease"}], "a\tTREATS\tb\n")
    (tmp_path / "doc.txt").write_text("Nothing to see.", encoding="utf-8")
    ws = str(tmp_path / "ws")
    kgnlp("ingest", str(tmp_path / "doc.txt"), "--seed", str(seed), "-w", ws, check=True)
    assert kgnlp_json("remove", "seed:old", "-w", ws) == {"document": "seed:old", "relations_removed": 1,
                                                         "entities_removed": ["a", "b"], "aliases_removed": {}}
    store = SQLiteStore.open(tmp_path / "ws" / "graph.db", create=False)
    try:
        assert list(store.entities()) == [] and list(store.triples()) == []
    finally:
        store.close()
    proc = kgnlp("remove", "seed:old", "-w", ws)
    assert proc.returncode == 1 and "No document or source 'seed:old'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
