"""Corpus loaders on small fixtures we wrote: offsets index the text, labels map to the schema."""
from __future__ import annotations

from pathlib import Path

import pytest

from nlp.errors import NLPError
from nlp.formats import load_labelled, read_labelled_jsonl, write_labelled_jsonl
from nlp.formats.iob import decode_tags

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"


def _spans_match_text(docs):
    for d in docs:
        for m in d.mentions:
            assert d.doc.text[m.start:m.end] == m.text


def test_pubtator_reads_documents_mentions_mesh_ids_and_cid_relations():
    docs = load_labelled(FIX / "tiny.PubTator.txt", "pubtator")
    assert [d.doc.id for d in docs] == ["9000001", "9000002"]
    assert docs[0].doc.text.startswith("Lithium-induced tremor in two patients. Two patients")
    _spans_match_text(docs)
    first = docs[0].mentions[0]
    assert (first.text, first.label, first.ids) == ("Lithium", "Chemical", ("D008094",))
    assert docs[0].relations[0].relation == "CAUSES"
    assert (docs[0].relations[0].head, docs[0].relations[0].tail) == ("D008094", "D014202")


def test_pubtator_rejects_offsets_that_do_not_match(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1|t|Aspirin works.\n1|a|Yes.\n1\t0\t5\tAspirin\tChemical\tD1\n")
    with pytest.raises(NLPError, match="does not match"):
        load_labelled(bad, "pubtator")


def test_pubtator_names_a_mention_line_whose_offsets_are_not_numbers(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1|t|Aspirin works.\n1|a|Yes.\n1\tzero\t7\tAspirin\tChemical\tD1\n")
    with pytest.raises(NLPError, match="'zero' and '7'; they must be whole numbers"):
        load_labelled(bad, "pubtator")


def test_iob_sentences_become_documents_with_exact_spans():
    docs = load_labelled(FIX / "tiny.iob.tsv", "iob")
    assert len(docs) == 2
    _spans_match_text(docs)
    assert [(m.text, m.label) for m in docs[0].mentions] == [("atrial fibrillation", "Disease"),
                                                            ("warfarin", "Chemical")]
    assert [(m.text, m.label) for m in docs[1].mentions] == [("Cisplatin", "Chemical"), ("nephrotoxicity", "Disease")]


def test_finer_csv_groups_sentences_and_maps_labels_to_schema_types():
    docs = load_labelled(FIX / "tiny_finer.csv", "finer-csv")
    assert [d.doc.id for d in docs] == ["tiny_finer-0-0", "tiny_finer-0-1", "tiny_finer-1-0"]
    _spans_match_text(docs)
    assert [(m.text, m.label) for m in docs[0].mentions] == [("Acme Corp", "Organization"), ("Boston", "Location")]
    assert [(m.text, m.label) for m in docs[1].mentions] == [("Jane Roe", "Person"), ("Acme", "Organization")]
    # a stray I- tag starts an entity (seqeval's default)
    assert [(m.text, m.label) for m in docs[2].mentions] == [("Smith", "Person"), ("Oslo", "Location")]


def test_decode_tags_handles_type_change_inside_a_run():
    assert decode_tags(["B-A", "I-A", "I-B", "O", "I-A"]) == [(0, 1, "A"), (2, 2, "B"), (4, 4, "A")]


def test_jsonl_round_trips(tmp_path):
    docs = read_labelled_jsonl(FIX / "tiny.jsonl")
    _spans_match_text(docs)
    out = tmp_path / "copy.jsonl"
    write_labelled_jsonl(docs, out)
    assert read_labelled_jsonl(out) == [type(d)(type(d.doc)(d.doc.id, d.doc.text, str(out)), d.mentions)
                                        for d in docs]


def test_labelled_and_task_jsonl_read_texts_holding_unicode_line_separators(tmp_path):
    """A JSON string may hold U+2028, U+2029 or U+0085 unescaped: lines end at \\n, \\r\\n or \\r only (NER data,
    and the JSONL every eval and train command reads)."""
    import json

    from nlp.evaluation import read_jsonl

    text = "Aspirin\u2028eases\x85pain\u2029now."
    path = tmp_path / "sep.jsonl"
    path.write_bytes((json.dumps({"text": text, "entities": [{"start": 0, "end": 7, "label": "Chemical"}]},
                                 ensure_ascii=False) + "\r\n" + json.dumps({"text": "Two.", "entities": []})).encode())
    docs = read_labelled_jsonl(path)
    assert [d.doc.text for d in docs] == [text, "Two."] and docs[0].mentions[0].text == "Aspirin"
    assert [row["text"] for row in read_jsonl(path)] == [text, "Two."]


def test_jsonl_malformed_line_names_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "entities": []}\n{"text": 5}\n')
    with pytest.raises(NLPError, match="bad.jsonl:2"):
        read_labelled_jsonl(bad)


def test_unknown_format_lists_the_choices():
    with pytest.raises(NLPError, match="pubtator, iob, finer-csv, jsonl"):
        load_labelled(FIX / "tiny.jsonl", "brat")


def test_iob_reads_bioes_and_lower_case_prefixes_and_refuses_other_tags(tmp_path):
    from nlp.errors import NLPError
    from nlp.formats import read_iob

    good = tmp_path / "good.iob"
    good.write_text("Aspirin\tS-Chemical\ncures\tO\nbad\tb-Disease\nheadache\tE-Disease\n", encoding="utf-8")
    (doc,) = read_iob(good)
    assert [(m.text, m.label) for m in doc.mentions] == [("Aspirin", "Chemical"), ("bad headache", "Disease")]
    bad = tmp_path / "bad.iob"
    bad.write_text('{"text": "Aspirin cures.", "entities": []}\n', encoding="utf-8")  # JSONL given as IOB
    with pytest.raises(NLPError, match=r"bad.iob:1: tag .* is not O, B-<type> or I-<type>"):
        read_iob(bad)


@pytest.mark.parametrize("fmt", ["jsonl", "iob", "pubtator", "finer-csv"])
def test_every_labelled_format_says_folder_missing_or_not_utf8_in_one_line(tmp_path, fmt):
    from nlp.errors import NLPError
    from nlp.formats import load_labelled

    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9\tO\n".encode("latin-1"))
    for path, needle in ((tmp_path, "is a folder, not a file"), (tmp_path / "none", "does not exist"),
                         (latin, "not UTF-8 text")):
        with pytest.raises(NLPError, match=needle) as err:
            load_labelled(path, fmt)
        assert "\n" not in str(err.value)


def test_jsonl_without_any_entities_key_is_not_labelled_ner_data(tmp_path):
    """A classification file given as NER data is refused, not read as texts without entities (which `eval ner`
    scored and `train ner` trained on)."""
    other = tmp_path / "sentiment.jsonl"
    other.write_text('{"text": "profit rose", "label": "positive"}\n{"text": "shares fell", "label": "negative"}\n')
    with pytest.raises(NLPError, match=r"sentiment.jsonl: no line has \"entities\"") as err:
        read_labelled_jsonl(other)
    assert "\n" not in str(err.value)
    some = tmp_path / "some.jsonl"  # a line without the key among labelled ones: a text without entities
    some.write_text('{"text": "ok", "entities": [{"start": 0, "end": 2, "label": "X"}]}\n{"text": "none"}\n')
    assert [len(d.mentions) for d in read_labelled_jsonl(some)] == [1, 0]
