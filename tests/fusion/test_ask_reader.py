"""`kgnlp ask --model QA_DIR`: yes/no questions read from the best-ranked passage, with the passage as evidence."""
from __future__ import annotations

import json

from fusion.reader import Passage, rank_passages
from tests.conftest import kgnlp, kgnlp_json


def test_rank_passages_by_shared_words():
    ps = [Passage("a", "aspirin causes bleeding."), Passage("b", "metformin treats diabetes in a patient.")]
    assert [p.doc_id for p in rank_passages("Does metformin treat diabetes?", ps, k=1)] == ["b"]
    assert rank_passages("zebra?", ps) == []


def test_rank_passages_reads_words_of_any_script():
    """Without a chunk index `ask --model` ranks documents by shared words: accented and non-Latin words count whole,
    not as ASCII fragments (or not at all)."""
    ps = [Passage("en", "metformin treats diabetes."), Passage("ru", "Метформин помогает при диабете."),
          Passage("de", "Die Müller-Studie fand nichts."), Passage("frag", "ller and m were there.")]
    assert [p.doc_id for p in rank_passages("Помогает ли метформин?", ps)] == ["ru"]
    assert [p.doc_id for p in rank_passages("Was fand die Müller-Studie?", ps, k=1)] == ["de"]
    assert "frag" not in [p.doc_id for p in rank_passages("Müller?", ps)]


def test_a_yes_no_reader_answers_from_the_top_ranked_passage():
    """The passages come best-ranked first; a yes/no/maybe model's answers keep that order, so a more confident
    label read in a lower-ranked passage does not win (PubMedQA: it answered worse, BENCHMARKS.md)."""
    from fusion.predict import Prediction
    from fusion.reader import Reader

    probs = {"own study": {"no": 0.55, "yes": 0.45}, "other study": {"no": 0.05, "yes": 0.95}}

    class Stub:
        def classify(self, texts, pairs):
            return [Prediction(t, max(probs[p], key=probs[p].get), max(probs[p].values()), probs[p])
                    for t, p in zip(texts, pairs)]

    reader = Reader.__new__(Reader)
    reader.head, reader._classifier = "sequence", Stub()
    ps = [Passage("own", "own study"), Passage("other", "other study")]
    got = reader.read("Does it work?", ps)
    assert [(a.text, a.passage.doc_id) for a in got] == [("no", "own"), ("yes", "other")]
    assert got[0].scores == {"no": 0.55, "yes": 0.45}


def test_ask_yes_no_with_a_trained_reader(tiny_encoder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "met.txt").write_text("metformin treats diabetes in a patient.", encoding="utf-8")
    (docs / "asp.txt").write_text("aspirin causes bleeding and headache.", encoding="utf-8")
    ws = tmp_path / "ws"
    kgnlp("ingest", str(docs), "-w", str(ws), "--json", check=True)
    rows = [{"question": "does metformin treat diabetes ?", "context": "metformin treats diabetes .", "answer": "yes"},
            {"question": "does aspirin treat diabetes ?", "context": "aspirin causes bleeding .", "answer": "no"}] * 3
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    kgnlp("train", "qa", "--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "1", "--max-steps", "1",
          "--out", str(tmp_path / "reader"), "-w", str(ws), "--json", check=True)
    got = kgnlp_json("ask", "Does metformin treat diabetes?", "--model", str(tmp_path / "reader"), "-w", str(ws))
    best = got["answers"][0]
    assert best["text"] in {"yes", "no"} and 0 < best["score"] <= 1
    assert best["evidence"][0]["doc"] == "met" and best["evidence"][0]["triple"] is None
    # without --model the graph cannot answer it: metformin is an entity (its drug stem), with no fact
    proc = kgnlp("ask", "Does metformin treat diabetes?", "-w", str(ws))
    assert proc.returncode == 0 and proc.stdout.strip() == "No answer found.", (proc.stdout, proc.stderr)
    # and a question about names the graph does not know is one clear line
    proc = kgnlp("ask", "Does insulin treat diabetes?", "-w", str(ws))
    assert proc.returncode == 1 and "No known entity" in proc.stderr


