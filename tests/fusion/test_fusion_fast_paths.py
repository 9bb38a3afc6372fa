"""The fast inference paths of fusion give what the plain (reference) algorithms give, exactly.

Reference versions of the linker, the K-BERT layout and the gated fusion are written out here as they were
before the fast paths, so each test compares against an independent implementation and can fail.
"""
from __future__ import annotations

import random

import pytest
import torch
from hypothesis import given, settings, strategies as st

from fusion.batch import batch_visibility, collate, visibility
from fusion.config import FusionConfig
from fusion.context import _STOP, _TOKEN, EntityFacts, NameLinker, _rank
from fusion.examples import InputBuilder, Knowledge
from fusion.inputs import FusedInput, _kbert, _overlap, _Overlaps
from fusion.model import FusedModel
from fusion.ner import _windows, predict_fused_ner
from fusion.predict import outputs
from kg.names import normalise
from kg.records import Document, Mention
from nlp.abbreviations import STATISTICAL, definitions

NAMES = ["metformin", "type 2 diabetes", "diabetes", "aspirin", "bleeding", "insulin", "anti-inflammatory drug",
         "5-fluorouracil", "the", "of", "co_q10", "café au lait", "heart  failure", "sodium, potassium", "fibrosis",
         "with aspirin", "aspirin causes bleeding", "ALL", "Tau", "SD", "sexual dysfunction", "SEM",
         "sleep deprivation", "Sjögren's syndrome", "type II diabetes", "phase I", "Graves' disease", "Xi'an", "IV",
         "factor V", "X-ray"]


def reference_link(linker: NameLinker, text: str) -> list[Mention]:
    """NameLinker.link as it was: every n-gram normalised and looked up, longest first; and the short-form rule
    written out per n-gram: one that the text defines as an abbreviation takes its long form's entity (or
    none), an undefined statistical one none."""
    defined = {short: d.long_forms for short, d in definitions(text).items()}

    def lookup(name):
        key = normalise(name)
        hit = linker.names.get(key)
        return None if hit and key in linker.cased and name not in linker.cased[key] else hit

    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    covered = [False] * len(tokens)
    found = []
    for n in range(min(linker.max_ngram, len(tokens)), 0, -1):
        for i in range(len(tokens) - n + 1):
            if any(covered[i:i + n]):
                continue
            start, end = tokens[i][0], tokens[i + n - 1][1]
            surface = text[start:end]
            key = normalise(surface)
            if surface in defined:
                hit = next((h for h in map(lookup, defined[surface]) if h), None)
            elif n == 1 and (key in _STOP or len(key) < linker.min_chars) or surface in STATISTICAL:
                continue
            else:
                hit = lookup(surface)
            if hit:
                covered[i:i + n] = [True] * n
                found.append(Mention(start, end, surface, hit[1], hit[0]))
    return sorted(found, key=lambda m: m.start)


def _linker() -> NameLinker:
    return NameLinker.from_rows((n, f"E{i}", "Chemical") for i, n in enumerate(NAMES))


PIECES = ["metformin", "Metformin", "type 2 diabetes", "Type  2\tdiabetes", "type 2\ndiabetes", "diabetes", "the",
          "of", "aspirin", "ASPIRIN-induced", "anti-inflammatory drug", "anti-inflammatory", "5-fluorouracil",
          "co_q10", "_aspirin", "aspirin_", "café au lait", "cafe\u0301 au lait", "ﬁbrosis", "heart failure",
          "heart  failure", "sodium, potassium", "sodium,  potassium", "(", ")", ",", ".", " ", "  ", "\n", "x",
          "insulin's", "bleeding/insulin", "patients", "with", "causes", "ALL", "all", "All", "Tau", "tau",
          "SD", "SEM", "T2D", "mean ±", "(SD)", "(SEM)", "(T2D)", "(ALL)", "(Tau)", "(p < 0.05)", "sexual dysfunction",
          "standard deviation", "sleep deprivation", "sleep deprivations", "(SDs)", "Sjogren's", "Sjögren", "sjogren",
          "syndrome", "type", "Type-II", "2", "ii", "I", "i", "phase", "Phase-1", "III", "Graves'", "graves", "disease",
          "xi'an", "Xi", "an", "iv", "v", "Factor", "x-ray", "X", "ray", "'s", "s'", "'"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25), st.booleans(),
       st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), max_size=4))
def test_name_linker_matches_the_reference_on_texts_and_windows(pieces, spaced, cuts):
    linker = _linker()
    text = (" " if spaced else "").join(pieces)
    assert linker.link(text) == reference_link(linker, text)
    spans = [tuple(sorted((a % (len(text) + 1), b % (len(text) + 1)))) for a, b in cuts]
    # overlapping windows of one document share their n-gram lookups; each must still equal its own link
    assert linker.link_windows(text, spans) == [reference_link(linker, text[lo:hi]) for lo, hi in spans]


