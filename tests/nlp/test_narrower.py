"""Narrower entities: a question about "diabetes" reaches facts about "type 2 diabetes" when "diabetes" itself has
few, marked as such, after the direct answers, capped; names and hierarchy edges both give them."""
from __future__ import annotations

from collections import Counter

import pytest

from kg.records import Entity
from kg.stores.sqlite import SQLiteStore
from nlp.narrower import MAX_NARROWER, is_narrower_name, narrower_entities
from nlp.qa import MAX_NARROWER_ANSWERS, answer
from tests.conftest import pattern_fact as _fact


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = SQLiteStore.open(tmp_path_factory.mktemp("narrower") / "g.db")
    s.add([
        _fact("chem:met", "TREATS", "dis:t2d", 0.95), _fact("chem:sema", "TREATS", "dis:t2d", 0.8),
        _fact("chem:ins", "TREATS", "dis:gest", 0.7), _fact("chem:des", "TREATS", "dis:di"),
        _fact("chem:dox", "TREATS", "dis:bc"), _fact("chem:dox", "CAUSES", "dis:hf"),
        _fact("chem:asb", "CAUSES", "dis:lc"), _fact("chem:war", "CAUSES", "dis:bleed"),
        _fact("chem:asp", "CAUSES", "dis:gib"),
        _fact("chem:ator", "TREATS", "dis:hc"), _fact("pc:statins", "INCLUDES", "chem:ator"),
        _fact("dis:hashi", "IS_A", "dis:autoimmune"), _fact("chem:levo", "TREATS", "dis:hashi"),
    ], [
        Entity("dis:diabetes", "diabetes", "Disease", ("diabetes mellitus",)),
        Entity("dis:t2d", "diabetes mellitus type 2", "Disease", ("T2D",)),
        Entity("dis:gest", "gestational diabetes", "Disease"),
        Entity("dis:di", "diabetes insipidus", "Disease"),  # another disease, not a kind of diabetes mellitus
        Entity("dis:bc", "breast cancer", "Disease"), Entity("dis:lc", "lung cancer", "Disease"),
        Entity("dis:hf", "heart failure", "Disease"), Entity("dis:bleed", "bleeding", "Disease"),
        Entity("dis:gib", "gastrointestinal bleeding", "Disease"), Entity("dis:hc", "hypercholesterolemia", "Disease"),
        Entity("dis:autoimmune", "autoimmune disease", "Disease"), Entity("dis:hashi", "Hashimoto thyroiditis", "Disease"),
        Entity("pc:statins", "statins", "PharmacologicClass"),
        Entity("chem:met", "metformin", "Chemical"), Entity("chem:sema", "semaglutide", "Chemical"),
        Entity("chem:ins", "insulin", "Chemical"), Entity("chem:des", "desmopressin", "Chemical"),
        Entity("chem:dox", "doxorubicin", "Chemical"), Entity("chem:asb", "asbestos", "Chemical"),
        Entity("chem:war", "warfarin", "Chemical"), Entity("chem:asp", "aspirin", "Chemical"),
        Entity("chem:ator", "atorvastatin", "Chemical"), Entity("chem:levo", "levothyroxine", "Chemical"),
    ])
    return s


def _texts(store, question):
    return [a.text for a in answer(store, question).answers]


@pytest.mark.parametrize("name,broad,expected", [
    ("type 2 diabetes", "diabetes", True), ("gestational diabetes", "Diabetes", True),
    ("diabetes mellitus type 2", "diabetes mellitus", True), ("lung cancer", "cancer", True),
    ("diabetes insipidus", "diabetes", False), ("diabetes", "diabetes", False), ("pre-diabetes", "diabetes", False),
    ("pseudo gout", "gout", False), ("non-cancer pain", "pain", True), ("cancer screening", "cancer", False),
])
def test_a_narrower_name_ends_with_the_broader_one_or_qualifies_it(name, broad, expected):
    assert is_narrower_name(name, broad) is expected