def _metformin_workspace_and_questions(tmp_path):
    """A workspace ingested from one sentence about metformin (with a seed naming metformin and type 2 diabetes:
    without one the sentence gives no entity, and a fused model is refused an empty graph), and six yes/no
    training questions (JSONL)."""
    docs, seed = tmp_path / "docs", tmp_path / "seed"
    docs.mkdir()
    seed.mkdir()
    (docs / "met.txt").write_text("Metformin treats type 2 diabetes.", encoding="utf-8")
    (seed / "entities.jsonl").write_text(
        json.dumps({"id": "chem:metformin", "name": "metformin", "type": "Chemical"}) + "\n"
        + json.dumps({"id": "dis:t2d", "name": "type 2 diabetes", "type": "Disease"}) + "\n", encoding="utf-8")
    ws = tmp_path / "ws"
    kgnlp("ingest", str(docs), "--seed", str(seed), "-w", str(ws), "--json", check=True)
    rows = [{"question": "does metformin treat diabetes ?", "context": "Metformin treats type 2 diabetes.",
             "answer": "yes"},
            {"question": "does aspirin treat diabetes ?", "context": "aspirin causes bleeding .", "answer": "no"}] * 3
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return ws, data


def test_ask_with_a_reader_that_reads_retrieved_facts(tiny_encoder, tmp_path):
    """A yes/no reader trained with `--retrieved 1 --retrieve-from passage` reads the workspace's FAISS facts at
    `ask` time; without the index the answer is one clear line, not a traceback."""
    import shutil

    ws, data = _metformin_workspace_and_questions(tmp_path)
    kgnlp("train", "qa", "--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "1", "--max-steps", "1",
          "--fusion", "facts", "--retrieved", "1", "--retrieve-from", "passage", "--out", str(tmp_path / "reader"),
          "-w", str(ws), "--json", check=True)
    config = json.loads((tmp_path / "reader" / "config.json").read_text())["fusion"]
    assert (config["retrieved"], config["retrieve_from"]) == (1, "passage") and (ws / "index" / "facts").is_dir()
    got = kgnlp_json("ask", "Does metformin treat diabetes?", "--model", str(tmp_path / "reader"), "-w", str(ws))
    assert got["answers"][0]["text"] in {"yes", "no"}
    # training built the one index the model reads, and `ask` built none (passages by shared words, no chunks)
    assert sorted(p.name for p in (ws / "index").iterdir()) == ["facts"], list((ws / "index").iterdir())
    shutil.rmtree(ws / "index")
    proc = kgnlp("ask", "Does metformin treat diabetes?", "--model", str(tmp_path / "reader"), "-w", str(ws))
    assert proc.returncode != 0 and "kgnlp index" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_ask_with_a_reader_leaves_a_stale_fact_index_as_it_was(tiny_encoder, tmp_path):
    """`ask --model` with a fact index out of step with the graph (a fact added by a program since the index was
    saved) brings it up to date in memory, says which command saves it, and writes nothing in the workspace."""
    from kg.records import Entity, Triple
    from kg.stores.sqlite import SQLiteStore
    from tests.conftest import file_tree

    ws, data = _metformin_workspace_and_questions(tmp_path)
    kgnlp("train", "qa", "--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "1", "--max-steps", "1",
          "--fusion", "facts", "--retrieved", "1", "--retrieve-from", "passage", "--out", str(tmp_path / "reader"),
          "-w", str(ws), "--json", check=True)
    store = SQLiteStore.open(ws / "graph.db")
    store.add([Triple("chem:metformin", "TREATS", "dis:obesity")], [Entity("dis:obesity", "obesity", "Disease")])
    store.close()
    before = file_tree(ws)
    proc = kgnlp("ask", "Does metformin treat diabetes?", "--model", str(tmp_path / "reader"), "-w", str(ws))
    assert proc.returncode == 0, proc.stderr
    assert file_tree(ws) == before
    assert f"kgnlp index -w {ws}" in proc.stderr


def test_ask_with_a_reader_opens_the_index_with_the_schema_in_force(tmp_path, monkeypatch):
    """An index out of step with the graph is brought up to date when `ask --model` opens it: with the relation
    verbs in force (kgnlp.toml), as `kgnlp index` does, not the built-in ones, which `retrieve` and fused models
    would then read from the workspace's index."""
    from typer.testing import CliRunner

    from cli.main import app
    from kg.workspace import Workspace
    from nlp.retrieval import Retriever

    Workspace.open(tmp_path / "ws", create=True).open_store().close()
    (tmp_path / "ws" / "index" / "chunks").mkdir(parents=True)  # a built index (its manifest), to be checked
    (tmp_path / "ws" / "index" / "chunks" / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "ws" / "kgnlp.toml").write_text('[[relations]]\nname = "LICENSED_TO"\nhead = ["*"]\n'
                                                'tail = ["*"]\nverb = "signed a licence deal with"\n',
                                                encoding="utf-8")
    (tmp_path / "reader").mkdir()
    (tmp_path / "reader" / "config.json").write_text(  # a yes/no/maybe reader, as far as `ask` reads before loading
        '{"kgnlp": "kgnlp-fused-model", "fusion": {"head": "sequence", "labels": ["no", "yes"], "fusion": "none"}}',
        encoding="utf-8")
    seen = {}

    def opened(ws, store, embedder=None, **kw):
        seen.update(kw)
        raise RuntimeError("opened")

    monkeypatch.setattr(Retriever, "open", staticmethod(opened))
    res = CliRunner().invoke(app, ["ask", "Does metformin treat diabetes?", "--model", str(tmp_path / "reader"),
                                   "-w", str(tmp_path / "ws")])
    assert str(res.exception) == "opened", res.output
    assert seen["schema"].verb("LICENSED_TO") == "signed a licence deal with"

