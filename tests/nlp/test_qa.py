"""Graph QA: entity linking in questions, relation and direction, two hops, no guessing."""
from __future__ import annotations

from collections import Counter

import pytest

from kg.records import Entity, Provenance, Triple
from kg.stores.sqlite import SQLiteStore
from nlp.errors import NLPError
from nlp.qa import answer
from tests.conftest import kgnlp_json, pattern_fact as _fact


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = SQLiteStore.open(tmp_path_factory.mktemp("qa") / "g.db")
    s.add([
        _fact("org:acme", "ACQUIRED", "org:beta"),
        _fact("per:ada", "CEO_OF", "org:acme"),
        _fact("per:bo", "CEO_OF", "org:beta"),
        _fact("org:acme", "HEADQUARTERED_IN", "loc:oslo"),
        _fact("chem:met", "TREATS", "dis:t2d", doc="d2"),
        _fact("chem:met", "CAUSES", "dis:la"),
        _fact("org:beta", "SUBSIDIARY_OF", "org:acme"),
    ], [
        Entity("org:acme", "Acme Robotics", "Organization", ("Acme",)),
        Entity("org:beta", "Beta Sensors", "Organization"),
        Entity("per:ada", "Ada Quint", "Person"),
        Entity("per:bo", "Bo Lind", "Person"),
        Entity("loc:oslo", "Oslo", "Location"),
        Entity("chem:met", "metformin", "Chemical", ("Glucophage",)),
        Entity("dis:t2d", "type 2 diabetes", "Disease", ("T2D",)),
        Entity("dis:la", "lactic acidosis", "Disease"),
    ])
    return s


@pytest.mark.parametrize("question,expected", [
    ("What does metformin treat?", "type 2 diabetes"),
    ("Which drugs treat T2D?", "metformin"),
    ("What are the side effects of Glucophage?", "lactic acidosis"),
    ("Who is the CEO of Acme Robotics?", "Ada Quint"),
    ("Who leads Acme?", "Ada Quint"),
    ("Who runs Beta Sensors?", "Bo Lind"),
    ("Where is Acme based?", "Oslo"),
    ("Which company acquired Beta Sensors?", "Acme Robotics"),
    ("What did Acme Robotics acquire?", "Beta Sensors"),
    ("Beta Sensors was bought by which company?", "Acme Robotics"),
    ("What is the parent company of Beta Sensors?", "Acme Robotics"),
    ("Who is the CEO of the company that acquired Beta Sensors?", "Ada Quint"),
])
def test_answers(store, question, expected):
    result = answer(store, question)
    assert result.answers and result.answers[0].text == expected, result


def test_evidence_names_the_fact_and_the_source(store):
    best = answer(store, "What does metformin treat?").answers[0]
    assert best.evidence[0].triple == ("metformin", "TREATS", "type 2 diabetes")
    assert best.evidence[0].doc == "d2"


def test_two_hop_answer_carries_both_facts(store):
    best = answer(store, "Who is the CEO of the company that acquired Beta Sensors?").answers[0]
    assert {e.triple[1] for e in best.evidence} == {"ACQUIRED", "CEO_OF"}


def test_no_answer_rather_than_a_guess(store):
    assert answer(store, "Who acquired metformin?").answers == ()
    assert answer(store, "What is Acme Robotics buying?").answers == ()  # no relation word the graph knows


def test_where_question_about_a_place_is_not_answered_with_a_firm_based_there(store):
    assert answer(store, "Where is Oslo?").answers == ()
    assert [a.text for a in answer(store, "Where is Acme based?").answers] == ["Oslo"]


def test_a_known_firm_s_name_inside_an_unknown_firm_s_name_is_not_linked(store):
    with pytest.raises(NLPError, match="No known entity"):
        answer(store, "Who is the CEO of Acme Capital?")
    assert answer(store, "Who is the CEO of Acme Holdings?").answers[0].text == "Ada Quint"  # a suffix
    assert answer(store, "Is Acme Based In Oslo?").answers[0].text == "yes"  # title case: a cue, a known name
    assert answer(store, "Who is the CEO of Acme Robo?").answers[0].text == "Ada Quint"  # its own name, cut short


def test_unknown_entity_is_an_error(store):
    with pytest.raises(NLPError, match="No known entity"):
        answer(store, "What does zorblax treat?")


@pytest.mark.parametrize("question,triples", [
    ("Does metformin treat T2D?", [("metformin", "TREATS", "type 2 diabetes")]),
    ("Is Glucophage used for type 2 diabetes?", [("metformin", "TREATS", "type 2 diabetes")]),
    ("Is type 2 diabetes treated with metformin?", [("metformin", "TREATS", "type 2 diabetes")]),
    ("Is Ada Quint the CEO of Acme Robotics?", [("Ada Quint", "CEO_OF", "Acme Robotics")]),
    ("Did Acme acquire Beta Sensors?", [("Acme Robotics", "ACQUIRED", "Beta Sensors")]),
    ("Is Ada Quint the CEO of the company that acquired Beta Sensors?",
     [("Ada Quint", "CEO_OF", "Acme Robotics"), ("Acme Robotics", "ACQUIRED", "Beta Sensors")]),
])
def test_yes_no_question_confirmed_by_a_fact_between_its_entities(store, question, triples):
    result = answer(store, question)
    assert [a.text for a in result.answers] == ["yes"], result
    assert [e.triple for e in result.answers[0].evidence] == triples


@pytest.mark.parametrize("question", [
    "Does metformin cause type 2 diabetes?",       # a fact links them, but not the one asked about
    "Is Bo Lind the CEO of Acme Robotics?",        # he runs Beta Sensors: not a list of Acme's CEOs
    "Is metformin used for lactic acidosis?",
    "Does metformin treat anything?",              # one entity: nothing to confirm
    "Does type 2 diabetes treat metformin?",       # the fact, the wrong way round
    "Is Acme Robotics the CEO of Ada Quint?",
    "Does metformin not treat type 2 diabetes?",   # negated: the fact is no "yes"
    "Doesn't metformin treat type 2 diabetes?",
])
def test_yes_no_question_without_such_a_fact_has_no_answer(store, question):
    assert answer(store, question).answers == (), question


