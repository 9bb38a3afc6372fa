"""Compound questions: split into parts, "they/its" read as the previous part's answer or subject, lists of
entities asked about one by one, and "and" inside names or between related things left alone."""
from __future__ import annotations

from collections import Counter

import pytest

from kg.records import Entity
from kg.stores.sqlite import SQLiteStore
from nlp.compound import split_question
from nlp.qa import answer
from tests.conftest import pattern_fact as _fact


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = SQLiteStore.open(tmp_path_factory.mktemp("compound") / "g.db")
    s.add([
        _fact("org:nw", "MANUFACTURES", "chem:met"), _fact("org:nw", "HEADQUARTERED_IN", "loc:bos"),
        _fact("chem:war", "TREATS", "dis:dvt"), _fact("chem:war", "CAUSES", "dis:bleed"),
        _fact("chem:tam", "CAUSES", "dis:dvt"),  # something causes DVT too: "its side effects" must not be DVT's
        _fact("org:cv", "MANUFACTURES", "chem:war"), _fact("org:cv", "MANUFACTURES", "chem:clo"),
        _fact("per:lb", "CEO_OF", "org:cv"), _fact("chem:clo", "TREATS", "dis:acs"),
        _fact("chem:asp", "CAUSES", "dis:ulcer"), _fact("chem:asp", "INTERACTS_WITH", "chem:war"),
        _fact("org:pg", "HEADQUARTERED_IN", "loc:cin"), _fact("per:jm", "CEO_OF", "org:pg"),
        _fact("chem:met", "TREATS", "dis:t2d"), _fact("chem:met", "CAUSES", "dis:la"),
    ], [
        Entity("org:nw", "Northwind Therapeutics", "Organization", ("Northwind",)),
        Entity("org:cv", "Corvane Pharmaceuticals", "Organization", ("Corvane",)),
        Entity("org:pg", "Procter and Gamble", "Organization", ("Procter & Gamble",)),
        Entity("loc:bos", "Boston", "Location"), Entity("loc:cin", "Cincinnati", "Location"),
        Entity("per:lb", "Lukas Brunner", "Person"), Entity("per:jm", "Jon Moeller", "Person"),
        Entity("chem:met", "metformin", "Chemical"), Entity("chem:war", "warfarin", "Chemical"),
        Entity("chem:tam", "tamoxifen", "Chemical"), Entity("chem:clo", "clopidogrel", "Chemical"),
        Entity("chem:asp", "aspirin", "Chemical"),
        Entity("dis:dvt", "deep vein thrombosis", "Disease"), Entity("dis:bleed", "bleeding", "Disease"),
        Entity("dis:acs", "acute coronary syndrome", "Disease"), Entity("dis:ulcer", "peptic ulcer", "Disease"),
        Entity("dis:t2d", "type 2 diabetes", "Disease"), Entity("dis:la", "lactic acidosis", "Disease"),
    ])
    return s


def _parts(result):
    return [(p.question, [a.text for a in p.answers]) for p in result.parts]


@pytest.mark.parametrize("question,parts", [
    # "they": the previous part's answer (a drug cannot be based anywhere)
    ("Who makes metformin and where are they based?",
     [("Who makes metformin?", ["Northwind Therapeutics"]), ("Where is Northwind Therapeutics based?", ["Boston"])]),
    # "its": the subject, though the answer (a disease) could have causes: the side effects of warfarin
    ("What does warfarin treat and what are its side effects?",
     [("What does warfarin treat?", ["deep vein thrombosis"]), ("What are warfarin's side effects?", ["bleeding"])]),
    ("Which drugs does Corvane make and who is its CEO?",
     [("Which drugs does Corvane make?", ["clopidogrel", "warfarin"]),
      ("Who is Corvane Pharmaceuticals' CEO?", ["Lukas Brunner"])]),
    # "they" for several answers: a part for each
    ("Which drugs does Corvane make, and what do they treat?",
     [("Which drugs does Corvane make?", ["clopidogrel", "warfarin"]),
      ("What does clopidogrel treat?", ["acute coronary syndrome"]), ("What does warfarin treat?", ["deep vein thrombosis"])]),
    ("What does metformin treat? What does it cause?",
     [("What does metformin treat?", ["type 2 diabetes"]), ("What does metformin cause?", ["lactic acidosis"])]),
    # a list of two subjects: each asked about
    ("What do aspirin and warfarin cause?",
     [("What does aspirin cause?", ["peptic ulcer"]), ("What does warfarin cause?", ["bleeding"])]),
    ("Which company makes metformin or clopidogrel?",
     [("Which company makes metformin?", ["Northwind Therapeutics"]),
      ("Which company makes clopidogrel?", ["Corvane Pharmaceuticals"])]),
    # "and" inside a name does not split it; the clause after it does
    ("Where is Procter and Gamble based and who is its CEO?",
     [("Where is Procter and Gamble based?", ["Cincinnati"]), ("Who is Procter and Gamble's CEO?", ["Jon Moeller"])]),
])
def test_a_compound_question_is_answered_part_by_part(store, question, parts):
    result = answer(store, question)
    assert _parts(result) == parts, result
    assert [a.text for a in result.answers] == [a for _, answers in parts for a in answers]