def test_name_linker_fast_path_finds_tricky_names():
    linker = _linker()
    text = "Type  2\tdiabetes after 5-fluorouracil, co_q10 and sodium,  potassium; ASPIRIN"
    got = [(m.text, m.entity_id) for m in linker.link(text)]
    assert got == [(m.text, m.entity_id) for m in reference_link(linker, text)]
    assert ("Type  2\tdiabetes", "E1") in got and ("5-fluorouracil", "E7") in got and ("co_q10", "E10") in got
    assert ("sodium,  potassium", "E13") in got and ("ASPIRIN", "E3") in got
    # longest first, even when a shorter name starts earlier
    assert [m.text for m in linker.link("with aspirin causes bleeding")] == ["aspirin causes bleeding"]


def test_name_linker_fast_path_keys_spans_with_possessives_and_numerals():
    linker = NameLinker.from_rows([("Sjögren's syndrome", "E1", "Disease"), ("type 2 diabetes", "E2", "Disease"),
                                   ("2 x", "E3", "Thing"), ("phase 1", "E4", "Thing")])
    for text in ("Sjogren's syndrome and type II diabetes", "'ii x", "it's II x", "phase I, phase-i, I x",
                 "Graves' sjogren syndrome", "type-2 diabetes, Phase-1 and IL-6"):
        assert linker.link(text) == reference_link(linker, text), text
    # a hyphen between "type" and a numeral is a space in a key (key rule 3): "Type-II diabetes" is type 2 diabetes
    assert [m.text for m in linker.link("'ii x; Type-II diabetes? no: type II diabetes")] == [
        "ii x", "Type-II diabetes", "type II diabetes"]


def test_name_linker_matches_short_acronyms_only_as_written():
    linker = NameLinker.from_rows([("ALL", "dis:all", "Disease"), ("acute lymphoblastic leukemia", "dis:all", "Disease"),
                                   ("Tau", "chem:tau", "Chemical"), ("CAD", "dis:cad", "Disease"),
                                   ("cad", "dis:cad", "Disease")])
    text = "In all children with ALL, tau and Tau; CAD and cad."
    assert [(m.text, m.entity_id) for m in linker.link(text)] == [
        ("ALL", "dis:all"), ("Tau", "chem:tau"), ("CAD", "dis:cad"), ("cad", "dis:cad")]  # "cad" is also a name
    assert linker.link_windows(text, [(0, 26)]) == [linker.link(text[:26])]


def test_name_linker_links_abbreviations_as_the_text_defines_them():
    linker = NameLinker.from_rows([("sexual dysfunction", "dis:sd", "Disease"), ("SD", "dis:sd", "Disease"),
                                   ("sleep deprivation", "dis:slp", "Disease"), ("ALL", "dis:all", "Disease"),
                                   ("type 2 diabetes mellitus", "dis:t2dm", "Disease")], min_chars=2)

    def links(text):
        return [(m.text, m.entity_id) for m in linker.link(text)]

    assert links("Scores were 4.1 (SD 1.2); mean ± SD of three runs.") == []  # undefined statistical SD
    assert links("Sexual dysfunction (SD) was common; SD fell.") == [
        ("Sexual dysfunction", "dis:sd"), ("SD", "dis:sd"), ("SD", "dis:sd")]
    assert links("Mean and standard deviation (SD); SD was small.") == []  # the long form links to nothing
    assert links("Sleep deprivation (SD) raised SD scores.") == [  # re-pointed to the long form's entity
        ("Sleep deprivation", "dis:slp"), ("SD", "dis:slp"), ("SD", "dis:slp")]
    assert links("Sleep deprivations (SD) raised SD scores.") == [("SD", "dis:slp"), ("SD", "dis:slp")]  # singular
    # T2DM is no graph name: the long form's entity; "T2DM-related" is one token, no mention
    assert links("Type 2 diabetes mellitus (T2DM): T2DM and T2DM-related care.") == [
        ("Type 2 diabetes mellitus", "dis:t2dm"), ("T2DM", "dis:t2dm"), ("T2DM", "dis:t2dm")]
    assert links("ALL relapsed in 3; ALL is common.") == [("ALL", "dis:all"), ("ALL", "dis:all")]  # unchanged


def test_name_linker_windows_see_only_their_own_definitions():
    linker = NameLinker.from_rows([("sexual dysfunction", "dis:sd", "Disease"), ("SD", "dis:sd", "Disease")],
                                  min_chars=2)
    text = "Sexual dysfunction (SD) was common. Later SD fell."
    later = text.index("Later")
    spans = [(0, len(text)), (later, len(text)), (0, later)]
    got = linker.link_windows(text, spans)
    assert got == [linker.link(text[lo:hi]) for lo, hi in spans]
    assert [m.text for m in got[0]] == ["Sexual dysfunction", "SD", "SD"]
    assert got[1] == []  # "Later SD fell." defines nothing and SD is a statistical abbreviation