@pytest.mark.parametrize("question,expected", [
    ("Is Ada Quint CEO at Acme Robotics?", ["yes"]),
    ("Is Ada Quint CEO for Acme Robotics?", ["yes"]),
    ("Is Ada Quint CEO at the company that acquired Beta Sensors?", ["yes"]),  # a chain
    ("Is Acme Robotics CEO at Ada Quint?", []),  # was "yes": Acme read as owning the noun, the CEO's firm
    ("Is Beta Sensors CEO for Bo Lind?", []),  # was "yes"
    ("Which company is Bo Lind CEO at?", ["Beta Sensors"]),
])
def test_at_or_for_after_a_job_noun_reads_as_its_of(store, question, expected):
    """"Is Lukas Brunner CEO at Corvane?": "at" (or "for") after a job is its "of", so the name before the noun is
    the one holding the job, not the firm that owns it."""
    assert [a.text for a in answer(store, question).answers] == expected


@pytest.mark.parametrize("question,noun,owner", [
    ("Is Lukas Brunner CEO at Corvane?", "CEO", False),
    ("Is Lukas Brunner CEO for Corvane?", "CEO", False),
    ("Is Lukas Brunner chief executive officer at Corvane?", "chief executive officer", False),
    ("Is Lukas Brunner CEO of Corvane?", "CEO", False),
    ("Which Corvane subsidiaries in Basel are there?", "subsidiaries", True),
    ("Which Corvane subsidiaries at Basel are there?", "subsidiaries", True),  # a place's "at", no "of"
    ("Who is the Corvane CEO?", "CEO", True),
])
def test_a_name_before_a_noun_owns_it_unless_the_noun_has_its_own_of(question, noun, owner):
    from nlp.question_relations import Cue, owns_noun, word_role

    start = question.index(noun)
    cue = Cue("CEO_OF" if noun != "subsidiaries" else "SUBSIDIARY_OF", start, start + len(noun), False)
    end = start - 1  # the name ends right before the noun
    assert owns_noun(question, cue, end) is owner
    if cue.relation == "CEO_OF":
        assert word_role(question, cue, end - 1, end) == ("tail" if owner else "head")


def test_brief_evidence_shows_every_fact_of_a_chain_first():
    from nlp.answers import brief_evidence

    lines = [("a", 1), ("a", 2), ("a", 3), ("b", 1)]
    assert brief_evidence(lines, key=lambda e: e[0]) == [("a", 1), ("b", 1), ("a", 2)]
    assert brief_evidence(lines[:3], key=lambda e: e[0]) == [("a", 1), ("a", 2), ("a", 3)]


def test_a_name_two_entities_share_is_the_one_the_question_asks_about(tmp_path):
    from kg.records import Entity, Provenance, Triple
    from kg.stores.sqlite import SQLiteStore

    store = SQLiteStore.open(tmp_path / "g.db")
    src = (Provenance("d", 0, 1, "s", "test"),)
    store.add([Triple("chem:hg", "CAUSES", "dis:poison", 0.9, src), Triple("org:hg", "HEADQUARTERED_IN", "loc:zh", 0.9, src)],
              [Entity("chem:hg", "Mercury", "Chemical"), Entity("org:hg", "Mercury", "Organization"),
               Entity("dis:poison", "mercury poisoning", "Disease"), Entity("loc:zh", "Zürich", "Location")])
    assert [a.text for a in answer(store, "Where is Mercury headquartered?").answers] == ["Zürich"]
    assert [a.text for a in answer(store, "What does Mercury cause?").answers] == ["mercury poisoning"]


def test_how_many_counts_what_the_graph_holds_with_a_source_for_each(store):
    result = answer(store, "How many drugs treat type 2 diabetes?")
    names = {a.text for a in answer(store, "Which drugs treat type 2 diabetes?").answers}
    (count,) = result.answers
    assert count.text == str(len(names)) and len(names) >= 1
    assert {e.triple[0] for e in count.evidence} == names


def test_eval_qa_reads_one_answer_as_a_string_and_refuses_rows_without_a_question(tmp_path, store):
    from nlp.errors import NLPError
    from nlp.evaluation import evaluate_qa

    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "What does metformin treat?", "answers": "type 2 diabetes"}\n', encoding="utf-8")
    assert evaluate_qa(store, path).exact_match == 1.0  # was scored letter by letter: 0.0
    for row in ('{"answers": ["x"]}', '{"question": "Q?"}', '{"question": "Q?", "answers": [1]}'):
        path.write_text(row + "\n", encoding="utf-8")
        with pytest.raises(NLPError, match="qa.jsonl:1: expected"):
            evaluate_qa(store, path)


def test_association_is_read_both_ways_and_shown_as_stored(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("dis:ob", "ASSOCIATED_WITH", "dis:ht"), _fact("dis:sj", "ASSOCIATED_WITH", "dis:dry")],
          [Entity("dis:ob", "obesity", "Disease"), Entity("dis:ht", "hypertension", "Disease"),
           Entity("dis:sj", "Sjogren syndrome", "Disease"), Entity("dis:dry", "dry eyes", "Disease")])
    for question in ("What is associated with obesity?", "What is obesity associated with?"):
        assert [a.text for a in answer(s, question).answers] == ["hypertension"], question
    best = answer(s, "What is associated with hypertension?").answers[0]
    assert best.text == "obesity" and best.evidence[0].triple == ("obesity", "ASSOCIATED_WITH", "hypertension")
    assert [a.text for a in answer(s, "Is hypertension associated with obesity?").answers] == ["yes"]
    assert [a.text for a in answer(s, "What conditions are linked to hypertension?").answers] == ["obesity"]
    # stored as "Sjogren syndrome ASSOCIATED_WITH dry eyes" or, from "Dry eyes are associated with Sjogren
    # syndrome", the other way round: the symptom is found either way
    assert [a.text for a in answer(s, "What are the symptoms of Sjogren syndrome?").answers] == ["dry eyes"]
    assert [a.text for a in answer(s, "Is dry eyes a symptom of Sjogren syndrome?").answers] == ["yes"]


