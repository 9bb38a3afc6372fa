"""Facts retrieved from a FAISS fact index (``FusionConfig.retrieved``): for the first text only, hung off [CLS]
or the mention they name, saved with the model, and asked of the workspace's index by the CLI."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fusion.config import FusionConfig
from fusion.errors import FusionError
from fusion.examples import InputBuilder, Knowledge
from fusion.inputs import tokenise
from nlp.retrieval import Hit


class FakeRetriever:
    """``search`` answers with fixed facts (``within``: those read in it, as ``Retriever`` does) and records
    what it was asked."""

    def __init__(self, hits):
        self.hits, self.asked = hits, []

    def search(self, text, k=10, kind="facts", entity_ids=None, within=None):
        self.asked.append((text, k, kind) + ((within,) if within is not None else ()))
        return [h for h in self.hits if within is None or any(p.sentence in within for p in h.provenance)][:k]


def _hit(text, entity_ids=(), triple=None, read_in=""):
    from kg.records import Provenance

    prov = (Provenance("d1", 0, len(read_in), read_in, "test"),) if read_in else ()
    return Hit(text, 1.0, "facts", 1.0, 0.0, 0, tuple(entity_ids), (), prov, triple)


def _builder(tiny_encoder, tiny_store, retriever, retrieved=1, fusion="facts", retrieve_from="graph"):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_encoder))
    cfg = FusionConfig(head="sequence", labels=("no", "yes"), fusion=fusion, kg_dim=8, retrieved=retrieved,
                       fact_share=0.0, retrieve_from=retrieve_from)
    return InputBuilder(tok, cfg, Knowledge(store=tiny_store, retriever=retriever))


def test_config_checks_retrieved():
    with pytest.raises(FusionError, match="retrieve_from"):
        FusionConfig(labels=("a",), fusion="facts", retrieve_from="web").checked()
    with pytest.raises(FusionError, match="0 or more"):
        FusionConfig(labels=("a",), fusion="facts", retrieved=-1).checked()
    for fusion in ("none", "embeddings"):
        with pytest.raises(FusionError, match="facts path"):
            FusionConfig(labels=("a",), fusion=fusion, kg_dim=8, retrieved=2).checked()
    old = FusionConfig(labels=("a",), fusion="facts").as_dict()
    old.pop("retrieved")  # a model saved before the field existed reads no retrieved facts
    assert FusionConfig.from_dict(old).retrieved == 0
    assert FusionConfig.from_dict(FusionConfig(labels=("a",), fusion="both", kg_dim=8, retrieved=2).as_dict()).retrieved == 2


def test_retrieved_facts_are_for_the_question_only_and_hang_off_cls(tiny_encoder, tiny_store):
    retriever = FakeRetriever([_hit("yes news is good"), _hit("profit rose")])
    b = _builder(tiny_encoder, tiny_store, retriever, retrieved=1)
    item = b.sequence("does the drug treat headache ?", 1, pair="the patient took the drug and had headache .")
    assert retriever.asked == [("does the drug treat headache ?", 1, "facts")]  # never the passage, k from config
    facts = [f for f in set(item.fact_of) if f >= 0]
    assert len(facts) == 1 and item.anchors[0] == (0,)  # one fact, anchored to [CLS]
    fact_ids = [i for i, f in zip(item.input_ids, item.fact_of) if f == 0]
    assert tuple(fact_ids) == tokenise(b.tokenizer, "yes news is good")[0]  # the first hit, k = 1
    # without retrieval the same input has no fact at all (this graph has no facts for these words)
    plain = _builder(tiny_encoder, tiny_store, retriever, retrieved=0).sequence(
        "does the drug treat headache ?", 1, pair="the patient took the drug and had headache .")
    assert all(f == -1 for f in plain.fact_of)


def test_passage_scope_keeps_only_facts_read_in_the_passage(tiny_encoder, tiny_store):
    hits = [_hit("yes news is good", read_in="profit rose ."), _hit("no news is bad", read_in="shares fell ."),
            _hit("profit fell", read_in="the patient had headache .")]
    retriever = FakeRetriever(hits)
    b = _builder(tiny_encoder, tiny_store, retriever, retrieved=1, retrieve_from="passage")
    item = b.sequence("does the drug treat headache ?", 1, pair="the patient took the drug . shares fell .")
    assert retriever.asked == [("does the drug treat headache ?", 1, "facts",  # the retriever keeps the passage's
                                "the patient took the drug . shares fell .")]
    fact_ids = tuple(i for i, f in zip(item.input_ids, item.fact_of) if f == 0)
    assert fact_ids == tokenise(b.tokenizer, "no news is bad")[0] and max(item.fact_of) == 0
    # the whole graph's best hit when the scope is the graph
    item = _builder(tiny_encoder, tiny_store, FakeRetriever(hits), retrieved=1).sequence(
        "does the drug treat headache ?", 1, pair="the patient took the drug . shares fell .")
    assert tuple(i for i, f in zip(item.input_ids, item.fact_of) if f == 0) == tokenise(b.tokenizer, "yes news is good")[0]
    # nothing read in the passage: no retrieved fact
    item = _builder(tiny_encoder, tiny_store, FakeRetriever(hits), retrieved=1, retrieve_from="passage").sequence(
        "does the drug treat headache ?", 1, pair="the patient took the drug .")
    assert all(f == -1 for f in item.fact_of)


class PrefetchingRetriever(FakeRetriever):
    def __init__(self, hits):
        super().__init__(hits)
        self.prefetched = []

    def prefetch(self, texts, within=None, k=0):
        self.prefetched.append((list(texts), within, k))


@pytest.mark.parametrize("scope", ["graph", "passage", "sentence"])
def test_prefetch_tells_the_retriever_each_query_and_the_text_its_facts_are_read_in(tiny_encoder, tiny_store, scope):
    retriever = PrefetchingRetriever([])
    b = _builder(tiny_encoder, tiny_store, retriever, retrieved=2, retrieve_from=scope)
    b.prefetch(["q1", "q2"], ["passage one", None])
    scopes = None if scope == "graph" else ["passage one", "q2"]  # a text without a pair is its own passage
    assert retriever.prefetched == [(["q1", "q2"], scopes, 2 if scopes else 0)]
    none = _builder(tiny_encoder, tiny_store, retriever, retrieved=0, retrieve_from=scope)
    none.prefetch(["q3"])
    assert len(retriever.prefetched) == 1  # a model that retrieves nothing embeds no query


def test_a_retrieved_fact_naming_a_mention_is_anchored_to_it(tiny_encoder, tiny_store):
    retriever = FakeRetriever([_hit("insulin lowers glucose", ("C3",), ("C3", "LOWERS", "X"))])
    b = _builder(tiny_encoder, tiny_store, retriever, retrieved=1)
    item = b.sequence("does insulin help ?", 1)
    facts = {tuple(i for i, f in zip(item.input_ids, item.fact_of) if f == k): item.anchors[k]
             for k in range(len(item.anchors))}
    anchor = facts[tokenise(b.tokenizer, "insulin lowers glucose")[0]]
    assert anchor != (0,) and tuple(item.input_ids[t] for t in anchor) == tokenise(b.tokenizer, "insulin")[0]


def test_a_model_that_retrieves_needs_a_retriever(tiny_encoder, tiny_store):
    b = _builder(tiny_encoder, tiny_store, None, retrieved=2)
    with pytest.raises(FusionError, match="kgnlp index"):
        b.sequence("does metformin treat diabetes ?", 1)


def test_classifier_reads_retrieved_facts_after_save_and_load(tmp_path, tiny_encoder, tiny_store):
    from fusion.data import TextExample
    from fusion.predict import Classifier
    from fusion.tasks import train_classifier
    from fusion.train import TrainSettings

    retriever = FakeRetriever([_hit("yes news is good")])
    examples = [TextExample("profit rose", ("yes",)), TextExample("shares fell", ("no",))] * 3
    cfg = FusionConfig(head="sequence", labels=("_",), fusion="facts", retrieved=1)
    train_classifier(examples, tmp_path / "m", cfg, encoder=str(tiny_encoder),
                     knowledge=Knowledge(store=tiny_store, retriever=retriever),
                     settings=TrainSettings(epochs=1, batch_size=4, seed=1))
    assert json.loads((tmp_path / "m" / "config.json").read_text())["fusion"]["retrieved"] == 1
    pred = Classifier.load(tmp_path / "m", tiny_store, FakeRetriever([_hit("no news is bad")])).classify(["aspirin"])[0]
    assert "no news is bad" in pred.facts
    with pytest.raises(FusionError, match="kgnlp index"):
        Classifier.load(tmp_path / "m", tiny_store).classify(["aspirin"])


def test_cli_refuses_retrieved_without_facts_before_reading_data(tmp_path):
    from tests.fusion.test_fusion_cli import _app

    for cmd in ("classify", "qa"):
        res = CliRunner().invoke(_app(), ["train", cmd, "--data", str(tmp_path / "missing.jsonl"), "--out",
                                          str(tmp_path / "m"), "--fusion", "embeddings", "--retrieved", "2"])
        assert res.exit_code == 2 and "facts path" in res.output, res.output


def test_cli_trains_and_classifies_with_the_workspace_index(tmp_path, tiny_encoder):
    """`train classify --retrieved 1` builds the workspace's FAISS indexes and saves the setting; `classify`
    reads facts from the same index (real MiniLM embedder)."""
    from tests.conftest import DATA, kgnlp
    from tests.fusion.test_fusion_cli import _app

    ws = tmp_path / "ws"
    doc = tmp_path / "n.txt"
    doc.write_text("Metformin treats type 2 diabetes.\n")
    kgnlp("ingest", str(doc), "--seed", str(DATA / "seed"), "-w", str(ws), "--json", check=True)
    data = tmp_path / "d.jsonl"
    rows = [{"text": "metformin is good", "label": "positive"}, {"text": "aspirin causes bleeding", "label": "negative"}]
    data.write_text("\n".join(json.dumps(r) for r in rows * 4))
    app = _app()
    res = CliRunner().invoke(app, ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                   "--encoder", str(tiny_encoder), "--epochs", "1", "--fusion", "facts",
                                   "--retrieved", "1", "-w", str(ws), "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    assert (ws / "index" / "facts").is_dir()
    assert not (ws / "index" / "chunks").exists()  # only the index the model reads: no document chunks embedded
    assert json.loads((tmp_path / "m" / "config.json").read_text())["fusion"]["retrieved"] == 1
    res = CliRunner().invoke(app, ["classify", "which pill helps with blood sugar", "--model", str(tmp_path / "m"),
                                   "-w", str(ws), "--json"])
    assert res.exit_code == 0, res.output
    facts = json.loads(res.stdout.strip().splitlines()[-1])["facts"]
    assert len(facts) == 1, facts  # the question links nothing: the one fact is the retrieved one
    assert sorted(p.name for p in (ws / "index").iterdir()) == ["facts"], list((ws / "index").iterdir())
    # a workspace without the fact index: the reading commands say to build it and write nothing there
    import shutil

    from cli.main import app as main_app

    bare = tmp_path / "bare"
    shutil.copytree(ws, bare, ignore=shutil.ignore_patterns("index"))
    test = tmp_path / "t.jsonl"
    test.write_text(json.dumps(rows[0]) + "\n")
    shutil.copytree(tmp_path / "m", tmp_path / "yes-no")  # the same model as a yes/no reader, for `ask --model`
    config = json.loads((tmp_path / "yes-no" / "config.json").read_text())
    config["fusion"]["labels"] = ["no", "yes"]
    (tmp_path / "yes-no" / "config.json").write_text(json.dumps(config))
    for runner_app, args, model in ((app, ["classify", "metformin is good"], "m"),
                                    (main_app, ["eval", "classify", "--data", str(test)], "m"),
                                    (main_app, ["ask", "Does aspirin cause headache?"], "yes-no")):
        res = CliRunner().invoke(runner_app, [*args, "--model", str(tmp_path / model), "-w", str(bare)])
        assert res.exit_code == 1 and f"kgnlp index -w {bare}" in str(res.exception), (args, res.output, res.exception)
        assert not (bare / "index").exists()


def _finding_store(tmp_path, sentence):
    from kg.records import Entity, Triple
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "findings.db")
    store.add([Triple("E0", "SUPPORTS", "F1")], [Entity("E0", "no effect", "Evidence"),
                                                    Entity("F1", sentence, "Finding")])
    return store


def test_sentence_scope_puts_each_fact_after_the_sentence_it_was_read_in(tmp_path, tiny_encoder):
    """`retrieve_from="sentence"`: the fact most like the question, among those read in the passage, follows its
    sentence in the passage (only that sentence's tokens see it), as a branch without the finding the sentence
    names; the question gets no retrieved fact."""
    read = "shares of the firm fell sharply in the third quarter ."  # longer than a linked name
    store = _finding_store(tmp_path, read)
    hits = [_hit("no effect supports " + read, triple=("E0", "SUPPORTS", "F1"), read_in=read),
            _hit("profit rose a lot", read_in="profit rose a lot .")]
    retriever = FakeRetriever(hits)
    b = _builder(tiny_encoder, store, retriever, retrieved=2, retrieve_from="sentence")
    passage = "the patient took the drug . " + read + " the end ."
    item = b.sequence("does the drug treat headache ?", 1, pair=passage)
    assert retriever.asked == [("does the drug treat headache ?", 2, "facts", passage)]  # asked with the question
    facts = sorted({f for f in item.fact_of if f >= 0})
    assert facts == [0]  # the second hit was not read in this passage
    fact_ids = tuple(i for i, f in zip(item.input_ids, item.fact_of) if f == 0)
    assert fact_ids == tokenise(b.tokenizer, "no effect supports")[0]  # the branch: the finding is the sentence
    anchor = item.anchors[0]
    assert tuple(item.input_ids[t] for t in anchor) == tokenise(b.tokenizer, read)[0]  # the whole sentence
    first_fact = item.fact_of.index(0)
    assert first_fact == max(anchor) + 1  # right after the sentence
    assert item.position_ids[first_fact] == item.position_ids[max(anchor)] + 1  # soft positions go on from it
    ctx = b.input_knowledge("does the drug treat headache ?", passage)
    assert ctx[0].facts == () and [m.entity_id for m in ctx[1].mentions] == ["F1"]  # the mention links the finding
    # a single text gets the facts read in itself, after their sentence
    alone = b.sequence(read + " so what ?", 1)
    assert tuple(i for i, f in zip(alone.input_ids, alone.fact_of) if f == 0) == fact_ids
    store.close()


def test_sentence_scope_gives_the_sentence_the_findings_vector(tmp_path, tiny_encoder):
    """With the embeddings path the sentence's tokens carry the finding's KG vector (its row in the table)."""
    read = "shares of the firm fell sharply in the third quarter ."  # longer than a linked name
    store = _finding_store(tmp_path, read)
    retriever = FakeRetriever([_hit("no effect supports " + read, triple=("E0", "SUPPORTS", "F1"), read_in=read)])
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_encoder))
    cfg = FusionConfig(head="sequence", labels=("no", "yes"), fusion="both", kg_dim=8, retrieved=1,
                       fact_share=0.0, retrieve_from="sentence")
    b = InputBuilder(tok, cfg, Knowledge(store=store, retriever=retriever), {"F1": 7})
    item = b.sequence("is there an effect ?", 1, pair="we looked . " + read)
    rows = [r for r, f in zip(item.entity_rows, item.fact_of) if f == -1]
    assert rows.count(7) == len(tokenise(tok, read)[0])  # the sentence's tokens, and only they
    store.close()


def test_sentence_scope_is_refused_for_a_token_head():
    with pytest.raises(FusionError, match="token head"):
        FusionConfig(head="token", labels=("O",), fusion="facts", retrieved=1, retrieve_from="sentence").checked()


def _trained_retrieving_classifier(tmp_path, tiny_encoder, ws, rows, retrieve_from):
    """`train classify --fusion facts --retrieved 1 --retrieve-from X` on ``rows`` (x4) into tmp_path/m, with the
    workspace ``ws``; returns ``facts(text)``: the facts `classify --json` read for a text."""
    from tests.fusion.test_fusion_cli import _app

    data = tmp_path / "d.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows * 4))
    app = _app()
    res = CliRunner().invoke(app, ["train", "classify", "--data", str(data), "--out", str(tmp_path / "m"),
                                   "--encoder", str(tiny_encoder), "--epochs", "1", "--fusion", "facts",
                                   "--retrieved", "1", "--retrieve-from", retrieve_from, "-w", str(ws), "--json",
                                   "--quiet"])
    assert res.exit_code == 0, res.output

    def facts(text):
        res = CliRunner().invoke(app, ["classify", text, "--model", str(tmp_path / "m"), "-w", str(ws), "--json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout.strip().splitlines()[-1])["facts"]

    return facts


def test_cli_trains_and_classifies_with_facts_after_the_sentence_they_were_read_in(tmp_path, tiny_encoder):
    """`--retrieve-from sentence` end to end: the setting is saved and `classify` reads it: a text that does not
    hold the indexed sentence gets no fact (with `graph` the same text gets the index's best fact, test above)."""
    from tests.conftest import DATA, kgnlp

    ws = tmp_path / "ws"
    doc = tmp_path / "n.txt"
    doc.write_text("Metformin treats type 2 diabetes.\n")
    kgnlp("ingest", str(doc), "--seed", str(DATA / "seed"), "-w", str(ws), "--json", check=True)
    rows = [{"text": "Metformin treats type 2 diabetes. Good.", "label": "positive"},
            {"text": "aspirin causes bleeding", "label": "negative"}]
    facts = _trained_retrieving_classifier(tmp_path, tiny_encoder, ws, rows, "sentence")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["fusion"]["retrieve_from"] == "sentence"
    assert facts("which pill helps with blood sugar") == []
    assert "metformin treats type 2 diabetes" in facts("We read that Metformin treats type 2 diabetes. So?")


def test_cli_model_reads_the_findings_of_its_own_passage(tmp_path, tiny_encoder):
    """`kgnlp findings` then `--retrieve-from passage`: a text that holds a sentence read as a finding gets
    that finding ("no evidence of an effect is reported in ..."); a text that holds none gets no fact."""
    from tests.conftest import DATA, kgnlp

    ws = tmp_path / "ws"
    doc = tmp_path / "a1.txt"
    said = "Mortality did not differ significantly between the groups."
    doc.write_text(f"Metformin was given to 120 patients. {said}\n")
    kgnlp("findings", str(doc), "--cues", str(DATA / "findings"), "-w", str(ws), "--json", check=True)
    rows = [{"text": f"Metformin was given. {said}", "label": "no"}, {"text": "Admissions fell.", "label": "yes"}]
    facts = _trained_retrieving_classifier(tmp_path, tiny_encoder, ws, rows, "passage")
    assert facts("Admissions fell in the metformin group.") == []
    got = facts(f"In a trial of metformin: {said}")
    assert len(got) == 1 and got[0].startswith("no evidence of an effect"), got


def test_cli_refuses_a_retrieval_scope_without_retrieved_facts(tmp_path):
    """`--retrieve-from passage|sentence` without `--retrieved N` would be saved and read nothing: refused."""
    from tests.fusion.test_fusion_cli import _app

    for cmd in ("classify", "qa"):
        for fusion in ("none", "facts"):
            res = CliRunner().invoke(_app(), ["train", cmd, "--data", str(tmp_path / "missing.jsonl"), "--out",
                                              str(tmp_path / "m"), "--fusion", fusion, "--retrieve-from", "passage"])
            assert res.exit_code == 2 and "--retrieved" in res.output and "none are read" in res.output, res.output
    assert not (tmp_path / "m").exists()
