"""Questions about one entity and nothing else ("What is Ozempic?", "Who is Giulia Ferri?", "Tell me about
warfarin"): the entity described by its type, other names and best-supported facts."""
from __future__ import annotations

import re

from kg.records import Entity
from kg.store import GraphStore
from kg.views import NameCache
from nlp.answers import Answer, evidence_of
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
    evidence (an alias asked about is answered by the name it stands for: "What is Ozempic?" -> semaglutide)."""
    facts = [f for f in store.neighbours(entity.id, hops=1) if entity.id in (f.head_id, f.tail_id)]
    facts.sort(key=lambda f: (-f.confidence, -len(f.provenance), f.relation, names(f.head_id), names(f.tail_id)))
    also = f"; also {', '.join(entity.aliases[:4])}" if entity.aliases else ""
    evidence = tuple(ev for f in facts[:ABOUT_FACTS] for ev in evidence_of([f], names)[:1])
    return Answer(f"{entity.name} ({entity.type}{also})", 1.0, entity.id, evidence)