@pytest.mark.parametrize("question,expected", [
    ("What are Acme's subsidiaries?", ["Beta Sensors"]),           # = the subsidiaries of Acme
    ("What is Beta Sensors' parent company?", ["Acme Robotics"]),  # = the parent company of Beta Sensors
    ("Who is Beta Sensors\u2019 owner?", ["Acme Robotics"]),
    ("What were Acme's acquisitions?", ["Beta Sensors"]),          # an action noun: what Acme acquired
    ("What are Beta Sensors' acquisitions?", []),
    ("What are the Acme subsidiaries?", ["Beta Sensors"]),         # the name before the noun: as its "of"
    ("What is the Beta Sensors parent company?", ["Acme Robotics"]),
    ("Which firm is Beta Sensors subsidiary of?", ["Acme Robotics"]),  # a noun with an "of" of its own
])
def test_a_possessive_before_a_cue_noun_reads_as_its_of(store, question, expected):
    assert [a.text for a in answer(store, question).answers] == expected


@pytest.mark.parametrize("question,expected", [
    ("Which company acquired by Acme Robotics is run by Bo Lind?", ["Beta Sensors"]),
    ("Which drug that treats T2D causes lactic acidosis?", ["metformin"]),
    ("Which company based in Oslo acquired Beta Sensors?", ["Acme Robotics"]),  # not also Bo Lind, Beta's CEO
    ("How many drugs that treat T2D cause lactic acidosis?", ["1"]),
])
def test_the_entity_between_two_named_ones_answers_a_question_with_two_conditions(store, question, expected):
    result = answer(store, question)
    assert [a.text for a in result.answers] == expected, result
    if not question.startswith("How many"):  # a count shows one source per thing counted
        assert len({e.triple for e in result.answers[0].evidence}) == 2  # both conditions' facts


@pytest.mark.parametrize("question,expected", [
    ("Which subsidiary of Acme is based in Bergen?", ["Beta Sensors"]),
    ("Which subsidiary of Acme is headquartered in Bergen?", ["Beta Sensors"]),
    ("Which unit of Acme is now located in Bergen?", ["Beta Sensors"]),
    ("Which parent of Beta Sensors is based in Oslo?", ["Acme Robotics"]),
    ("Which subsidiary of Acme is in Bergen?", ["Beta Sensors"]),
    ("Which subsidiary of Acme is based in Oslo?", []),  # was "Bergen": past the condition no subsidiary meets
    # the name before the noun, as its "of" ("Which Corvane subsidiary is based in Basel?" had no answer)
    ("Which Acme subsidiary is based in Bergen?", ["Beta Sensors"]),
    ("Which Acme subsidiary is in Bergen?", ["Beta Sensors"]),
    ("Which Beta Sensors parent is based in Oslo?", ["Acme Robotics"]),
    ("Which Acme subsidiary is based in Oslo?", []),
    # from the place, the firm based there was read as the owner's parent: Beta Sensors' parent is in Oslo, Acme's
    # subsidiary in Bergen, and no one meets both conditions
    ("Which Beta Sensors subsidiary is based in Oslo?", []),  # was "Acme Robotics"
    ("Which of Beta Sensors' subsidiaries is based in Oslo?", []),  # was "Acme Robotics"
    ("Which Beta Sensors subsidiary is in Oslo?", []),  # was "Acme Robotics"
    ("How many Beta Sensors subsidiaries are based in Oslo?", []),  # was "1"
    ("Which Acme parent is based in Bergen?", []),  # was "Beta Sensors"
    ("Which of Acme's subsidiaries is based in Bergen?", ["Beta Sensors"]),
    # the conditions the other way round
    ("Which company based in Bergen is an Acme subsidiary?", ["Beta Sensors"]),
    ("Which company based in Oslo is a Beta Sensors subsidiary?", []),
])
def test_which_noun_of_x_is_based_in_y_is_read_from_both_names(store, tmp_path, question, expected):
    """"Which subsidiary of Corvane is based in Basel?" had no answer: from Corvane "based" came first (its start is
    nearer), Corvane's own city; from Basel the firm based there was read as the subsidiary's parent."""
    result = answer(_with_bergen(store, tmp_path), question)
    assert [a.text for a in result.answers] == expected, result
    if expected:
        assert {e.triple[1] for e in result.answers[0].evidence} == {"SUBSIDIARY_OF", "HEADQUARTERED_IN"}


def _with_bergen(store, tmp_path) -> SQLiteStore:
    """The QA graph's firms, with Beta Sensors (Acme's subsidiary) based in Bergen."""
    s = SQLiteStore.open(tmp_path / "g.db")
    firms = [store.entity(t) for t in ("org:acme", "org:beta", "loc:oslo")]
    s.add([*store.triples(), _fact("org:beta", "HEADQUARTERED_IN", "loc:bergen")],
          [*firms, Entity("loc:bergen", "Bergen", "Location")])
    return s