def test_ask_with_a_fixed_encoder_reader_that_reads_the_graph_into_its_logits(tiny_encoder, tmp_path):
    """The PubMedQA setting that lifted the benchmark (`--fusion both --retrieved --retrieve-from passage
    --kg-readout --train-layers 0`), end to end: trained from the CLI, the encoder saved as loaded, the readout
    saved and used by `kgnlp ask --model`."""
    from safetensors.torch import load_file

    from kg.embeddings import embeddings_dir
    from kg.workspace import Workspace
    from tests.fusion.test_entity_vectors import _trained

    ws, data = _metformin_workspace_and_questions(tmp_path)
    store = Workspace.open(ws).open_store()
    ids = [e.id for e in store.entities()]
    store.close()
    _trained(ids).save(embeddings_dir(ws, "transe"))
    kgnlp("train", "qa", "--data", str(data), "--encoder", str(tiny_encoder), "--epochs", "2", "--fusion", "both",
          "--retrieved", "1", "--retrieve-from", "passage", "--kg-readout", "--train-layers", "0",
          "--out", str(tmp_path / "reader"), "-w", str(ws), "--json", check=True)
    config = json.loads((tmp_path / "reader" / "config.json").read_text())["fusion"]
    assert config["kg_readout"] and config["retrieved"] == 1
    saved = load_file(str(tmp_path / "reader" / "model.safetensors"))
    start = {k: v for k, v in load_file(str(tiny_encoder / "model.safetensors")).items() if "pooler" not in k}
    assert start and saved["kg_readout.weight"].abs().sum() > 0
    assert all(saved["encoder." + k.removeprefix("bert.")].equal(v) for k, v in start.items())
    got = kgnlp_json("ask", "Does metformin treat diabetes?", "--model", str(tmp_path / "reader"), "-w", str(ws))
    assert got["answers"][0]["text"] in {"yes", "no"}
    # training built the one index the model reads, and `ask` built none (passages by shared words, no chunks)
    assert sorted(p.name for p in (ws / "index").iterdir()) == ["facts"], list((ws / "index").iterdir())


def test_ask_with_a_reader_keeps_the_graphs_answer_when_there_is_no_passage_to_read(tiny_encoder, tmp_path):
    """A workspace of a seed alone holds facts and no document: the yes/no model reads nothing, and the graph's
    "yes" (what `ask` without --model says) is the answer, not "No answer found"."""
    from typer.testing import CliRunner

    from cli.main import app
    from tests.conftest import write_seed

    seed = write_seed(tmp_path / "seed", [{"id": "C1", "name": "metformin", "type": "Chemical"},
                                          {"id": "D1", "name": "diabetes", "type": "Disease"}], "C1\tTREATS\tD1\n")
    (tmp_path / "d.txt").write_text("metformin treats diabetes.", encoding="utf-8")
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(tmp_path / "d.txt"), "--seed", str(seed), "-w", str(ws), "--json"]
                         ).exit_code == 0
    rows = [{"question": "does metformin treat diabetes ?", "context": "metformin treats diabetes .", "answer": "yes"},
            {"question": "does aspirin treat diabetes ?", "context": "aspirin causes bleeding .", "answer": "no"}] * 3
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = runner.invoke(app, ["train", "qa", "--data", str(tmp_path / "qa.jsonl"), "--encoder", str(tiny_encoder),
                              "--epochs", "1", "--max-steps", "1", "--out", str(tmp_path / "reader"), "-w", str(ws),
                              "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["remove", "d", "-w", str(ws)]).exit_code == 0  # the seed's fact stays
    res = runner.invoke(app, ["ask", "Does metformin treat diabetes?", "--model", str(tmp_path / "reader"), "-w",
                              str(ws), "--json"])
    assert res.exit_code == 0, res.output
    answers = json.loads(res.stdout)["answers"]
    assert [a["text"] for a in answers] == ["yes"] and answers[0]["evidence"][0]["triple"], answers
