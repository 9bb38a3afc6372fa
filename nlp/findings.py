"""Findings: how a study reports its results, read with a cue graph (the repo's ``data/findings``).

Each sentence in which the cue graph finds a way of reporting a result ("no significant difference", "was
associated with", "may") becomes a finding: an entity of type ``Finding`` named by the sentence, tied by
``REPORTED_IN`` to what the sentence signals (``find:effect`` "evidence of an effect", ``find:no_effect`` or
``find:uncertain``), with the sentence as provenance. A fused QA model trained with ``--retrieved N
--retrieve-from passage`` reads the findings of its own passage ("no evidence of an effect is reported in
<sentence>"): the graph behind the best PubMedQA model (BENCHMARKS.md).

The cue graph holds the cues (names and aliases), their ``SIGNALS`` edges to the three evidence entities, and a
negation cue (``find:negation``). The rule (``signal``): a sentence signals no effect when a cue signals it or a
negation comes with an effect cue; else an effect; else uncertainty; else nothing. The reader takes any linker
with ``link(text) -> [Mention]`` over the cue names (the CLI and the benchmark pass ``fusion.context.NameLinker``).
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator, Protocol, Sequence

from kg.records import Document, Entity, Extraction, Mention, Provenance, Triple
from kg.schema import Schema
from nlp.errors import NLPError
from nlp.formats.pubmedqa import read_pubmedqa_json
from nlp.paragraphs import paragraphs

EFFECT, NO_EFFECT, UNCERTAIN, NEGATION = "find:effect", "find:no_effect", "find:uncertain", "find:negation"
REPORTED_IN = Schema().get("REPORTED_IN")  # a built-in relation: "<evidence> is reported in <sentence>"
MAX_NAME = 300  # a finding entity is named by its sentence, cut to this many characters
RESULT_SECTIONS = ("RESULT", "FINDING")  # PubMedQA context labels whose sentences report results
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


class CueLinker(Protocol):
    def link(self, text: str) -> list[Mention]: ...


def sentences(text: str) -> list[str]:
    """``text`` cut after ., ! or ? before a capital or "(" (abstracts' results read well this way), and at
    paragraph breaks and around markdown headings (``nlp.paragraphs``)."""
    return [s for part in paragraphs(text) for s in _SENTENCE_END.split(part) if s.strip()]


class FindingsReader:
    """Reads findings in text with a cue graph: ``linker`` finds its cues, ``signals`` maps a cue id to the
    evidence entity it ``SIGNALS``, ``evidence`` are those entities (the heads of the facts it reads)."""

    def __init__(self, linker: CueLinker, signals: dict[str, str], evidence: Sequence[Entity]) -> None:
        missing = {EFFECT, NO_EFFECT, UNCERTAIN} - {e.id for e in evidence}
        if missing:
            raise NLPError(f"The cue graph lacks the evidence entities {', '.join(sorted(missing))}: "
                           "use data/findings or a graph built like it.")
        self.linker, self.signals, self.evidence = linker, signals, tuple(evidence)

    @classmethod
    def from_graph(cls, linker: CueLinker, entities: Iterable[Entity], triples: Iterable[Triple]) -> "FindingsReader":
        """From the cue graph's records (e.g. ``kg.seed.read_seed("data/findings")``)."""
        signals = {t.head_id: t.tail_id for t in triples if t.relation == "SIGNALS"}
        return cls(linker, signals, [e for e in entities if e.type == "Evidence"])

    def signal(self, sentence: str) -> str | None:
        """The evidence entity ``sentence`` signals (module doc), or None without a cue."""
        linked = {m.entity_id for m in self.linker.link(sentence)}
        said = {self.signals.get(c) for c in linked}
        if NO_EFFECT in said or (EFFECT in said and NEGATION in linked):
            return NO_EFFECT
        for what in (EFFECT, UNCERTAIN):
            if what in said:
                return what
        return None

    def read(self, document: Document, parts: Sequence[str] | None = None,
             counts: Counter | None = None) -> Extraction:
        """The findings of ``document`` (of ``parts``, pieces of its text, when given) as an extraction of
        finding entities and ``REPORTED_IN`` facts (store ``self.evidence`` first: the facts' heads); ``counts``
        tallies each sentence's signal ("none" without a cue)."""
        text, doc = document.text, document.id
        entities: list[Entity] = []
        triples: list[Triple] = []
        mentions: list[Mention] = []
        repeats: dict[str, int] = {}
        cursor = 0  # parts and their sentences come in text order: a repeated sentence is placed after the last
        for part in (text,) if parts is None else parts:
            for sentence in map(str.strip, sentences(part)):
                found = text.find(sentence, cursor)
                if found < 0:  # a part out of order: the first occurrence
                    found = text.find(sentence)
                cursor = found + len(sentence) if found >= 0 else cursor
                what = self.signal(sentence)
                if counts is not None:
                    counts[what or "none"] += 1
                if what is None:
                    continue
                # named by its sentence, so a changed sentence is a new finding, never an old id renamed
                digest = hashlib.blake2b(sentence.encode("utf-8"), digest_size=5).hexdigest()
                repeat = repeats[digest] = repeats.get(digest, 0) + 1  # the same sentence again: :2, :3 ...
                fid = f"finding:{doc}:{digest}" + (f":{repeat}" if repeat > 1 else "")
                entities.append(Entity(fid, sentence[:MAX_NAME], "Finding"))
                if found >= 0:  # its sentence, as a mention: a finding goes when its document is removed or changed
                    mentions.append(Mention(found, found + len(sentence), sentence, "Finding", fid, 1.0))
                triples.append(Triple(what, REPORTED_IN.name, fid, 1.0,
                                      (Provenance(doc, found, found + len(sentence), sentence, "findings-cues"),)))
        return Extraction(document, tuple(mentions), tuple(triples), tuple(entities))


def pubmedqa_passages(path: str | Path, long_answers: bool = False,
                      skip: Iterable[str] = ()) -> Iterator[tuple[Document, list[str] | None]]:
    """The documents of a PubMedQA JSON file (``ori_pqal.json`` layout), each with the parts to read findings
    in: an abstract (its joined ``CONTEXTS``, id = the PMID) with its results sections (``LABELS`` with RESULT
    or FINDING; else its last context); with ``long_answers`` also each conclusion (``LONG_ANSWER``, id
    ``<pmid>:conclusion``, read whole), the texts ``kgnlp train qa --long-answers`` trains on. ``skip``: PMIDs
    whose conclusions to leave out (a test set's: a test input never holds its conclusion)."""
    data = read_pubmedqa_json(path)
    skip = set(skip)
    for pmid, item in sorted(data.items()):
        contexts, labels = item["CONTEXTS"], item.get("LABELS") or []
        parts = [c for c, lab in zip(contexts, labels) if any(r in str(lab).upper() for r in RESULT_SECTIONS)]
        yield Document(pmid, " ".join(contexts), f"pubmedqa:{pmid}"), parts or contexts[-1:]
    if long_answers:
        for pmid, item in sorted(data.items()):
            if item.get("LONG_ANSWER") and pmid not in skip:
                yield Document(f"{pmid}:conclusion", item["LONG_ANSWER"], f"pubmedqa:{pmid}:long_answer"), None