@pytest.mark.parametrize("question,expected", [
    # "unit" was a cue only in "unit of": Acme's own city, and any firm based in Bergen
    ("Which Acme unit is based in Bergen?", ["Beta Sensors"]),  # was Oslo, Beta Sensors
    ("Which Acme division is based in Bergen?", ["Beta Sensors"]),  # was Oslo, Beta Sensors
    ("Which of Acme's units is based in Bergen?", ["Beta Sensors"]),  # was Oslo, Beta Sensors
    ("Which company based in Bergen is an Acme unit?", ["Beta Sensors"]),  # was Beta Sensors, Oslo
    ("How many Acme units are based in Bergen?", ["1"]),  # was 2
    ("Which Beta Sensors unit is based in Oslo?", []),  # was Bergen, Acme Robotics
    # a noun the reading does not know: what an Acme plant is, the graph does not say
    ("Which Acme plant is based in Bergen?", []),  # was Oslo, Beta Sensors
    ("Which Acme team is based in Bergen?", []),  # was Oslo, Beta Sensors
    ("Which Acme affiliate is located in Bergen?", []),  # was Oslo, Beta Sensors
    ("Which company based in Bergen is an Acme plant?", []),  # was Beta Sensors, Oslo
    # after a question word too: the graph says where Acme is, not where its plant is
    ("Where is the Acme plant?", []),  # was Oslo
    ("Where is Acme's plant?", []),  # was Oslo
    ("Where is the Acme plant located?", []),  # was Oslo
    ("What is the Acme plant?", []),
    # where a firm's office is, is where the firm is
    ("Where is the Acme office?", ["Oslo"]),
    ("Where are the Acme offices?", ["Oslo"]),
    ("Where is Acme's main office?", ["Oslo"]),
    ("Where is the Acme office located?", ["Oslo"]),
    ("Where is the Acme headquarters?", ["Oslo"]),
    ("Where is the Acme HQ?", ["Oslo"]),
    ("Where is Acme based?", ["Oslo"]),
    ("Where is Acme located today?", ["Oslo"]),
    # the firm's own generic noun or legal suffix, or a verb that names it, is the firm itself: no other noun
    ("Where is the Acme company based?", ["Oslo"]),  # gave none
    ("Where is the Acme Robotics company?", ["Oslo"]),  # gave none
    ("Where is the Acme Robotics group?", ["Oslo"]),  # gave none
    ("Where is the Acme firm located?", ["Oslo"]),  # gave none
    ("Where is Acme Robotics Inc?", ["Oslo"]),  # gave none
    ("What is the Acme Robotics CEO called?", ["per:ada"]),  # gave none (the Bergen graph has no people's names)
    ("Who is the Acme CEO named?", ["per:ada"]),  # gave none
    ("Where is the Acme parent?", []),  # a firm noun that is another firm: not Acme itself
    # after a question word a firm word asks for another firm, never Acme itself (Oslo, where Acme is)
    ("Which Acme company is based in Bergen?", []),
    ("Which Acme business is based in Bergen?", []),
    ("What Acme group is based in Bergen?", []),
    ("Where is Acme's company based?", []),  # a firm Acme owns, not Acme: was Oslo
    ("Where is Acme\u2019s business based?", []),
])
def test_a_noun_a_name_owns_is_read_or_gives_no_answer(store, tmp_path, question, expected):
    """"Which Acme unit is based in Bergen?" answered Oslo (where Acme is) and Beta Sensors (which is in Bergen):
    "Acme" was read as the firm asked about, past a noun the reading did not know."""
    result = answer(_with_bergen(store, tmp_path), question)
    assert [a.text for a in result.answers] == expected, result


@pytest.mark.parametrize("question", ["What is the Acme Robotics CEO called?", "Who is the Acme CEO named?",
                                      "Who is the CEO of Acme Robotics Inc?"])
def test_a_verb_that_names_the_answer_is_no_noun_the_name_owns(store, question):
    assert [a.text for a in answer(store, question).answers] == ["Ada Quint"]  # the first two gave none


def _with_bergen_ceos(store, tmp_path) -> SQLiteStore:
    """The Bergen graph with its CEOs, and two firms more: Gamma Optics, another subsidiary of Acme in Bergen (not
    one Acme acquired), run by Cy Dahl; and Cobalt Labs in Oslo, run by Ann Berg."""
    s = _with_bergen(store, tmp_path)
    s.add([_fact("org:gamma", "SUBSIDIARY_OF", "org:acme"), _fact("org:gamma", "HEADQUARTERED_IN", "loc:bergen"),
           _fact("per:cy", "CEO_OF", "org:gamma"), _fact("org:cobalt", "HEADQUARTERED_IN", "loc:oslo"),
           _fact("per:ann", "CEO_OF", "org:cobalt")],
          [store.entity("per:ada"), store.entity("per:bo"), Entity("org:gamma", "Gamma Optics", "Organization"),
           Entity("per:cy", "Cy Dahl", "Person"), Entity("org:cobalt", "Cobalt Labs", "Organization"),
           Entity("per:ann", "Ann Berg", "Person")])
    return s


@pytest.mark.parametrize("question,expected", [
    # two Acme subsidiaries are in Bergen; the third condition keeps the one Bo Lind runs
    ("Which subsidiary of Acme that is based in Bergen is run by Bo Lind?", ["Beta Sensors"]),  # was none
    ("Which company based in Bergen and owned by Acme is run by Bo Lind?", ["Beta Sensors"]),  # was none
    ("Which subsidiary of Acme that is based in Bergen is run by Cy Dahl?", ["Gamma Optics"]),
    ("How many subsidiaries of Acme that are based in Bergen are run by Bo Lind?", ["1"]),
    # a third condition no answer of the other two meets: Ann Berg runs a firm in Oslo that Acme does not own
    ("Which subsidiary of Acme that is based in Bergen is run by Ann Berg?", []),
    ("Which company based in Bergen and owned by Acme is run by Ann Berg?", []),
    ("Which subsidiary of Acme that is based in Oslo is run by Bo Lind?", []),
])
def test_a_third_condition_on_the_answer_keeps_the_answers_that_meet_it(store, tmp_path, question, expected):
    """A question with three relations gave no answer: a chain reads two of them. The answers of those two that
    stand in the third to its name are kept, with its fact as evidence too."""
    result = answer(_with_bergen_ceos(store, tmp_path), question)
    assert [a.text for a in result.answers] == expected, result
    if expected and not question.startswith("How many"):
        assert {e.triple[1] for e in result.answers[0].evidence} == {"SUBSIDIARY_OF", "HEADQUARTERED_IN", "CEO_OF"}