def test_an_entity_with_no_facts_is_answered_from_its_narrower_kinds_marked_as_such(store):
    assert _texts(store, "What treats diabetes?") == [
        "metformin (treats diabetes mellitus type 2)", "semaglutide (treats diabetes mellitus type 2)",
        "insulin (treats gestational diabetes)"]
    best = answer(store, "What treats diabetes?").answers[0]
    assert best.via == "diabetes mellitus type 2" and best.entity_id == "chem:met"
    assert best.evidence[0].triple == ("metformin", "TREATS", "diabetes mellitus type 2")
    assert _texts(store, "Does metformin treat diabetes?") == ["yes (via diabetes mellitus type 2)"]


def test_direct_answers_come_first_and_narrower_ones_only_when_they_are_few(store):
    # bleeding has one direct cause: gastrointestinal bleeding's follows it, marked
    assert _texts(store, "What causes bleeding?") == ["warfarin", "aspirin (causes gastrointestinal bleeding)"]
    assert _texts(store, "Does warfarin cause bleeding?") == ["yes"]  # confirmed directly: nothing narrower


def test_a_term_the_graph_has_no_entity_for_is_answered_from_its_narrower_kinds(store):
    assert _texts(store, "What causes cancer?") == ["asbestos (causes lung cancer)"]
    assert _texts(store, "What are the side effects of drugs that treat cancer?") == ["heart failure (via breast cancer)"]
    assert _texts(store, "How many drugs treat cancer?") == ["1 (via breast cancer)"]


def test_hierarchy_edges_give_narrower_entities(store):
    assert _texts(store, "What treats autoimmune disease?") == ["levothyroxine (treats Hashimoto thyroiditis)"]
    assert _texts(store, "What do statins treat?") == ["hypercholesterolemia (via atorvastatin)"]


def test_only_names_of_narrowable_types_give_narrower_entities(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:ap", "HEADQUARTERED_IN", "loc:mi")],
          [Entity("org:p", "Pharma", "Organization"), Entity("org:ap", "Aurelia Pharma", "Organization"),
           Entity("loc:mi", "Milan", "Location")])
    assert narrower_entities(s, s.entity("org:p")) == []  # Aurelia Pharma is no kind of Pharma
    assert answer(s, "Where is Pharma based?").answers == ()


