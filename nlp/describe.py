"""Questions about one entity and nothing else ("What is Ozempic?", "Who is Giulia Ferri?", "Tell me about
warfarin"): the entity described by its type, other names and best-supported facts; a term the graph has only
narrower entities for ("cancer") by those."""
from __future__ import annotations

import re
from collections.abc import Sequence

from kg.records import Entity, Triple
from kg.store import GraphStore
from kg.views import NameCache
from nlp.answers import Answer, Evidence, evidence_of
from nlp.narrower import narrower_entities
from nlp.question_links import LinkedEntity

# what is left of a question about one entity and nothing else once the entity's name is taken out
ABOUT = re.compile(r"(?:(?:what|who)(?:'s|\s+(?:is|are|was|were))(?:\s+(?:the|an?))?|(?:please\s+)?(?:tell\s+me|what\s+do"
                   r"\s+(?:you|we)\s+know|what\s+does\s+the\s+graph\s+(?:say|know)|show\s+me\s+what\s+you\s+know)"
                   r"\s+about|describe|about|what\s+(?:does|do|did)\s+do)\s*", re.IGNORECASE)
ABOUT_FACTS = 5  # the facts shown with an entity's description


def without_entity(question: str, le: LinkedEntity) -> str:
    """The question with the entity's name taken out and its closing punctuation dropped."""
    return " ".join((question[:le.start] + " " + question[le.end:]).replace("?", " ").strip(" .!").split())


def describe(store: GraphStore, entity: Entity, names: NameCache) -> Answer:
    """"What is X?": the entity itself, named with its type and other names, and its best-supported facts as the
    evidence (an alias asked about is answered by the name it stands for: "What is Ozempic?" -> semaglutide). An
    entity with no facts of its own but narrower entities ("diabetes": "type 2 diabetes") also names those, with the
    best-supported fact of each as the evidence, as a term with no entity is described."""
    also = f"; also {', '.join(entity.aliases[:4])}" if entity.aliases else ""
    text = f"{entity.name} ({entity.type}{also})"
    facts = _best_facts(store, entity.id, names)
    if facts:
        return Answer(text, 1.0, entity.id, _first_sources(facts[:ABOUT_FACTS], names))
    narrower = narrower_entities(store, entity)
    if narrower:
        text += f"; narrower: {', '.join(n.name for n in narrower)}"
    return Answer(text, 1.0, entity.id, _narrower_evidence(store, narrower, names))


def describe_term(store: GraphStore, term: Entity, narrower: Sequence[Entity], names: NameCache) -> Answer:
    """"What is cancer?" where the graph has no entity of that name but ``narrower`` ones ("lung cancer"): the term
    described by them, the best-supported fact of each (up to ``ABOUT_FACTS``) as the evidence."""
    text = f"{term.name}: no entity of that name; narrower: {', '.join(n.name for n in narrower)}"
    return Answer(text, 1.0, None, _narrower_evidence(store, narrower, names))


def _narrower_evidence(store: GraphStore, narrower: Sequence[Entity], names: NameCache) -> tuple[Evidence, ...]:
    """The first source of the best-supported fact of each narrower entity that has one, up to ``ABOUT_FACTS``."""
    best = [facts[0] for facts in (_best_facts(store, n.id, names) for n in narrower) if facts]
    return _first_sources(best[:ABOUT_FACTS], names)


def _best_facts(store: GraphStore, entity_id: str, names: NameCache) -> list[Triple]:
    """The entity's facts, best-supported first (confidence, then number of sources)."""
    facts = [f for f in store.neighbours(entity_id, hops=1) if entity_id in (f.head_id, f.tail_id)]
    return sorted(facts, key=lambda f: (-f.confidence, -len(f.provenance), f.relation, names(f.head_id),
                                        names(f.tail_id)))


def _first_sources(facts: list[Triple], names: NameCache) -> tuple[Evidence, ...]:
    """The first source of each fact."""
    return tuple(ev for f in facts for ev in evidence_of([f], names)[:1])
