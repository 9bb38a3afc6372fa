"""The CLI contract of issue 2, through the real command in a subprocess."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import DATA, kgnlp, kgnlp_json, write_seed


def test_ingest_json_keys_and_rerun_adds_nothing(tmp_path):
    ws = tmp_path / "ws"
    first = kgnlp_json("ingest", str(DATA / "documents" / "financial"), "--seed", str(DATA / "seed"), "-w", str(ws))
    assert set(first) >= {"documents", "entities", "relations", "seconds"}
    assert first["documents"] == 25 and first["relations"] > 10
    again = kgnlp_json("ingest", str(DATA / "documents" / "financial"), "--seed", str(DATA / "seed"), "-w", str(ws))
    assert (again["documents"], again["entities"], again["relations"]) == (0, 0, 0)
    assert again["skipped"] == 25


def _org_seed(folder, *names):
    folder.mkdir()
    (folder / "entities.jsonl").write_text("".join(
        json.dumps({"id": f"org:{i}", "name": n, "type": "Organization"}) + "\n" for i, n in enumerate(names)))
    return folder


def test_changed_seed_replaces_its_old_facts_and_their_line_numbers(tmp_path):
    ws, doc, seed = tmp_path / "ws", tmp_path / "d.txt", tmp_path / "seed"
    write_seed(seed, [{"id": "a", "name": "Aspirin", "type": "Drug"}, {"id": "b", "name": "Headache", "type": "Disease"},
                      {"id": "c", "name": "Fever", "type": "Disease"}],
               "head\trelation\ttail\na\tTREATS\tb\na\tTREATS\tc\n")
    doc.write_text("Nothing to see.", encoding="utf-8")
    first = kgnlp_json("ingest", str(doc), "--seed", str(seed), "-w", str(ws))
    assert first["seed"] == {"source": "seed:seed", "entities": 3, "facts": 2, "removed": 0, "entities_removed": [],
                             "aliases_removed": {}}
    (seed / "triples.tsv").write_text("head\trelation\ttail\na\tTREATS\tc\n", encoding="utf-8")  # b's line deleted
    again = kgnlp_json("ingest", str(doc), "--seed", str(seed), "-w", str(ws))
    assert again["seed"]["removed"] == 1
    facts = kgnlp_json("query", "entity", "Aspirin", "-w", str(ws))["facts"]
    assert [(f["tail"], [(s["doc"], s["start"]) for s in f["sources"]]) for f in facts] == [("Fever", [("seed:seed", 2)])]
    proc = kgnlp("ingest", str(doc), "--seed", str(seed), "-w", str(ws))
    assert proc.returncode == 0 and "removed" not in proc.stderr
    # a corrected entity (its type, its name) is taken on re-ingest; the old name still finds it
    write_seed(seed, [{"id": "a", "name": "Aspirin", "type": "Drug"}, {"id": "b", "name": "Headache", "type": "Symptom"},
                      {"id": "c", "name": "Pyrexia", "type": "Symptom"}], "head\trelation\ttail\na\tTREATS\tc\n")
    kgnlp("ingest", str(doc), "--seed", str(seed), "-w", str(ws), check=True)
    got = kgnlp_json("query", "entity", "Fever", "-w", str(ws))["entity"]
    assert (got["id"], got["name"], got["type"]) == ("c", "Pyrexia", "Symptom") and "Fever" in got["aliases"]
    assert kgnlp_json("query", "entity", "Headache", "-w", str(ws))["entity"]["type"] == "Symptom"


def test_documents_whose_files_are_gone_are_named_and_pruned_to_the_from_scratch_graph(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Metformin treats type 2 diabetes.", encoding="utf-8")
    (folder / "b.txt").write_text("Warfarin can cause bleeding.", encoding="utf-8")
    (folder / "c.txt").write_text("Aspirin treats headache.", encoding="utf-8")
    (folder / "more.jsonl").write_text(json.dumps({"id": "j1", "text": "Lisinopril treats hypertension."}) + "\n"
                                       + json.dumps({"id": "j2", "text": "Statins can cause myopathy."}) + "\n")
    other = tmp_path / "other.txt"  # stored from elsewhere: never named
    other.write_text("Ibuprofen treats fever.", encoding="utf-8")
    ws, scratch = tmp_path / "ws", tmp_path / "scratch"
    kgnlp("ingest", str(folder), str(other), "--seed", str(DATA / "seed"), "-w", str(ws), check=True)
    (folder / "b.txt").unlink()
    (folder / "c.txt").rename(folder / "c2.txt")
    (folder / "more.jsonl").write_text(json.dumps({"id": "j1", "text": "Lisinopril treats hypertension."}) + "\n")
    kept = kgnlp("ingest", str(folder), "-w", str(ws))
    assert kept.returncode == 0 and "Kept 3 stored document(s)" in kept.stderr and "b, c, j2" in kept.stderr
    assert kgnlp_json("documents", "-w", str(ws))["documents"] == ["a", "b", "c", "c2", "j1", "j2", "other"]
    pruned = kgnlp_json("ingest", str(folder), "--prune", "-w", str(ws))
    assert (pruned["gone"], pruned["pruned"]) == (["b", "c", "j2"], True)
    assert kgnlp_json("documents", "-w", str(ws))["documents"] == ["a", "c2", "j1", "other"]
    kgnlp("ingest", str(folder), str(other), "--seed", str(DATA / "seed"), "-w", str(scratch), check=True)
    export = [sorted(kgnlp("export", "-f", "ntriples", "-w", str(w), check=True).stdout.splitlines()) for w in (ws, scratch)]
    assert export[0] == export[1]


def test_changed_document_replaces_its_old_facts(tmp_path):
    ws, doc = tmp_path / "ws", tmp_path / "deal.txt"
    seed = _org_seed(tmp_path / "seed", "Acme Robotics", "Beta Sensors")
    doc.write_text("Acme Robotics acquired Beta Sensors in March.", encoding="utf-8")
    kgnlp("ingest", str(doc), "--seed", str(seed), "-w", str(ws), "--json", check=True)
    assert "ACQUIRED" in kgnlp("export", "--format", "tsv", "-w", str(ws), check=True).stdout
    doc.write_text("Acme Robotics partnered with Beta Sensors in March.", encoding="utf-8")
    kgnlp("ingest", str(doc), "-w", str(ws), "--json", check=True)
    tsv = kgnlp("export", "--format", "tsv", "-w", str(ws), check=True).stdout
    assert "PARTNERED_WITH" in tsv and "ACQUIRED" not in tsv


@pytest.mark.parametrize("store", ["embedded", "rdf"])
def test_an_edited_document_keeps_the_entities_it_alone_brought(tmp_path, store):
    """Storing the new text first removed the entities only the old text brought; the new mentions linked to them
    and pointed at nothing ('Greece' was gone from the graph)."""
    ws, doc = tmp_path / "ws", tmp_path / "a.txt"
    doc.write_text("Northwind Therapeutics opened an office in Greece.", encoding="utf-8")
    kgnlp("ingest", str(doc), "--store", store, "-w", str(ws), check=True)
    first = kgnlp_json("query", "entity", "Greece", "--store", store, "-w", str(ws))["entity"]
    doc.write_text("Northwind Therapeutics opened a new office in Greece.", encoding="utf-8")
    kgnlp("ingest", str(doc), "--store", store, "-w", str(ws), check=True)
    assert kgnlp_json("query", "entity", "Greece", "--store", store, "-w", str(ws))["entity"] == first
    assert kgnlp_json("stats", "--store", store, "-w", str(ws))["entities"] == 2


def test_reextract_reads_stored_documents_again_and_gives_the_same_graph(tmp_path):
    ws, docs = tmp_path / "ws", DATA / "documents" / "financial"
    kgnlp("ingest", str(docs), "--seed", str(DATA / "seed"), "-w", str(ws), check=True)
    before = sorted(kgnlp("export", "-f", "ntriples", "-w", str(ws), check=True).stdout.splitlines())
    again = kgnlp_json("ingest", str(docs), "--reextract", "-w", str(ws))
    assert (again["documents"], again["skipped"], again["replaced"], again["relations"]) == (25, 0, [], 0)
    assert sorted(kgnlp("export", "-f", "ntriples", "-w", str(ws), check=True).stdout.splitlines()) == before
    proc = kgnlp("ingest", str(docs), "--profile", "fast", "-w", str(ws))  # a profile given, nothing re-read
    assert proc.returncode == 0 and "25 document(s) already stored" in proc.stderr and "--reextract" in proc.stderr


def test_ner_json_offsets_and_links(sample_ws):
    text = "Elena Marchetti said metformin is used to treat type 2 diabetes."
    got = kgnlp_json("ner", text, "-w", str(sample_ws))["entities"]
    for ent in got:
        assert set(ent) == {"text", "label", "start", "end", "entity_id"}
        assert text[ent["start"] : ent["end"]] == ent["text"]
    by_text = {e["text"]: e for e in got}
    assert by_text["metformin"]["label"] == "Chemical" and by_text["metformin"]["entity_id"]
    assert by_text["type 2 diabetes"]["label"] == "Disease"
    assert by_text["Elena Marchetti"]["label"] == "Person"


def test_ner_reads_stdin(sample_ws):
    got = kgnlp_json("ner", "-", "-w", str(sample_ws), stdin="Warfarin can cause bleeding.\n")["entities"]
    assert [e["text"] for e in got] == ["Warfarin", "bleeding"]


def test_ner_stdin_offsets_index_the_input_as_sent_with_crlf_and_a_bom(sample_ws):
    text = "Aspirin helps.\r\n\r\nWarfarin can cause bleeding.\r\n"
    got = kgnlp_json("ner", "-", "-w", str(sample_ws), stdin="\ufeff" + text)["entities"]
    assert "Warfarin" in [e["text"] for e in got] and "Aspirin" in [e["text"] for e in got]
    for ent in got:  # offsets into the text after its byte-order mark, with its CRLF line ends kept
        assert text[ent["start"] : ent["end"]] == ent["text"]


def test_ask_answers_with_evidence(sample_ws):
    got = kgnlp_json("ask", "What does metformin treat?", "-w", str(sample_ws))
    assert got["question"] == "What does metformin treat?"
    best = got["answers"][0]
    assert best["text"] == "type 2 diabetes" and 0 < best["score"] <= 1
    ev = best["evidence"][0]
    assert ev["triple"] == ["metformin", "TREATS", "type 2 diabetes"]
    assert ev["doc"] and "metformin" in ev["sentence"].lower()


def test_ask_two_hops_and_inverse_phrasing(sample_ws):
    two = kgnlp_json("ask", "Who is the CEO of the company that acquired Bramble Biologics?", "-w", str(sample_ws))
    assert two["answers"][0]["text"] == "Elena Marchetti"
    assert len(two["answers"][0]["evidence"]) >= 2
    inverse = kgnlp_json("ask", "Who leads Northwind Therapeutics?", "-w", str(sample_ws))
    assert inverse["answers"][0]["text"] == "Elena Marchetti"


def test_ask_json_names_the_narrower_entity_an_answer_came_from(sample_ws):
    got = kgnlp_json("ask", "What treats diabetes?", "-w", str(sample_ws))["answers"]
    via = [a["via"] for a in got]
    assert via and all(v is not None and v["name"] == "type 2 diabetes" and v["id"] for v in via), got
    assert all(a["via_all"] == [a["via"]] for a in got)  # one narrower entity: via_all lists it alone
    direct = kgnlp_json("ask", "What does metformin treat?", "-w", str(sample_ws))["answers"]
    assert [(a["via"], a["via_all"]) for a in direct][:1] == [(None, [])]


def test_ask_reads_stdin_and_says_no_answer(sample_ws):
    got = kgnlp_json("ask", "-", "-w", str(sample_ws), stdin="Who acquired metformin?")
    assert got["answers"] == []
    human = kgnlp("ask", "Who acquired metformin?", "-w", str(sample_ws), check=True)
    assert "No answer found" in human.stdout


def test_ask_a_compound_question_prints_each_part_under_its_question(sample_ws):
    got = kgnlp_json("ask", "Who makes metformin and where are they based?", "-w", str(sample_ws))
    assert [(p["question"], [a["text"] for a in p["answers"]]) for p in got["parts"]] == [
        ("Who makes metformin?", ["Northwind Therapeutics"]), ("Where is Northwind Therapeutics based?", ["Boston"])]
    assert [a["text"] for a in got["answers"]] == ["Northwind Therapeutics", "Boston"]
    assert "parts" not in kgnlp_json("ask", "Who makes metformin?", "-w", str(sample_ws))  # one question: as before
    human = kgnlp("ask", "What does warfarin treat and what are its side effects?", "-w", str(sample_ws), check=True)
    lines = [line.strip() for line in human.stdout.splitlines() if line.startswith(("Q: ", "  1. "))]
    assert lines[0] == "Q: What does warfarin treat?" and lines[1].startswith("1. deep vein thrombosis")
    assert lines[2] == "Q: What are warfarin's side effects?" and lines[3].startswith("1. bleeding")


def test_query_entity_neighbours_path(sample_ws):
    ent = kgnlp_json("query", "entity", "Glucophage", "-w", str(sample_ws))
    assert ent["entity"]["name"] == "metformin"
    assert any(f["relation"] == "TREATS" and f["sources"] for f in ent["facts"])
    one = kgnlp_json("query", "neighbours", "Northwind Therapeutics", "-w", str(sample_ws))
    two = kgnlp_json("query", "neighbours", "Northwind Therapeutics", "--hops", "2", "-w", str(sample_ws))
    assert len(two["facts"]) > len(one["facts"]) > 0
    path = kgnlp_json("query", "path", "Elena Marchetti", "Bramble Biologics", "-w", str(sample_ws))
    assert [f["relation"] for f in path["facts"]] == ["CEO_OF", "ACQUIRED"]
    same = kgnlp("query", "path", "Glucophage", "metformin", "-w", str(sample_ws), check=True).stdout
    assert "name the same entity" in same  # not "No path between metformin and metformin"


def test_query_neighbours_relation_as_typed(sample_ws):
    """--relation takes the name as people type it ("treats", "headquartered in"); one the graph lacks is an error
    listing those it has (it printed "No facts.", as if the entity had none)."""
    upper = kgnlp_json("query", "neighbours", "metformin", "--relation", "TREATS", "-w", str(sample_ws))
    lower = kgnlp_json("query", "neighbours", "metformin", "--relation", "treats", "-w", str(sample_ws))
    assert upper == lower and upper["facts"] and {f["relation"] for f in upper["facts"]} == {"TREATS"}
    spaced = kgnlp_json("query", "neighbours", "Northwind Therapeutics", "--relation", "headquartered in",
                        "-w", str(sample_ws))
    assert {f["relation"] for f in spaced["facts"]} == {"HEADQUARTERED_IN"}
    proc = kgnlp("query", "neighbours", "metformin", "--relation", "CURES", "-w", str(sample_ws))
    assert proc.returncode == 1 and "CURES" in proc.stderr and "TREATS" in proc.stderr
    proc = kgnlp("query", "neighbours", "metformin", "--relation", " - ", "-w", str(sample_ws))
    assert proc.returncode == 1 and "names no relation" in proc.stderr, proc.stderr


def test_query_uses_env_workspace(sample_ws):
    got = kgnlp_json("query", "entity", "warfarin", env={"KGNLP_WORKSPACE": str(sample_ws)})
    assert got["entity"]["type"] == "Chemical"


def test_export_tsv_by_entity_name(sample_ws):
    lines = kgnlp("export", "--format", "tsv", "-w", str(sample_ws), check=True).stdout.splitlines()
    rows = [line.split("\t") for line in lines if line]
    assert ["metformin", "TREATS", "type 2 diabetes"] in rows
    assert all(len(r) == 3 and r[1].isupper() for r in rows)


@pytest.mark.parametrize("fmt,marker", [("turtle", "@prefix"), ("graphml", "<graphml")])
def test_export_other_formats(sample_ws, fmt, marker):
    assert marker in kgnlp("export", "--format", fmt, "-w", str(sample_ws), check=True).stdout


def test_demo_json_keys_and_answer_rows(tmp_path):
    """`kgnlp demo --json`: one object with the summary, the NER and each sample question's answers in the rows
    `ask --json` gives (``via`` included), and the HTML view written."""
    html = tmp_path / "g.html"
    got = kgnlp_json("demo", "--data", str(DATA), "-w", str(tmp_path / "ws"), "--out", str(html))
    assert set(got) == {"workspace", "documents", "entities", "relations", "ingested", "ingest_seconds", "ner",
                        "answers", "html", "seconds"}
    assert got["documents"] == got["ingested"] == 47 and got["html"] == str(html) and html.stat().st_size > 0
    assert got["ner"] and all(set(m) == {"text", "label", "start", "end", "entity_id"} for m in got["ner"])
    assert [set(q) for q in got["answers"]] == [{"question", "answers"}] * 6
    rows = [a for q in got["answers"] for a in q["answers"]]
    assert rows and all(set(a) == {"text", "score", "via", "via_all", "evidence"} for a in rows)
    assert all(set(e) == {"doc", "sentence", "triple"} for a in rows for e in a["evidence"])
    first = got["answers"][0]
    assert (first["question"], first["answers"][0]["text"], first["answers"][0]["via"]) == (
        "What does metformin treat?", "type 2 diabetes", None)


COMMANDS = [["ingest"], ["ner"], ["ask"], ["query", "entity"], ["query", "neighbours"], ["query", "path"],
            ["export"], ["demo"], ["remove"], ["eval", "qa"]]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_has_help_with_example_workspace_and_json(cmd):
    out = kgnlp(*cmd, "--help", check=True).stdout
    assert "Example" in out and "--workspace" in out and "--json" in out


def test_remove_drops_facts_only_that_document_supported(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(DATA / "documents" / "financial", tmp_path / "docs")
    kgnlp("ingest", str(tmp_path / "docs"), "-w", str(ws), "--json", check=True)
    before = set(kgnlp("export", "--format", "tsv", "-w", str(ws), check=True).stdout.splitlines())
    removed = kgnlp_json("remove", "fin19_greywater_lumenfield", "-w", str(ws))
    after = set(kgnlp("export", "--format", "tsv", "-w", str(ws), check=True).stdout.splitlines())
    assert removed["relations_removed"] == len(before - after) > 0
    assert "fin19_greywater_lumenfield" not in kgnlp_json("documents", "-w", str(ws))["documents"]
    # a fact also stated elsewhere stays
    assert any("Lumenfield" in line and "ACQUIRED" in line for line in after)


def test_user_relation_type_from_config(tmp_path):
    ws, cfg, doc = tmp_path / "ws", tmp_path / "kgnlp.toml", tmp_path / "lic.txt"
    cfg.write_text('[[relations]]\nname = "LICENSED_TO"\nhead = ["Organization"]\ntail = ["Organization"]\n'
                   'verb = "licensed to"\npatterns = ["\\\\blicensed (?:its \\\\w+ )?to"]\n', encoding="utf-8")
    doc.write_text("Acme Robotics licensed its patents to Globex Corporation last year.", encoding="utf-8")
    seed = _org_seed(tmp_path / "seed", "Acme Robotics", "Globex Corporation")
    kgnlp("ingest", str(doc), "--seed", str(seed), "-w", str(ws), "--config", str(cfg), "--json", check=True)
    tsv = kgnlp("export", "--format", "tsv", "-w", str(ws), check=True).stdout
    assert "Acme Robotics\tLICENSED_TO\tGlobex" in tsv, tsv


def test_eval_qa_json_says_its_kind_and_question_count_as_with_a_model(sample_ws):
    """`eval qa` without --model writes "kind" and "n" as it does for a QA model (it wrote "questions", no kind)."""
    got = kgnlp_json("eval", "qa", "--data", str(DATA / "labelled" / "qa.jsonl"), "-w", str(sample_ws))
    questions = sum(1 for line in (DATA / "labelled" / "qa.jsonl").read_text(encoding="utf-8").splitlines() if line)
    assert set(got) == {"kind", "n", "answered", "exact_match", "hits"}, got
    assert got["kind"] == "graph" and got["n"] == questions > 0 and 0 < got["answered"] <= questions
    assert set(got["hits"]) == {"1", "3", "10"} and 0 <= got["exact_match"] <= got["hits"]["10"] <= 1