@pytest.mark.parametrize("question,expected", [
    ("Is there an interaction between warfarin and aspirin?", ["yes"]),  # two things related, not two questions
    ("Do aspirin and warfarin interact?", ["yes"]),
    ("Who is the CEO of Procter & Gamble?", ["Jon Moeller"]),
    ("Which drug treats type 2 diabetes and causes lactic acidosis?", ["metformin"]),  # two conditions on one
    ("What does metformin treat?", ["type 2 diabetes"]),
])
def test_a_question_that_asks_one_thing_has_no_parts(store, question, expected):
    result = answer(store, question)
    assert result.parts == () and [a.text for a in result.answers] == expected, result


def test_split_question_keeps_and_inside_a_name_and_needs_a_name_or_pronoun_on_each_side():
    pg = (12, 30, "Organization", "org:pg")
    assert split_question("Who is the CEO of Procter and Gamble?", [(18, 36, "Organization", "org:pg")]) == [
        "Who is the CEO of Procter and Gamble?"]
    assert split_question("Where is Procter and Gamble based and who runs it?", [(9, 27, "Organization", "org:pg")]) == [
        "Where is Procter and Gamble based?", "Who runs it?"]
    # nothing named after the "and": one question ("which" alone has nothing to be about)
    assert split_question("How many firms are in Procter and Gamble and which are new?", [pg]) == [
        "How many firms are in Procter and Gamble and which are new?"]
    # "Johnson and Johnson" read as one entity twice is no list of two
    jj = [(18, 25, "Person", "per:j"), (30, 37, "Person", "per:j")]
    assert split_question("Who is the CEO of Johnson and Johnson?", jj) == ["Who is the CEO of Johnson and Johnson?"]


def test_a_pronoun_stands_for_the_one_of_two_fitting_things_the_graph_answers_for(tmp_path):
    """"Who acquired Veridian and where is it based?": both firms could be based somewhere; the graph knows where
    Veridian is, not where its buyer is."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:jj", "ACQUIRED", "org:vo"), _fact("org:vo", "HEADQUARTERED_IN", "loc:ly")],
          [Entity("org:jj", "Johnson and Johnson", "Organization"), Entity("org:vo", "Veridian Oncology", "Organization"),
           Entity("loc:ly", "Lyon", "Location")])
    assert _parts(answer(s, "Who acquired Veridian Oncology and where is it based?")) == [
        ("Who acquired Veridian Oncology?", ["Johnson and Johnson"]), ("Where is Veridian Oncology based?", ["Lyon"])]


def test_their_after_answers_from_narrower_entities_stands_for_those_answers(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:met", "TREATS", "dis:t2d"), _fact("chem:met", "CAUSES", "dis:la")],
          [Entity("dis:d", "diabetes", "Disease"), Entity("dis:t2d", "type 2 diabetes", "Disease"),
           Entity("chem:met", "metformin", "Chemical"), Entity("dis:la", "lactic acidosis", "Disease")])
    assert _parts(answer(s, "Which drugs treat diabetes and what are their side effects?")) == [
        ("Which drugs treat diabetes?", ["metformin (treats type 2 diabetes)"]),
        ("What are metformin's side effects?", ["lactic acidosis"])]


def test_after_several_answers_they_stands_for_them_and_it_for_the_subject(tmp_path):
    """Both readings fit ("What does rifampicin treat?", "What does warfarin treat?"): "they" was read as warfarin
    because the first answer, aspirin, treats nothing the graph knows."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:war", "INTERACTS_WITH", "chem:asp", 0.95), _fact("chem:war", "INTERACTS_WITH", "chem:rif"),
           _fact("chem:rif", "TREATS", "dis:tb"), _fact("chem:war", "TREATS", "dis:dvt")],
          [Entity("chem:war", "warfarin", "Chemical"), Entity("chem:asp", "aspirin", "Chemical"),
           Entity("chem:rif", "rifampicin", "Chemical"), Entity("dis:tb", "tuberculosis", "Disease"),
           Entity("dis:dvt", "deep vein thrombosis", "Disease")])
    first = ("What interacts with warfarin?", ["aspirin", "rifampicin"])
    assert _parts(answer(s, "What interacts with warfarin and what do they treat?")) == [
        first, ("What does aspirin treat?", []), ("What does rifampicin treat?", ["tuberculosis"])]
    assert _parts(answer(s, "What interacts with warfarin and what does it treat?")) == [
        first, ("What does warfarin treat?", ["deep vein thrombosis"])]