@pytest.mark.parametrize("question,expected", [
    # the answer is the CEO of the company the other two conditions meet: Beta Sensors (Acme acquired it; Gamma
    # Optics, also in Bergen, it did not), not the company itself
    ("Who is the CEO of the company based in Bergen that Acme acquired?", ["Bo Lind"]),  # was none, once Beta Sensors
    ("Who is the CEO of the Acme unit based in Bergen?", ["Bo Lind", "Cy Dahl"]),  # was none
    ("Where is the company that Acme acquired and Bo Lind runs?", ["Bergen"]),
    ("Who is the CEO of the company based in Oslo that Acme acquired?", []),
    # a relation no name is a condition of, and not the one the question asks first: no chain reads it
    ("Who is the CEO of the company that acquired the firm that owns Beta Sensors?", []),
])
def test_a_relation_from_what_two_conditions_meet_answers_beyond_it(store, tmp_path, question, expected):
    result = answer(_with_bergen_ceos(store, tmp_path), question)
    assert sorted(a.text for a in result.answers) == expected, result
    for a in result.answers:
        assert len({e.triple for e in a.evidence}) == 3  # both conditions' facts and the one to the answer


@pytest.mark.parametrize("question,expected", [
    ("Which company that Acme acquired acquired Gamma Optics?", []),  # was Beta Sensors, which acquired nothing
    ("Which company that Acme acquired is run by Bo Lind?", ["Beta Sensors"]),
    ("Which company based in Oslo is based in Bergen?", []),  # was every firm in either
    ("Where is Acme headquartered?", ["Oslo"]),  # one relation named twice: one condition
    ("Which company acquired the company that acquired Beta Sensors?", []),  # was Acme Robotics, which acquired it
])
def test_a_relation_named_twice_with_a_name_each_is_two_conditions(store, tmp_path, question, expected):
    """The second cue of a relation was dropped ("where is X headquartered" names one twice), and its name with
    it: the answers of the first condition alone."""
    result = answer(_with_bergen_ceos(store, tmp_path), question)
    assert [a.text for a in result.answers] == expected, result


@pytest.mark.parametrize("question", [
    "Who is the CEO of the Acme subsidiary that Bo Lind runs?",  # was Beta Sensors, a company
    "Who is the CEO of the unit of Acme that Bo Lind runs?",  # was Beta Sensors
    "Who is the CEO of the company that Bo Lind runs?",  # was Beta Sensors
    "Who is the CEO of the Acme unit that Bo Lind runs?",
])
def test_a_relation_named_again_in_a_relative_clause_is_a_condition_not_the_same_one(store, tmp_path, question):
    """The second "CEO" relation ("runs") was dropped as the first named twice, its name read as the first's: the
    firm Bo Lind runs was answered for its CEO. It is a condition on the firm, whose CEO (Bo Lind himself, a name the
    question gives) is no answer."""
    assert answer(_with_bergen_ceos(store, tmp_path), question).answers == ()


@pytest.mark.parametrize("question,expected", [
    ("Is Bo Lind the CEO of the Acme unit based in Bergen?", ["yes"]),  # all four: no answer before
    ("Does Bo Lind run the Acme unit based in Bergen?", ["yes"]),
    ("Is the Acme unit based in Bergen run by Bo Lind?", ["yes"]),
    ("Is Beta Sensors an Acme unit based in Bergen and run by Bo Lind?", ["yes"]),
    ("Is Bo Lind the CEO of the company based in Bergen that Acme acquired?", ["yes"]),
    # no firm meets all three: Ann Berg's is in Oslo and no unit of Acme, Gamma Optics is not run by Bo Lind,
    # and Acme did not acquire the one Cy Dahl runs
    ("Is Ann Berg the CEO of the Acme unit based in Bergen?", []),
    ("Is Bo Lind the CEO of the Acme unit based in Oslo?", []),
    ("Is Gamma Optics an Acme unit based in Bergen and run by Bo Lind?", []),
    ("Is the Acme unit based in Oslo run by Bo Lind?", []),
    ("Is Cy Dahl the CEO of the company based in Bergen that Acme acquired?", []),
    ("Is Bo Lind not the CEO of the Acme unit based in Bergen?", []),  # negated: as before
])
def test_a_yes_no_question_with_three_relations_is_confirmed_by_a_chain_that_meets_them_all(store, tmp_path, question,
                                                                                            expected):
    result = answer(_with_bergen_ceos(store, tmp_path), question)
    assert [a.text for a in result.answers] == expected, result
    if expected:
        assert {e.triple[1] for e in result.answers[0].evidence} == set(result.relations)
        assert len({e.triple for e in result.answers[0].evidence}) == 3


@pytest.mark.parametrize("question", ["Which city is the Acme office in?", "Which city is Acme in?",
                                      "In which city is Acme based?", "What city is Acme headquartered in?",
                                      "Which city is Acme's office located in?"])
def test_which_city_asks_where_a_firm_is(store, tmp_path, question):
    """"Which city is the Acme office in?" had no answer ("Where is Acme's office?" had Oslo): no relation word."""
    assert [a.text for a in answer(_with_bergen(store, tmp_path), question).answers] == ["Oslo"]


@pytest.mark.parametrize("question,expected", [
    ("Which city is the Acme plant in?", []),  # a noun the reading does not know, as after "where"
    ("Which cities are Acme's units in?", ["Bergen"]),
    ("Which city is Ada Quint from?", []),  # a person is based nowhere
])
def test_which_city_reads_like_where(store, tmp_path, question, expected):
    assert [a.text for a in answer(_with_bergen_ceos(store, tmp_path), question).answers] == expected