def reference_kbert(ids, types, rows, body, attach) -> FusedInput:
    """The per-token K-BERT layout loop."""
    after: dict[int, list[int]] = {}
    for f, (anchor, _, _) in enumerate(attach):
        after.setdefault(max(anchor), []).append(f)
    new_ids, new_pos, new_types, new_rows, fact_of, where = [], [], [], [], [], {}
    for t in range(len(ids)):
        where[t] = len(new_ids)
        new_ids.append(ids[t]); new_pos.append(t); new_types.append(types[t]); new_rows.append(rows[t])
        fact_of.append(-1)
        for f in after.get(t, ()):
            _, toks, seg_type = attach[f]
            for k, tok in enumerate(toks):
                new_ids.append(tok); new_pos.append(t + 1 + k); new_types.append(seg_type); new_rows.append(0)
                fact_of.append(f)
    anchors = tuple(tuple(where[t] for t in a) for a, _, _ in attach)
    new_body = tuple(tuple(where[t] for t in seg) for seg in body)
    return FusedInput(tuple(new_ids), tuple(new_pos), tuple(new_types), tuple(fact_of), anchors, tuple(new_rows),
                      new_body)


def _random_layout(rng: random.Random):
    n = rng.randint(3, 40)
    ids = [rng.randint(5, 99) for _ in range(n)]
    types = [0] * n
    rows = [rng.choice([0, 0, 1, 2]) for _ in range(n)]
    body = [tuple(range(1, n - 1))]
    attach = []
    for _ in range(rng.randint(0, 5)):
        if rng.random() < 0.2:
            anchor = [0]
        else:
            a = rng.randint(1, n - 2)
            anchor = list(range(a, min(a + rng.randint(1, 3), n - 1)))
        attach.append((anchor, [rng.randint(5, 99) for _ in range(rng.randint(1, 6))], 0))
    return ids, types, rows, body, attach


def test_kbert_layout_matches_the_per_token_loop():
    rng = random.Random(3)
    for _ in range(300):
        layout = _random_layout(rng)
        assert _kbert(*layout) == reference_kbert(*layout)


def test_batch_visibility_matches_per_row_visibility():
    import numpy as np

    rng = random.Random(5)
    for _ in range(40):
        items = [_kbert(*_random_layout(rng)) for _ in range(rng.randint(1, 6))]
        width = max(len(i) for i in items)
        fact_of = np.array([list(i.fact_of) + [-2] * (width - len(i)) for i in items])
        for sees in (True, False):
            want = torch.stack([visibility(i, width, sees) for i in items])
            got = torch.from_numpy(batch_visibility(fact_of, [i.anchors for i in items], sees))
            assert torch.equal(got, want)
        mask = collate(items)["attention_mask"]
        assert torch.equal(mask[:, 0] == 0, torch.stack([visibility(i, width) for i in items]))


def test_overlaps_by_bisection_match_the_scan():
    rng = random.Random(7)
    for _ in range(200):
        offsets, pos = [], 0
        for _ in range(rng.randint(0, 30)):
            pos += rng.randint(0, 3)
            width = rng.choice([0, 1, 2, 5])
            offsets.append((pos, pos + width))
            pos += width
        if rng.random() < 0.2:
            rng.shuffle(offsets)
        find = _Overlaps(offsets)
        for _ in range(10):
            a = rng.randint(0, pos + 2)
            b = rng.randint(a, pos + 3)
            assert find(a, b) == _overlap(offsets, a, b)


def test_entity_facts_cache_and_batched_ranking_match_per_triple_ranking(tiny_store, tiny_embeddings):
    def plaus(t):
        s = tiny_embeddings.score(t.head_id, t.relation, t.tail_id)
        return float("-inf") if s is None else s

    for e in ("C1", "D1", "C2", "D2", "C3", "X9"):
        triples = tiny_store.neighbours(e)
        assert _rank(triples, tiny_embeddings) == sorted(triples, key=lambda t: (-plaus(t), t.key))
    facts = EntityFacts(tiny_store, tiny_embeddings, facts_per_entity=1, maxsize=2)
    first = [facts.get(e) for e in ("D1", "C1", "C2", "D1")]
    assert len(facts._cache) == 2 and first[0] == first[3]  # evicted and rebuilt the same
    assert first[1] == ((("C1", "TREATS", "D1"), "metformin treats diabetes", "treats diabetes"),)
    # the branch leaves out the entity the facts were asked for: the head here, the tail for D1
    assert all(b == text.removesuffix(" diabetes") for _, text, b in first[0] if b.endswith("treats"))