def test_both_x_and_y_asks_for_what_links_to_each(tmp_path):
    """It used to give what links to either: ibuprofen (aspirin only) and rifampicin (warfarin only)."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:ibu", "INTERACTS_WITH", "chem:asp"), _fact("chem:rif", "INTERACTS_WITH", "chem:war"),
           _fact("chem:flu", "INTERACTS_WITH", "chem:asp", 0.8), _fact("chem:flu", "INTERACTS_WITH", "chem:war")],
          [Entity(f"chem:{k}", n, "Chemical") for k, n in (("ibu", "ibuprofen"), ("asp", "aspirin"), ("rif", "rifampicin"),
                                                           ("war", "warfarin"), ("flu", "fluconazole"))])
    [flu] = answer(s, "Which drugs interact with both aspirin and warfarin?").answers
    assert flu.text == "fluconazole" and flu.score == 0.8
    assert {e.triple for e in flu.evidence} == {("fluconazole", "INTERACTS_WITH", "aspirin"),
                                               ("fluconazole", "INTERACTS_WITH", "warfarin")}
    assert answer(s, "What interacts with both ibuprofen and rifampicin?").answers == ()


def test_a_pronoun_after_a_two_hop_answer_may_stand_for_the_middle_of_its_chain(tmp_path):
    """"the company that makes metformin ... where is it based": the company, not its CEO (based nowhere) or
    metformin; this found no answer."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:nw", "MANUFACTURES", "chem:met"), _fact("per:em", "CEO_OF", "org:nw"),
           _fact("org:nw", "HEADQUARTERED_IN", "loc:bos")],
          [Entity("org:nw", "Northwind Therapeutics", "Organization"), Entity("chem:met", "metformin", "Chemical"),
           Entity("per:em", "Elena Marchetti", "Person"), Entity("loc:bos", "Boston", "Location")])
    assert _parts(answer(s, "Who runs the company that makes metformin and where is it based?")) == [
        ("Who runs the company that makes metformin?", ["Elena Marchetti"]),
        ("Where is Northwind Therapeutics based?", ["Boston"])]


@pytest.mark.parametrize("question,parts", [
    ("What does metformin treat and cause?",  # read as a chain through type 2 diabetes: no answer
     [("What does metformin treat?", ["type 2 diabetes"]), ("What does metformin cause?", ["lactic acidosis"])]),
    ("What are the side effects and interactions of aspirin?",
     [("What are the side effects of aspirin?", ["peptic ulcer"]), ("What are the interactions of aspirin?", ["warfarin"])]),
])
def test_two_joined_relation_words_ask_two_questions(store, question, parts):
    assert _parts(answer(store, question)) == parts


