"""The base linker: exact name/alias match in the graph, short forms within a document, else a new entity.

New entity ids are readable and stable (``org:northwind-therapeutics``), so the same new name in two
documents lands on one entity; corporate suffixes are dropped from the id and kept as an alias.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

from kg.names import new_entity_id, normalise
from kg.records import Entity, Mention
from kg.store import GraphStore
from kg.views import entities_named
from nlp.abbreviations import Abbreviation, definitions
from nlp.defined_terms import as_term, long_form_mention
from nlp.drug_names import is_drug_name
from nlp.interfaces import Linked


def canonical_name(text: str) -> str:
    """The name a new entity gets: without a leading "the" or a trailing possessive."""
    text = re.sub(r"^(the|The)\s+", "", text.strip())
    return re.sub(r"['\u2019]s$", "", text).strip()


# the filer itself: "the Company", "the Group" stand for the firm the document is about
_OWN_NOUNS = ("company", "group", "bank", "issuer", "registrant", "partnership", "corporation", "firm", "fund", "trust")
# another party of the filing: "the Lender", "the Parent" stand for a firm the sentence does not name
_PARTY_NOUNS = ("borrower", "guarantor", "lender", "parent", "sponsor", "manager", "adviser", "advisor", "operator",
                "employer", "insurer", "trustee", "seller", "buyer", "purchaser", "subsidiary")


def _with_plurals(nouns: tuple[str, ...]) -> frozenset[str]:
    """``nouns`` in the singular and the plural ("the Companies", "the Lenders")."""
    return frozenset({*nouns, *(re.sub(r"(?<![aeiou])y$", "ie", n) + "s" for n in nouns)})


OWN_NOUNS = _with_plurals(_OWN_NOUNS)
FIRM_NOUNS = OWN_NOUNS | _with_plurals(_PARTY_NOUNS)


def is_firm_noun(m: Mention) -> bool:
    """``m`` is an organisation named only by the generic noun a filing uses for its firm ("the Group"). Undefined,
    it must make no entity 'Group': a document defines it ("(the “Group”)", :func:`long_form_of`) or it is dropped,
    and ``nlp.coreference`` reads the filer's own nouns (:data:`OWN_NOUNS`: "the Group", not "the Lender", another
    party) as a reference to the salient firm for relations."""
    return m.label == "Organization" and canonical_name(m.text).lower() in FIRM_NOUNS


# endings of common nouns that name a disease ("Hypertension", "Hepatitis"); an eponym ("Parkinson") has none
_DISEASE_ENDINGS = ("itis", "osis", "emia", "aemia", "oma", "pathy", "algia", "plasia", "trophy", "penia", "uria",
                    "tension", "ectomy", "rrhea", "rrhoea", "spasm", "plegia", "ache", "cancer", "infection")
# what stands before a sentence's first word: a sentence end and spaces, a line break and any indent or bullet
# ("- Metformin is used"), or an opening bracket; searched in the last _START_WINDOW characters before the word
_SENTENCE_START = re.compile(r"(?:(?:^|[.!?:;]['\"\u2019\u201d)]?\s|\n)\s*(?:[-*\u2022]\s+)?|[(\[]['\"\u201c]?)$")
_START_WINDOW = 64


def display_name(name: str, m: Mention, text: str) -> str:
    """The name a new Chemical or Disease entity shows: lower case when its capital is only the sentence's, that is
    the word is written in lower case elsewhere in ``text``, or ``m`` opens a sentence and its first word is a
    generic drug name (``nlp.drug_names``) or ends like a disease's common noun ("Paroxetine was given ..." makes
    'paroxetine'). Names of other types, acronyms ("HbA1c", "COPD") and capitals inside a sentence stay."""
    if m.label not in ("Chemical", "Disease") or not name[:1].isupper() or any(c.isupper() for c in name[1:]):
        return name
    lower = name[0].lower() + name[1:]
    if lower in text and re.search(rf"(?<![\w-]){re.escape(lower)}(?![\w-])", text):  # the cheap test first
        return lower
    first = lower.split()[0]
    initial = _SENTENCE_START.search(text, max(0, m.start - _START_WINDOW), m.start) is not None
    return lower if initial and (is_drug_name(first) or first.endswith(_DISEASE_ENDINGS)) else name


def defines_no_firm(m: Mention, defined: dict[str, Abbreviation]) -> bool:
    """``m``, tagged an organisation, is a short form the document defines by words in lower case ("insulin-like
    growth factor (IGF)", "Serum amyloid protein (SAP)"): no firm's name is written so, so the tag is the stock
    model's guess on a biomedical acronym. A firm's ("World Health Organization (WHO)") and a filing's defined
    term ("Northwind Therapeutics, Inc. (the “Company”)") are capitalised."""
    found = defined.get(canonical_name(m.text)) if m.label == "Organization" else None
    return found is not None and " " in found.long and not any(c.isupper() for c in found.long[1:])


def long_form_of(m: Mention, defined: dict[str, Abbreviation], linked: Sequence[Mention]) -> Mention | None:
    """The rule both linkers apply to a short form or defined term the document defines (``defined``:
    ``nlp.abbreviations.definitions``): "the Company" after "Northwind Therapeutics, Inc. (the “Company”)" is the
    entity of the linked mention (among ``linked``, this document's so far) over its long form, a firm new to the
    graph too. None when ``m`` is no defined short form or no linked mention covers its long form (then it is linked
    as any name is); without the rule a new entity 'Company' was made."""
    found = defined.get(canonical_name(m.text))
    return long_form_mention(found, linked) if found is not None else None


class StoreLinker:
    """Links against a ``GraphStore``; remembers what it created during a run."""

    def __init__(self, store: GraphStore, similar=None, threshold: float = 0.8) -> None:
        self._store = store
        self._cache: dict[tuple[str, str], tuple[str, float, str] | None] = {}
        self._made: dict[str, str] = {}  # normalised name -> id of an entity created in this run
        # (name, type) -> (entity id, cosine) | None: embedding similarity over the graph's names, tried
        # before a mention becomes a new entity (nlp.retrieval.name_similarity; the accurate profile)
        self._similar = similar
        self._threshold = threshold

    def prefetch_docs(self, docs: Sequence[tuple[str, Sequence[Mention]]]) -> None:
        """Embed in one batch the names of several documents' mentions that the exact rules cannot answer,
        so the similarity step (if any) finds them cached; linking picks the same entities as without it (the
        cosines of a padded batch can differ from one-by-one encoding in the 7th digit)."""
        fetch = getattr(self._similar, "prefetch", None)  # a plain (name, type) function has none
        if fetch is None:
            return
        fetch([(canonical_name(m.text), m.label) for _, mentions in docs for m in mentions
               if not m.entity_id and self._lookup(m.text, m.label) is None])

    def link(self, text: str, mentions: Sequence[Mention]) -> Linked:
        linked: list[Mention] = []
        created: dict[str, Entity] = {}
        local: list[Mention] = []  # linked mentions so far in this document, for short forms
        defined = definitions(text)
        for m in mentions:
            if m.entity_id:
                out = m
            else:
                out = self._defined_term(m, defined, local)
                if (out is None or out.label == "Organization") and defines_no_firm(m, defined):
                    if self._lookup(m.text, m.label) is None:
                        continue  # no entity, and no fact that the long form's wrong tag would give
                    out = None  # a name the graph knows links to its entity, as in EntityLinker
                out = out or self._link_one(text, m, local, created)
            if out is None:
                continue
            linked.append(out)
            local.append(out)
        return Linked(tuple(linked), tuple(created.values()))

    def _link_one(self, text: str, m: Mention, local: list[Mention], created: dict[str, Entity]) -> Mention | None:
        """``m`` linked by the graph's names, an earlier longer name in the document, or as a new entity; None for
        a generic firm noun that neither links (:func:`is_firm_noun`)."""
        hit = self._lookup(m.text, m.label)
        if hit:  # the graph's type wins over the tagger's guess
            return Mention(m.start, m.end, m.text, hit[2], hit[0], round(m.score * hit[1], 3))
        short = _short_form_of(m, local)
        if short:
            new = created.get(short.entity_id)
            if short.label == "Organization" and new is not None and m.text not in (new.name, *new.aliases):
                created[short.entity_id] = replace(new, aliases=(*new.aliases, m.text))
            return as_term(m, short)
        if is_firm_noun(m):
            return None
        made = self._made.get(normalise(canonical_name(m.text)))
        if made:
            return Mention(m.start, m.end, m.text, m.label, made, round(m.score * 0.9, 3))
        prefix = self._org_prefix(m)
        if prefix:
            return Mention(m.start, m.end, m.text, m.label, prefix, round(m.score * 0.75, 3))
        name = canonical_name(m.text)
        if self._similar is not None:
            near = self._similar(name, m.label)
            if near and near[1] >= self._threshold:
                self._cache[(normalise(m.text), m.label)] = (near[0], round(near[1], 3), m.label)
                return Mention(m.start, m.end, m.text, m.label, near[0], round(m.score * near[1], 3))
        entity_id = new_entity_id(name, m.label)
        existing = self._store.entity(entity_id)
        if existing is None and entity_id not in created:
            shown = display_name(name, m, text)
            created[entity_id] = Entity(entity_id, shown, m.label, tuple(sorted({m.text} - {name, shown})))
        self._cache[(normalise(m.text), m.label)] = (entity_id, 1.0, m.label)
        self._made[normalise(name)] = entity_id
        return Mention(m.start, m.end, m.text, m.label, entity_id, m.score)

    @staticmethod
    def _defined_term(m: Mention, defined: dict[str, Abbreviation], local: list[Mention]) -> Mention | None:
        """``m`` as a short form the document defines, linked as its long form's mention (:func:`long_form_of`;
        the graph's type, as a lookup gives it); None when it is none."""
        long = long_form_of(m, defined, local)
        return as_term(m, long) if long is not None else None

    def _org_prefix(self, m: Mention) -> str | None:
        """A bare "Northwind" for the one known organisation whose name starts with it."""
        if m.label != "Organization" or len(m.text) < 3:
            return None
        norm = normalise(canonical_name(m.text))
        hits = {e.id for e in self._store.find_entities(norm, limit=10)
                if e.type == "Organization" and normalise(e.name).startswith(norm + " ")}
        hits |= {eid for name, eid in self._made.items() if name.startswith(norm + " ")}
        return hits.pop() if len(hits) == 1 else None

    def _lookup(self, text: str, label: str) -> tuple[str, float, str] | None:
        key = (normalise(text), label)
        if key not in self._cache:
            self._cache[key] = self._exact(canonical_name(text), label)
        return self._cache[key]

    def _exact(self, text: str, label: str) -> tuple[str, float, str] | None:
        candidates = entities_named(self._store, text)
        if not candidates:
            return None
        same_type = [e for e in candidates if e.type == label]
        if same_type:
            return same_type[0].id, 1.0, label
        return candidates[0].id, 0.8, candidates[0].type  # known under another type: trust the graph


_DOMAIN = ("Chemical", "Disease")


def _short_form_of(m: Mention, local: list[Mention]) -> Mention | None:
    """"Northwind" after "Northwind Therapeutics Inc.", "Roe" after "Jane Roe", in the same document. A
    short form of an organisation's name that the tagger took for a person or a place ("Greywater" after
    "Greywater Pharmaceuticals") is the organisation too, unless it is the surname of a person named before."""
    words = m.text.split()
    org_prefix = None
    for prev in reversed(local):
        if not prev.entity_id or len(prev.text) <= len(m.text):
            continue
        prev_words = prev.text.split()
        if prev.label == m.label == "Person" and len(words) == 1 and prev_words[-1] == words[0]:
            return prev
        if prev.label == "Organization" and prev_words[: len(words)] == words:
            if m.label == "Organization":
                return prev
            if m.label not in _DOMAIN and org_prefix is None:
                org_prefix = prev
    return org_prefix