DOCS = ["the patient took metformin for type 2 diabetes and had bleeding with aspirin . insulin lowers glucose "
        "in type 2 diabetes . aspirin causes bleeding and headache . metformin treats diabetes .",
        "aspirin causes bleeding .", "good news : profit rose .",
        "insulin and metformin treat type 2 diabetes ; the drug aspirin causes bleeding , and insulin lowers "
        "glucose with metformin for the patient ."]


def _reference_windows(builder, docs, stride):
    """The windows as they were built: each window's full context (mentions and facts, whatever the fusion)
    looked up from its own text."""
    from nlp.ner.windows import encode, windows

    items = []
    for d in docs:
        text = d.doc.text
        enc = encode(builder.tokenizer, text)
        for s, e in windows(len(enc.ids), builder.config.max_length - 2, stride):
            lo, hi = enc.offsets[s][0], enc.offsets[e - 1][1]
            offsets = tuple((a - lo, b - lo) for a, b in enc.offsets[s:e])
            context = builder.knowledge.context(text[lo:hi])
            items.append(builder.tokens(text[lo:hi], enc.ids[s:e], offsets, None, context))
    return items


def _ref_fuse(model, h, rows):
    e = torch.tanh(model.kg_proj(model.kg_table[rows]))
    gate = torch.sigmoid(model.kg_gate(torch.cat([h, e], dim=-1)))
    return h + (rows > 0).unsqueeze(-1).to(h.dtype) * gate * e


@pytest.mark.parametrize("fusion", ["facts", "embeddings", "both"])
def test_fused_ner_with_document_linking_and_caches_equals_the_reference_path(tiny_encoder, tiny_store,
                                                                              tiny_embeddings, fusion):
    from transformers import AutoTokenizer

    from nlp.formats.records import LabelledDoc

    labels = ("O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease")
    cfg = FusionConfig(head="token", labels=labels, fusion=fusion, max_length=16, dropout=0.0)
    torch.manual_seed(0)
    model = FusedModel.from_encoder(tiny_encoder, cfg, tiny_embeddings if cfg.uses_embeddings else None).eval()
    if cfg.uses_embeddings:
        torch.nn.init.normal_(model.kg_gate.weight)  # make the gate matter
    tok = AutoTokenizer.from_pretrained(str(tiny_encoder))
    docs = [LabelledDoc(Document(str(i), t)) for i, t in enumerate(DOCS)]

    def builder():
        return InputBuilder(tok, model.config, Knowledge(store=tiny_store, embeddings=tiny_embeddings),
                            model.entity_row)

    ref_items = _reference_windows(builder(), docs, 4)
    fast = builder()
    items, where, _ = _windows(fast, docs, None, 4)
    assert len(items) > len(docs)  # several windows per document
    assert items == ref_items
    if cfg.uses_facts:
        assert any(f >= 0 for it in items for f in it.fact_of)
    if cfg.uses_embeddings:
        assert any(r > 0 for it in items for r in it.entity_rows)
    # the gated fusion over linked rows only equals the formula over every token
    batch = collate(items)
    with torch.no_grad():
        h = torch.randn(batch["input_ids"].shape + (model.encoder.config.hidden_size,))
        if cfg.uses_embeddings:
            assert torch.allclose(model._fuse(h.clone(), batch["entity_rows"]),
                                  _ref_fuse(model, h, batch["entity_rows"]), atol=1e-6)
    logits = outputs(model, items, 3)
    ref_logits = outputs(model, ref_items, 3)
    assert all(torch.equal(torch.from_numpy(a), torch.from_numpy(b)) for a, b in zip(logits, ref_logits))
    # warm caches (second call) give the same predictions as cold ones
    cold = predict_fused_ner(model, fast, docs, stride=4)
    warm = predict_fused_ner(model, fast, docs, stride=4)
    assert cold == warm == predict_fused_ner(model, builder(), docs, stride=4)


def test_fuse_keeps_gradients(tiny_encoder, tiny_store, tiny_embeddings):
    cfg = FusionConfig(head="token", labels=("O", "B-X"), fusion="embeddings", max_length=16, dropout=0.0)
    model = FusedModel.from_encoder(tiny_encoder, cfg, tiny_embeddings)
    h = torch.randn(2, 5, model.encoder.config.hidden_size, requires_grad=True)
    rows = torch.tensor([[0, 1, 0, 2, 0], [0, 0, 0, 0, 3]])
    out = model._fuse(h, rows)
    out.sum().backward()
    assert h.grad is not None and model.kg_proj.weight.grad is not None
    assert torch.allclose(out, _ref_fuse(model, h, rows), atol=1e-6)
