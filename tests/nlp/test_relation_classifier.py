"""The trained relation classifier: document-level pairs (cross-sentence too), saved and reloaded."""
from __future__ import annotations

from pathlib import Path

from kg.records import Mention
from nlp.formats import read_pubtator
from nlp.interfaces import RelationLayer, Sentence
from nlp.relation_classifier import RelationClassifier, pair_examples, train_relation_classifier

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"


def _doc_inputs(d):
    text = d.doc.text
    sents, start = [], 0
    for i, ch in enumerate(text):
        if ch == "." and (i + 1 == len(text) or text[i + 1] == " "):
            sents.append(Sentence(start, i + 1, text[start:i + 1]))
            start = i + 2
    mentions = [Mention(m.start, m.end, m.text, m.label, "mesh:" + m.ids[0]) for m in d.mentions]
    types = {x.entity_id: x.label for x in mentions}
    return text, sents, mentions, types


def test_pairs_span_sentences_and_training_learns_the_gold_pairs(tmp_path):
    docs = read_pubtator(FIX / "tiny.PubTator.txt")
    examples, gold = [], set()
    for d in docs:
        text, sents, mentions, types = _doc_inputs(d)
        examples += pair_examples(d.doc.id, text, sents, mentions, types, "Chemical", "Disease", "test")
        gold |= {(d.doc.id, "mesh:" + r.head, "mesh:" + r.tail) for r in d.relations}
    assert len(examples) == 4  # lithium x {tremor, hypothyroidism}; aspirin x {bleeding, AF}
    clf = train_relation_classifier(examples, gold, epochs=30, lr=0.1)
    clf.save(tmp_path / "rel")
    loaded = RelationClassifier.load(tmp_path / "rel")
    assert isinstance(loaded, RelationLayer)
    found = set()
    for d in docs:
        text, sents, mentions, types = _doc_inputs(d)
        for t in loaded.extract(d.doc.id, text, sents, mentions, types):
            assert t.relation == "CAUSES" and 0 <= t.confidence <= 1
            p = t.provenance[0]
            assert p.doc_id == d.doc.id and p.extractor == "relation-classifier" and p.sentence in text
            found.add((d.doc.id, t.head_id, t.tail_id))
    assert found == gold
    assert clf.score(examples) == loaded.score(examples)