def test_narrower_answers_are_capped_and_ranked_by_confidence(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    kinds = [f"kind {i} cancer" for i in range(12)]
    s.add([_fact(f"chem:{i}", "TREATS", f"dis:{i}", 0.5 + i / 100) for i in range(12)],
          [Entity("dis:cancer", "cancer", "Disease")]
          + [Entity(f"dis:{i}", kinds[i], "Disease") for i in range(12)]
          + [Entity(f"chem:{i}", f"drug{i}", "Chemical") for i in range(12)])
    got = answer(s, "What treats cancer?").answers
    assert len(got) == MAX_NARROWER_ANSWERS
    assert [a.score for a in got] == sorted((a.score for a in got), reverse=True)
    # "else" asked alone gets the narrower answers alone, capped alike (it gave all 10)
    assert [a.text for a in answer(s, "What else treats cancer?").answers] == [a.text for a in got]
    # a count is not capped ("5" was the count): each of the MAX_NARROWER (10) closest kinds' drugs
    [count] = answer(s, "How many drugs treat cancer?").answers
    assert count.text.split(" ")[0] == str(MAX_NARROWER)


def test_narrower_chains_that_meet_both_conditions_answer_a_two_condition_question(store):
    """"Which cancer drugs cause heart failure?": the drug between a kind of cancer and the effect, not the kind of
    cancer a chain from the effect reaches ("breast cancer" was the answer)."""
    for question in ("Which drugs that treat cancer cause heart failure?", "Which cancer drugs cause heart failure?"):
        assert _texts(store, question) == ["doxorubicin (via breast cancer)"], question


def test_a_term_the_graph_has_only_narrower_entities_for_is_described_by_them(store):
    """"What is cancer?" got no answer: the describing path skipped terms the graph has no entity for."""
    [about] = answer(store, "What is cancer?").answers
    assert about.text == "cancer: no entity of that name; narrower: lung cancer, breast cancer"
    assert about.entity_id is None
    assert [e.triple for e in about.evidence] == [("asbestos", "CAUSES", "lung cancer"),
                                                 ("doxorubicin", "TREATS", "breast cancer")]


def test_an_entity_with_no_facts_is_described_with_its_narrower_entities(store):
    """"What is diabetes?" gave only "diabetes (Disease; ...)" where the graph has a "diabetes" with no facts; an
    entity with facts of its own is described by them alone, as before."""
    [about] = answer(store, "What is diabetes?").answers
    assert about.text == ("diabetes (Disease; also diabetes mellitus); narrower: gestational diabetes, "
                          "diabetes mellitus type 2")
    assert about.entity_id == "dis:diabetes"
    assert [e.triple for e in about.evidence] == [("insulin", "TREATS", "gestational diabetes"),
                                                 ("metformin", "TREATS", "diabetes mellitus type 2")]
    [bleeding] = answer(store, "What is bleeding?").answers
    assert bleeding.text == "bleeding (Disease)"
    assert [e.triple for e in bleeding.evidence] == [("warfarin", "CAUSES", "bleeding")]


def test_else_in_a_question_of_its_own_asks_beyond_the_direct_answers(store):
    """"What else causes bleeding?" gave what "What causes bleeding?" gives, warfarin first."""
    assert _texts(store, "What else causes bleeding?") == ["aspirin (causes gastrointestinal bleeding)"]
    assert _texts(store, "What else treats diabetes?") == [  # none direct: the narrower answers
        "metformin (treats diabetes mellitus type 2)", "semaglutide (treats diabetes mellitus type 2)",
        "insulin (treats gestational diabetes)"]


def test_both_x_and_y_reaches_narrower_entities_and_terms_the_graph_has_no_entity_for(tmp_path):
    """"Which drugs treat both diabetes and cancer?" had no answer though metformin treats type 2 diabetes and
    breast cancer: the common answers were taken from the entities' own facts only (none for "diabetes"; "cancer",
    a term with no entity, has no facts)."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:met", "TREATS", "dis:t2d"), _fact("chem:met", "TREATS", "dis:bc", 0.6),
           _fact("chem:sema", "TREATS", "dis:t2d"), _fact("chem:dox", "TREATS", "dis:bc")],
          [Entity("dis:diabetes", "diabetes", "Disease"), Entity("dis:t2d", "type 2 diabetes", "Disease"),
           Entity("dis:bc", "breast cancer", "Disease"), Entity("chem:met", "metformin", "Chemical"),
           Entity("chem:sema", "semaglutide", "Chemical"), Entity("chem:dox", "doxorubicin", "Chemical")])
    assert _texts(s, "Which drugs treat both type 2 diabetes and breast cancer?") == ["metformin"]
    got = answer(s, "Which drugs treat both diabetes and cancer?").answers
    assert [a.text for a in got] == ["metformin (treats type 2 diabetes and breast cancer)"]  # was unmarked
    assert {ev.triple for ev in got[0].evidence} == {("metformin", "TREATS", "type 2 diabetes"),
                                                     ("metformin", "TREATS", "breast cancer")}


def test_a_both_x_and_y_answer_through_narrower_entities_is_marked_with_them(tmp_path):
    """A "both X and Y" answer that came through narrower entities had no mark and no ``via``, unlike every other
    such answer; one side direct names only the other's."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:met", "TREATS", "dis:t2d"), _fact("chem:met", "TREATS", "dis:bc", 0.6)],
          [Entity("dis:diabetes", "diabetes", "Disease"), Entity("dis:t2d", "type 2 diabetes", "Disease"),
           Entity("dis:bc", "breast cancer", "Disease"), Entity("chem:met", "metformin", "Chemical")])
    [both] = answer(s, "Which drugs treat both diabetes and cancer?").answers
    assert both.text == "metformin (treats type 2 diabetes and breast cancer)"
    assert (both.via, both.via_id) == ("type 2 diabetes", "dis:t2d")  # the first it came through
    assert both.via_all == (("dis:t2d", "type 2 diabetes"), ("dis:bc", "breast cancer"))  # each (was none)
    [one] = answer(s, "Which drugs treat both type 2 diabetes and cancer?").answers
    assert (one.text, one.via_id, one.via_all) == ("metformin (treats breast cancer)", "dis:bc",
                                                   (("dis:bc", "breast cancer"),))
    [count] = answer(s, "How many drugs treat both diabetes and cancer?").answers
    assert count.text == "1 (via type 2 diabetes, breast cancer)"