def test_a_first_question_naming_only_a_relation_shares_the_second_s_object(store):
    """"Who makes and who leads Northwind?" was one question (two cues read as a chain) with no answer."""
    assert _parts(answer(store, "What treats and what causes deep vein thrombosis?")) == [
        ("What treats deep vein thrombosis?", ["warfarin"]), ("What causes deep vein thrombosis?", ["tamoxifen"])]
    assert split_question("Who makes and who leads Northwind?", [(24, 33, "Organization", "org:nw")]) == [
        "Who makes Northwind?", "Who leads Northwind?"]
    # no relation word before the "and": one question
    assert split_question("When and where was Northwind founded?", [(19, 28, "Organization", "org:nw")]) == [
        "When and where was Northwind founded?"]


@pytest.mark.parametrize("question,expected", [
    ("Which company is based in Basel and owned by Corvane?", ["Meridale Labs"]),
    ("Which company is owned by Corvane and based in Basel?", ["Meridale Labs"]),
    ("Which company is owned by Corvane?", ["Meridale Labs"]), ("Which companies does Corvane own?", ["Meridale Labs"]),
    # "owned" before "subsidiary" leaves the parent to the "subsidiary ... of" cue
    ("Is Meridale Labs a wholly owned subsidiary of Corvane?", ["yes"]),
    ("Is Corvane a wholly owned subsidiary of Meridale Labs?", []),
    ("What are the wholly owned subsidiaries of Corvane?", ["Meridale Labs"]),
])
def test_owned_by_names_the_parent(tmp_path, question, expected):
    """"owned by Corvane" was read as Corvane being the subsidiary: no answer; "a wholly owned subsidiary of
    Corvane" was then read with Corvane as the subsidiary."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:ml", "SUBSIDIARY_OF", "org:cv"), _fact("org:ml", "HEADQUARTERED_IN", "loc:ba"),
           _fact("org:rx", "HEADQUARTERED_IN", "loc:ba"), _fact("org:cv", "SUBSIDIARY_OF", "org:hold")],
          [Entity("org:ml", "Meridale Labs", "Organization"), Entity("org:cv", "Corvane", "Organization"),
           Entity("org:rx", "Roxel", "Organization"), Entity("org:hold", "Holdco", "Organization"),
           Entity("loc:ba", "Basel", "Location")])
    assert [a.text for a in answer(s, question).answers] == expected


def test_else_leaves_out_the_previous_part_s_subject_and_answers(tmp_path):
    """"What else treats it?" gave warfarin, the previous part's subject, first."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:war", "TREATS", "dis:dvt", 0.95), _fact("chem:hep", "TREATS", "dis:dvt"),
           _fact("org:cv", "MANUFACTURES", "chem:war"), _fact("org:cv", "MANUFACTURES", "chem:clo", 0.8)],
          [Entity("chem:war", "warfarin", "Chemical"), Entity("chem:hep", "heparin", "Chemical"),
           Entity("chem:clo", "clopidogrel", "Chemical"), Entity("org:cv", "Corvane", "Organization"),
           Entity("dis:dvt", "deep vein thrombosis", "Disease")])
    assert _parts(answer(s, "What does warfarin treat and what else treats it?")) == [
        ("What does warfarin treat?", ["deep vein thrombosis"]),
        ("What else treats deep vein thrombosis?", ["heparin"])]
    assert _parts(answer(s, "Who makes warfarin and what else does it make?")) == [
        ("Who makes warfarin?", ["Corvane"]), ("What else does Corvane make?", ["clopidogrel"])]
    assert [a.text for a in answer(s, "What treats deep vein thrombosis and what else treats it?").parts[1].answers] \
        == []  # the first part answered both; "it" is deep vein thrombosis