def _drug_makers(tmp_path) -> SQLiteStore:
    """Acme makes warfarin, clopidogrel, metformin (which treats type 2 diabetes and causes lactic acidosis) and
    semaglutide (which treats it too); Beta Sensors makes warfarin and xylomab (which treats it and causes lactic
    acidosis). No entity is named "diabetes": a broad term, with type 2 diabetes narrower."""
    s = SQLiteStore.open(tmp_path / "makers.db")
    s.add([_fact("org:acme", "MANUFACTURES", "chem:w"), _fact("org:acme", "MANUFACTURES", "chem:c"),
           _fact("org:acme", "MANUFACTURES", "chem:met"), _fact("org:acme", "MANUFACTURES", "chem:sema"),
           _fact("org:beta", "MANUFACTURES", "chem:w"), _fact("org:beta", "MANUFACTURES", "chem:x"),
           _fact("chem:met", "TREATS", "dis:t2d"), _fact("chem:sema", "TREATS", "dis:t2d"),
           _fact("chem:x", "TREATS", "dis:t2d"), _fact("chem:met", "CAUSES", "dis:la"),
           _fact("chem:x", "CAUSES", "dis:la")],
          [Entity("org:acme", "Acme Robotics", "Organization", ("Acme",)),
           Entity("org:beta", "Beta Sensors", "Organization"), Entity("chem:w", "warfarin", "Chemical"),
           Entity("chem:c", "clopidogrel", "Chemical"), Entity("chem:met", "metformin", "Chemical"),
           Entity("chem:sema", "semaglutide", "Chemical"), Entity("chem:x", "xylomab", "Chemical"),
           Entity("dis:t2d", "type 2 diabetes", "Disease"), Entity("dis:la", "lactic acidosis", "Disease")])
    return s


@pytest.mark.parametrize("question,expected", [
    # the broad term as a later condition: no answer before (only its first place read narrower entities)
    ("Which drug made by Acme that causes lactic acidosis treats diabetes?", ["metformin (treats type 2 diabetes)"]),
    ("Which drug that causes lactic acidosis and is made by Acme treats diabetes?",
     ["metformin (treats type 2 diabetes)"]),
    ("Does the drug made by Acme that causes lactic acidosis treat diabetes?", ["yes (via type 2 diabetes)"]),
    ("Which drug that treats diabetes and causes lactic acidosis is made by Acme?", ["metformin (via type 2 diabetes)"]),
    ("Which drug made by Acme that causes lactic acidosis treats type 2 diabetes?", ["metformin"]),
    ("Which drug made by Beta Sensors that treats diabetes causes lactic acidosis?", ["xylomab (via type 2 diabetes)"]),
])
def test_a_broad_term_as_a_later_condition_is_met_through_its_narrower_entities(tmp_path, question, expected):
    result = answer(_drug_makers(tmp_path), question)
    assert [a.text for a in result.answers] == expected, result
    assert {e.triple[1] for e in result.answers[0].evidence} == {"MANUFACTURES", "CAUSES", "TREATS"}


def test_else_after_a_chain_back_to_the_named_entity_leaves_that_entity_out(tmp_path):
    """"What else does the company that makes warfarin make?" had no answer: the second "make" was dropped as the
    first named twice, and "else" asked for the narrower entities' answers alone."""
    s = _drug_makers(tmp_path)
    got = answer(s, "What else does the company that makes warfarin make?").answers
    assert sorted(a.text for a in got) == ["clopidogrel", "metformin", "semaglutide", "xylomab"]
    assert all(e.triple[0] in ("Acme Robotics", "Beta Sensors") for a in got for e in a.evidence)
    assert [a.text for a in answer(s, "What else does the company that makes xylomab make?").answers] == ["warfarin"]
    assert answer(s, "What else does Acme make?").answers == ()  # one hop: "else" still asks beyond the direct ones


def test_a_drug_that_treats_one_disease_and_also_another_treats_both(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:met", "TREATS", "dis:t2d"), _fact("chem:sema", "TREATS", "dis:t2d"),
           _fact("chem:sema", "TREATS", "dis:ob")],
          [Entity("chem:met", "metformin", "Chemical"), Entity("chem:sema", "semaglutide", "Chemical"),
           Entity("dis:t2d", "type 2 diabetes", "Disease"), Entity("dis:ob", "obesity", "Disease"),
           Entity("dis:la", "lactic acidosis", "Disease")])
    for question in ("Which drug that treats type 2 diabetes also treats obesity?",
                     "Which drugs treat type 2 diabetes and treat obesity?"):
        assert [a.text for a in answer(s, question).answers] == ["semaglutide"], question  # was also metformin
    assert answer(s, "Which drug that treats obesity also treats lactic acidosis?").answers == ()  # was semaglutide