def test_both_x_and_y_intersects_all_narrower_answers_and_caps_what_is_common(tmp_path):
    """Each entity's narrower answers were cut to the best 5 before they were intersected: drugs that treat both
    were lost where they were not among the best 5 of each (here 3 of 7 were left); now all are intersected and
    the cap applies to the answers, as for one entity."""
    drugs = range(7)
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact(f"chem:{i}", "TREATS", "dis:t2d", 0.5 + i / 100) for i in drugs]
          + [_fact(f"chem:{i}", "TREATS", "dis:bc", 0.9 - i / 100) for i in drugs],
          [Entity("dis:diabetes", "diabetes", "Disease"), Entity("dis:t2d", "type 2 diabetes", "Disease"),
           Entity("dis:bc", "breast cancer", "Disease")] + [Entity(f"chem:{i}", f"drug{i}", "Chemical") for i in drugs])
    got = answer(s, "Which drugs treat both diabetes and cancer?").answers
    assert [a.entity_id for a in got] == [f"chem:{i}" for i in (6, 5, 4, 3, 2)]  # by the weaker chain, at most 5
    assert len(got) == MAX_NARROWER_ANSWERS
    [count] = answer(s, "How many drugs treat both diabetes and cancer?").answers
    assert count.text == "7 (via type 2 diabetes, breast cancer)"  # a count counts them all


@pytest.mark.parametrize("question", ["What causes cancer?", "What is cancer?"])
def test_a_term_with_no_entity_has_its_narrower_entities_searched_once(store, monkeypatch, question):
    """They were searched when the question was linked, and again to answer or describe it."""
    searched = Counter()
    find = store.find_entities
    monkeypatch.setattr(store, "find_entities",
                        lambda name, limit=10: searched.update([(name, limit)]) or find(name, limit))
    assert answer(store, question).answers
    cancer = [n for (name, _), n in searched.items() if name == "cancer"]
    assert cancer and max(cancer) == 1, searched


def test_the_cap_on_narrower_answers_comes_after_a_third_condition(tmp_path):
    # twelve drugs treat a kind of cancer and cause nausea; only the least sure, which Acme makes, meets all three:
    # the five surest were kept first, and the third condition then left none
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact(f"chem:{i}", "TREATS", f"dis:{i}", 0.5 + i / 100) for i in range(12)]
          + [_fact(f"chem:{i}", "CAUSES", "dis:nau") for i in range(12)] + [_fact("org:acme", "MANUFACTURES", "chem:0")],
          [Entity("dis:cancer", "cancer", "Disease"), Entity("dis:nau", "nausea", "Disease"),
           Entity("org:acme", "Acme", "Organization")]
          + [Entity(f"dis:{i}", f"kind {i} cancer", "Disease") for i in range(12)]
          + [Entity(f"chem:{i}", f"drug{i}", "Chemical") for i in range(12)])
    assert _texts(s, "Which drug that treats cancer and causes nausea is made by Acme?") == [
        "drug0 (via kind 0 cancer)"]
    assert len(_texts(s, "Which drug that treats cancer causes nausea?")) == MAX_NARROWER_ANSWERS  # still capped