def test_else_leaves_out_what_every_question_of_the_previous_part_answered(tmp_path):
    """After "they" stood for two drugs (a question for each), "what else treats it?" left out only the last one's
    subject: warfarin came back as "else"."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:cv", "MANUFACTURES", "chem:war"), _fact("org:cv", "MANUFACTURES", "chem:hep", 0.8),
           _fact("chem:war", "TREATS", "dis:dvt", 0.95), _fact("chem:hep", "TREATS", "dis:dvt"),
           _fact("chem:clo", "TREATS", "dis:dvt", 0.7)],
          [Entity("chem:war", "warfarin", "Chemical"), Entity("chem:hep", "heparin", "Chemical"),
           Entity("chem:clo", "clopidogrel", "Chemical"), Entity("org:cv", "Corvane", "Organization"),
           Entity("dis:dvt", "deep vein thrombosis", "Disease")])
    assert _parts(answer(s, "Which drugs does Corvane make, what do they treat and what else treats it?")) == [
        ("Which drugs does Corvane make?", ["warfarin", "heparin"]),
        ("What does warfarin treat?", ["deep vein thrombosis"]), ("What does heparin treat?", ["deep vein thrombosis"]),
        ("What else treats deep vein thrombosis?", ["clopidogrel"])]


def test_it_after_several_answers_to_both_x_and_y_is_the_subject_not_the_first_answer_again(tmp_path):
    """The first answer of "both X and Y" is named in each of its facts, so it was taken for the middle of a chain
    too and listed twice among what "it" may stand for: "it" (the subject after several answers) became the first
    answer."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:pro", "INTERACTS_WITH", "chem:asp"), _fact("chem:pro", "INTERACTS_WITH", "chem:war"),
           _fact("chem:ibu", "INTERACTS_WITH", "chem:asp", 0.8), _fact("chem:ibu", "INTERACTS_WITH", "chem:war", 0.8),
           _fact("chem:asp", "TREATS", "dis:pain"), _fact("chem:pro", "TREATS", "dis:gout")],
          [Entity("chem:pro", "probenecid", "Chemical"), Entity("chem:ibu", "ibuprofen", "Chemical"),
           Entity("chem:asp", "aspirin", "Chemical"), Entity("chem:war", "warfarin", "Chemical"),
           Entity("dis:pain", "pain", "Disease"), Entity("dis:gout", "gout", "Disease")])
    assert _parts(answer(s, "Which drugs interact with both aspirin and warfarin, and what does it treat?")) == [
        ("Which drugs interact with both aspirin and warfarin?", ["probenecid", "ibuprofen"]),
        ("What does aspirin treat?", ["pain"])]


@pytest.mark.parametrize("maker", ["org:a", "org:b"])
def test_the_middle_of_a_chain_is_the_namesake_a_fact_links_to_the_answer(tmp_path, maker):
    """The middle of the previous part's chain ("the company" a later "it" may stand for) was found again by its
    name: of two firms named Corvane, the first the store lists, whichever made metformin."""
    from nlp.question_parts import _middle
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact(maker, "MANUFACTURES", "chem:met"), _fact("per:al", "CEO_OF", maker)],
          [Entity("org:a", "Corvane", "Organization"), Entity("org:b", "Corvane", "Organization"),
           Entity("chem:met", "metformin", "Chemical"), Entity("per:al", "Ann Lee", "Person")])
    previous = answer(s, "Who runs the company that makes metformin?")
    assert [a.text for a in previous.answers] == ["Ann Lee"]
    assert [e.id for e in _middle(s, previous)] == [maker]


@pytest.mark.parametrize("question,parts", [
    ("Who makes metformin and where are they based?",
     [("Who makes metformin?", ["Northwind Therapeutics"]), ("Where is Northwind Therapeutics based?", ["Boston"])]),
    ("Which drugs does Corvane make, and what do they treat?",
     [("Which drugs does Corvane make?", ["clopidogrel", "warfarin"]),
      ("What does clopidogrel treat?", ["acute coronary syndrome"]), ("What does warfarin treat?", ["deep vein thrombosis"])]),
])
def test_each_reading_of_a_part_is_linked_and_answered_once(store, monkeypatch, question, parts):
    """A part with a pronoun was linked up to 3 times (to weigh each reading, to see whether the graph answers it,
    to answer it) and answered twice."""
    import nlp.qa as qa
    import nlp.question_parts as question_parts

    linked, answered = Counter(), Counter()
    link, answer_one = qa.link_question, qa._answer_one
    for module in (qa, question_parts):
        monkeypatch.setattr(module, "link_question", lambda s, text: linked.update([text]) or link(s, text))
    monkeypatch.setattr(qa, "_answer_one", lambda s, text, *a, **k: answered.update([text]) or answer_one(s, text, *a, **k))
    assert _parts(answer(store, question)) == parts
    assert max(linked.values()) == 1, linked
    assert max(answered.values()) == 1, answered