def test_a_relation_named_again_for_a_name_after_it_is_a_second_hop(tmp_path):
    """"Which drugs are made by the company that makes warfarin?" answered the company: the second "make" was
    dropped as the one relation named twice."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:cv", "MANUFACTURES", "chem:w"), _fact("org:cv", "MANUFACTURES", "chem:c"),
           _fact("org:nw", "MANUFACTURES", "chem:m")],
          [Entity("org:cv", "Corvane", "Organization"), Entity("org:nw", "Northwind", "Organization"),
           Entity("chem:w", "warfarin", "Chemical"), Entity("chem:c", "clopidogrel", "Chemical"),
           Entity("chem:m", "metformin", "Chemical")])
    best = answer(s, "Which drugs are made by the company that makes warfarin?").answers
    assert [a.text for a in best] == ["clopidogrel"]  # was Corvane
    assert [e.triple for e in best[0].evidence] == [("Corvane", "MANUFACTURES", "warfarin"),
                                                    ("Corvane", "MANUFACTURES", "clopidogrel")]
    assert answer(s, "Which drugs are made by the company that makes metformin?").answers == ()  # was Northwind


@pytest.mark.parametrize("question", ["Which subsidiary of Acme Robotics is based in Oslo?",
                                      "Which subsidiary of Acme Robotics is in Oslo?"])
def test_a_firm_based_in_the_place_is_not_read_as_the_parent_of_the_subsidiary_asked_for(store, question):
    """From Oslo, Acme (based there) was read as the parent in "subsidiary of Acme": Beta Sensors, which is not in
    Oslo; "is in Oslo" beside another cue was no condition at all."""
    result = answer(store, question)
    assert [a.text for a in result.answers] == []  # Beta Sensors was answered; no subsidiary of Acme is in Oslo


def test_owning_a_stake_or_shares_is_an_investment_not_ownership(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:hc", "INVESTED_IN", "org:nw"), _fact("org:nw", "SUBSIDIARY_OF", "org:big")],
          [Entity("org:hc", "Halvorsen Capital", "Organization"), Entity("org:nw", "Northwind", "Organization"),
           Entity("org:big", "Bigco", "Organization")])
    assert [a.text for a in answer(s, "Does Halvorsen Capital own a 9% stake in Northwind?").answers] == ["yes"]
    assert [a.text for a in answer(s, "Who owns shares in Northwind?").answers] == ["Halvorsen Capital"]
    assert [a.text for a in answer(s, "Who are Northwind's shareholders?").answers] == ["Halvorsen Capital"]
    assert [a.text for a in answer(s, "Who owns Northwind?").answers] == ["Bigco"]  # ownership still reads


def test_an_interaction_is_no_yes_to_whether_two_drugs_can_be_combined(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:w", "INTERACTS_WITH", "chem:a")],
          [Entity("chem:w", "warfarin", "Chemical"), Entity("chem:a", "aspirin", "Chemical")])
    for question in ("Can warfarin be combined with aspirin?", "Can warfarin be taken with aspirin?",
                     "Is warfarin safe to mix with aspirin?"):
        assert answer(s, question).answers == (), question
    assert [a.text for a in answer(s, "Does warfarin interact with aspirin?").answers] == ["yes"]
    assert [a.text for a in answer(s, "What should warfarin not be combined with?").answers] == ["aspirin"]


@pytest.mark.parametrize("question,expected", [
    ("Which companies are in Oslo?", ["Acme Robotics"]),
    ("What firms are from Oslo?", ["Acme Robotics"]),
    ("Is Acme in Oslo?", ["yes"]),
    ("Is Beta Sensors in Oslo?", []),
    ("Which drugs are made in Oslo?", []),  # another cue: no place question
])
def test_a_place_after_in_asks_where_firms_are_based(store, question, expected):
    assert [a.text for a in answer(store, question).answers] == expected


def test_where_a_drug_is_made_takes_the_maker_first_then_where_it_is(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:nw", "MANUFACTURES", "chem:met"), _fact("org:nw", "HEADQUARTERED_IN", "loc:bos")],
          [Entity("org:nw", "Northwind", "Organization"), Entity("chem:met", "metformin", "Chemical"),
           Entity("loc:bos", "Boston", "Location")])
    for question in ("Where is metformin made?", "Where is the company that makes metformin based?"):
        assert [a.text for a in answer(s, question).answers] == ["Boston"], question


@pytest.mark.parametrize("question,expected", [
    ("What doesn't Acme Robotics acquire?", []),               # the graph holds what happened, not what did not
    ("Which companies did Acme not acquire?", []),
    ("Who is not the CEO of Acme Robotics?", []),
    ("What did Acme Robotics acquire?", ["Beta Sensors"]),
])
def test_a_negated_question_gets_no_answer(store, question, expected):
    assert [a.text for a in answer(store, question).answers] == expected


def test_what_should_not_be_combined_with_a_drug_asks_for_its_interactions_and_link_is_an_association(tmp_path):
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("chem:w", "INTERACTS_WITH", "chem:a"), _fact("dis:ob", "ASSOCIATED_WITH", "dis:ht")],
          [Entity("chem:w", "warfarin", "Chemical"), Entity("chem:a", "aspirin", "Chemical"),
           Entity("dis:ob", "obesity", "Disease"), Entity("dis:ht", "hypertension", "Disease")])
    for question in ("What should warfarin not be combined with?", "Which drugs can't be taken with warfarin?"):
        assert [a.text for a in answer(s, question).answers] == ["aspirin"], question
    assert [a.text for a in answer(s, "Is there a link between obesity and hypertension?").answers] == ["yes"]


@pytest.mark.parametrize("question,expected", [
    ("Who are the executives at Acme Robotics?", ["Ada Quint"]),
    ("Who is Beta Sensors' top executive?", ["Bo Lind"]),
    ("Which company is Ada Quint an executive of?", ["Acme Robotics"]),
])
def test_an_executive_is_asked_about_like_a_chief_executive(store, question, expected):
    assert [a.text for a in answer(store, question).answers] == expected


@pytest.mark.parametrize("question", ["What is Glucophage?", "what's metformin", "Tell me about metformin.",
                                      "What do you know about Glucophage?", "Describe metformin",
                                      "What does metformin do?"])  # "do": no answer before
def test_a_question_about_one_entity_describes_it_with_its_facts(store, question):
    """"What is X?" asks for X itself: its name (an alias asked about gives the name it stands for), type and
    other names, with its facts as the evidence; it used to find no answer."""
    [a] = answer(store, question).answers
    assert a.text == "metformin (Chemical; also Glucophage)" and a.entity_id == "chem:met"
    assert {e.triple for e in a.evidence} == {("metformin", "TREATS", "type 2 diabetes"),
                                             ("metformin", "CAUSES", "lactic acidosis")}


def test_a_question_about_one_entity_with_a_relation_word_still_asks_for_the_relation(store):
    assert [a.text for a in answer(store, "What is metformin used to treat?").answers] == ["type 2 diabetes"]
    assert [a.text for a in answer(store, "Who is the CEO of Acme?").answers] == ["Ada Quint"]
    assert answer(store, "Is Ada Quint?").answers == ()  # a yes/no question is never a description
    [acme] = answer(store, "Tell me about Acme Robotics").answers  # no answer before: now the entity, its facts
    assert acme.text == "Acme Robotics (Organization; also Acme)" and len(acme.evidence) == 4


def test_names_written_without_accents_possessives_or_with_roman_numerals_link_end_to_end(tmp_path):
    from nlp.ingest import ingest_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Hydroxychloroquine is used to treat Sjogren syndrome in many patients.\n")
    (docs / "b.txt").write_text("Metformin remains a first-line treatment for type II diabetes.\n")
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([], [Entity("dis:sjogren", "Sjögren's syndrome", "Disease"), Entity("dis:t2d", "type 2 diabetes", "Disease"),
               Entity("chem:hcq", "hydroxychloroquine", "Chemical"), Entity("chem:met", "metformin", "Chemical")])
    ingest_paths(s, [docs])
    assert {t.key for t in s.triples()} == {("chem:hcq", "TREATS", "dis:sjogren"), ("chem:met", "TREATS", "dis:t2d")}
    assert [a.text for a in answer(s, "What treats sjogren syndrome?").answers] == ["hydroxychloroquine"]
    assert [a.text for a in answer(s, "What does hydroxychloroquine treat?").answers] == ["Sjögren's syndrome"]
    assert [a.text for a in answer(s, "Which drugs treat type II diabetes?").answers] == ["metformin"]
    s.close()


def test_a_side_effect_named_before_its_cause_is_confirmed_by_the_fact(store):
    """"Is X a side effect of Y?" names the effect first; it found no answer (the effect read as the cause)."""
    assert [a.text for a in answer(store, "Is lactic acidosis a side effect of metformin?").answers] == ["yes"]
    assert answer(store, "Is metformin a side effect of lactic acidosis?").answers == ()
    assert [a.text for a in answer(store, "Which drugs have lactic acidosis as a side effect?").answers] == ["metformin"]


@pytest.mark.parametrize("question,expected", [
    ("What are the side effects of T2D drugs?", ["lactic acidosis"]),  # was: what causes T2D (nothing)
    ("Which type 2 diabetes medications cause lactic acidosis?", ["metformin"]),
    ("What are the side effects of T2D?", []),  # no drug noun: as before
])
def test_a_disease_before_drugs_names_the_drugs_that_treat_it(store, question, expected):
    assert [a.text for a in answer(store, question).answers] == expected


@pytest.mark.parametrize("question,expected", [
    ("Which Acme drugs treat T2D?", ["metformin"]),  # was also semaglutide, which Beta Sensors makes
    ("What are the side effects of Acme drugs?", ["lactic acidosis"]),
    ("Which Beta Sensors drugs treat T2D?", ["semaglutide"]),
    ("Which Acme drugs cause T2D?", []),
    ("Which of Acme's drugs treat T2D?", ["metformin"]),  # a possessive too
])
def test_a_maker_before_drugs_names_the_drugs_it_makes(tmp_path, question, expected):
    """"Which Northwind drugs treat type 2 diabetes?" answered every drug that treats it: the maker was no
    condition."""
    s = SQLiteStore.open(tmp_path / "g.db")
    s.add([_fact("org:acme", "MANUFACTURES", "chem:met"), _fact("org:beta", "MANUFACTURES", "chem:sema"),
           _fact("chem:met", "TREATS", "dis:t2d"), _fact("chem:sema", "TREATS", "dis:t2d", 0.8),
           _fact("chem:met", "CAUSES", "dis:la")],
          [Entity("org:acme", "Acme Robotics", "Organization", ("Acme",)),
           Entity("org:beta", "Beta Sensors", "Organization"), Entity("chem:met", "metformin", "Chemical"),
           Entity("chem:sema", "semaglutide", "Chemical"), Entity("dis:t2d", "type 2 diabetes", "Disease", ("T2D",)),
           Entity("dis:la", "lactic acidosis", "Disease")])
    assert [a.text for a in answer(s, question).answers] == expected


@pytest.mark.parametrize("question,expected", [
    ("Which Corvane subsidiary is based in Basel?", ["Meridale Labs"]),
    ("Which company based in Basel is a Corvane subsidiary?", ["Meridale Labs"]),  # the conditions the other way
    ("Which Northwind drugs treat type 2 diabetes?", ["metformin"]),
    ("Is Lukas Brunner CEO at Corvane?", ["yes"]),
    ("Is Lukas Brunner CEO for Corvane?", ["yes"]),
    ("Is Corvane CEO at Lukas Brunner?", []),  # was "yes"
])
def test_a_name_before_the_noun_on_the_sample_data(sample_ws, question, expected):
    """The sample graph: no answer to the first, and semaglutide (which Northwind does not make) in the second."""
    got = kgnlp_json("ask", question, "-w", str(sample_ws))["answers"]
    assert [a["text"] for a in got] == expected


def test_a_question_searches_each_of_its_words_once_and_no_phrase(store, monkeypatch):
    """Every phrase of up to 8 words was searched for a name (37 searches for "Which drugs that treat type 2 diabetes
    cause lactic acidosis?"), a compound question's parts' phrases again, and terms' narrower entities once more; now
    each word is searched once and the phrases that hold it are found among its matches."""
    searched = Counter()
    find = store.find_entities
    monkeypatch.setattr(store, "find_entities", lambda name, limit=10: searched.update([name]) or find(name, limit))
    result = answer(store, "What does metformin treat and who leads Acme Robotics?")
    assert [a.text for a in result.answers] == ["type 2 diabetes", "Ada Quint"]
    assert searched == Counter(["metformin", "treat", "leads", "Acme", "Robotics"])
