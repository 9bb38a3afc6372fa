"""A document's defined terms as the entities they stand for, and their carrying from one part of a long file to the
next.

"Northwind Therapeutics, Inc. (the “Company”)" makes "the Company" Northwind Therapeutics (``nlp.abbreviations``
finds the definition, the linker links the long form). A filing longer than a document can be is read in parts
(``nlp.loaders``), and the definition sits in the first: the later parts' "the Company" was made an entity 'Company'
of its own. The extractor hands each part the terms its file's earlier parts defined.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

from kg.records import Mention
from nlp.abbreviations import Abbreviation, definitions

Terms = Mapping[str, Mention]  # a defined short form -> the linked mention of its long form


def long_form_mention(definition: Abbreviation, mentions: Sequence[Mention]) -> Mention | None:
    """The linked mention that overlaps ``definition``'s long form, else None."""
    return next((p for p in mentions if p.entity_id and p.start < definition.long_end
                 and definition.long_start < p.end), None)


def as_term(m: Mention, long: Mention) -> Mention:
    """``m``, a defined term, linked to the entity of its long form's mention ``long``."""
    return Mention(m.start, m.end, m.text, long.label, long.entity_id, round(m.score * 0.9, 3))


def defined_terms(text: str, mentions: Sequence[Mention]) -> dict[str, Mention]:
    """The short forms ``text`` defines whose long form is among its linked ``mentions``."""
    found = {short: long_form_mention(d, mentions) for short, d in definitions(text).items()}
    return {short: long for short, long in found.items() if long is not None}


def with_terms(mentions: Sequence[Mention], terms: Terms, name: Callable[[str], str]) -> list[Mention]:
    """``mentions`` with those whose name (``name(text)``: "Company" of "the Company") is one of ``terms`` linked to
    its long form's entity, as the linker links a term the text itself defines."""
    if not terms:
        return list(mentions)
    return [as_term(m, terms[key]) if (key := name(m.text)) in terms else m for m in mentions]
