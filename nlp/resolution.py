"""Entity resolution: which entities are one thing ("Pfizer Inc.", "Pfizer", "PFE"), on evidence.

Evidence, strongest first (types must agree for every rule):
1. ``name``: the same name once corporate suffixes and punctuation are dropped -> score 1.0;
2. ``ticker``/``alias``: one entity's ticker (external id) or alias is the other's name -> 0.95;
3. ``embedding``: cosine similarity of MiniLM name embeddings >= threshold -> that score.
Proposals are grouped (union-find); each group keeps one canonical entity, and every merge is
written to the workspace's merge log with who/why/score, so it can be listed and undone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from kg.merges import Merge, MergeLog
from kg.names import normalise
from kg.records import Entity

_CORP = re.compile(
    r"(?:[,\s]+(?:inc|incorporated|corp|corporation|co|company|ltd|limited|plc|llc|lp|ag|sa|se|nv|bv|gmbh|"
    r"asa|ab|oyj|spa|kk|group|holdings?|the))+\.?$", re.IGNORECASE)
_TICKER_KEYS = {"ticker", "symbol", "stock", "nyse", "nasdaq"}


# A sign that tells things apart, unlike punctuation: "(+)-catechin" and "(-)-catechin" are two compounds,
# "HER2+ breast cancer" and "HER2- breast cancer" two diseases, "Na+" is not "Na". A hyphen between two word
# characters ("COX-1", "type-2") is not a sign.
_SIGN = re.compile(r"\+|\u2212|(?<=[\w(])[-\u2013](?=[)\s]|$)")


def core_name(name: str) -> str:
    """"Pfizer Inc." -> "pfizer"; "The Boeing Company" -> "boeing"; "HER2+" -> "her2 plus"."""
    text = normalise(_SIGN.sub(lambda m: " plus " if m.group() == "+" else " minus ", name))
    text = re.sub(r"^the\s+", "", text)
    text = _CORP.sub("", text)
    text = re.sub(r"[^\w\s&]", " ", text)
    return re.sub(r"\s+", " ", text).strip() or normalise(name)


@dataclass(frozen=True)
class MergeProposal:
    """A proposed merge of ``merged_id`` into ``canonical_id``, with the evidence."""

    canonical_id: str
    merged_id: str
    why: str
    score: float


def _tickers(e: Entity) -> set[str]:
    return {v.upper() for k, v in e.external_ids if k.lower() in _TICKER_KEYS}


def _rank(e: Entity) -> tuple:
    """Which entity of a group stays: most external ids, most aliases, then the longer (fuller) name."""
    return (-len(e.external_ids), -len(e.aliases), -len(e.name), e.id)


def propose_merges(entities: Iterable[Entity], encoder=None, threshold: float = 0.92) -> list[MergeProposal]:
    """Merge proposals over ``entities``; embeddings are used only when an encoder is given."""
    ents = sorted({e.id: e for e in entities}.values(), key=lambda e: e.id)
    pairs: list[tuple[str, str, str, float]] = []  # (a, b, why, score)
    by_core: dict[tuple[str, str], list[Entity]] = {}
    for e in ents:
        by_core.setdefault((e.type, core_name(e.name)), []).append(e)
    for (kind, core), group in by_core.items():
        for other in group[1:]:
            pairs.append((group[0].id, other.id, f"same name without corporate suffix: '{core}'", 1.0))
    names: dict[tuple[str, str], list[Entity]] = {}
    for e in ents:
        for n in {e.name, *e.aliases}:
            names.setdefault((e.type, n.strip().upper()), []).append(e)
    for e in ents:
        for t in _tickers(e):
            for other in names.get((e.type, t), []):
                if other.id != e.id:
                    pairs.append((e.id, other.id, f"ticker {t} of '{e.name}'", 0.95))
        for alias in e.aliases:
            for other in ents:
                if other.id != e.id and other.type == e.type and normalise(other.name) == normalise(alias):
                    pairs.append((e.id, other.id, f"'{other.name}' is an alias of '{e.name}'", 0.95))
    if encoder is not None and len(ents) > 1:
        pairs.extend(_embedding_pairs(ents, encoder, threshold))
    return _group(ents, pairs)


def _embedding_pairs(ents: Sequence[Entity], encoder, threshold: float) -> list[tuple[str, str, str, float]]:
    import faiss

    vecs = encoder.encode([e.name for e in ents])
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    scores, rows = index.search(vecs, min(6, len(ents)))
    out = []
    for i, e in enumerate(ents):
        for score, j in zip(scores[i], rows[i]):
            if j <= i or score < threshold or ents[j].type != e.type:
                continue
            out.append((e.id, ents[j].id, f"name embeddings similar ({score:.3f})", round(float(score), 4)))
    return out


def _group(ents: Sequence[Entity], pairs) -> list[MergeProposal]:
    parent = {e.id: e.id for e in ents}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    evidence: dict[str, tuple[str, float]] = {}
    for a, b, why, score in sorted(pairs, key=lambda p: -p[3]):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra
            evidence.setdefault(b if b != ra else a, (why, score))
            evidence.setdefault(a if a != ra else b, (why, score))
    groups: dict[str, list[Entity]] = {}
    for e in ents:
        groups.setdefault(find(e.id), []).append(e)
    proposals = []
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = min(members, key=_rank)
        for m in members:
            if m.id != keep.id:
                why, score = evidence.get(m.id) or evidence.get(keep.id) or ("grouped with others", 0.9)
                proposals.append(MergeProposal(keep.id, m.id, why, score))
    return sorted(proposals, key=lambda p: (p.canonical_id, p.merged_id))


def resolve(entities: Iterable[Entity], log: MergeLog, who: str = "kgnlp entities resolve", encoder=None,
            threshold: float = 0.92, dry_run: bool = False) -> list[Merge | MergeProposal]:
    """Propose merges and record the new ones in ``log`` (skipping ids already merged, and pairs whose merge
    was undone: an unmerge is a judgement a later run must not overturn)."""
    done = []
    undone = log.undone_pairs()
    for p in propose_merges(entities, encoder, threshold):
        if frozenset((p.canonical_id, p.merged_id)) in undone:
            continue
        if log.canonical(p.merged_id) != p.merged_id or log.canonical(p.canonical_id) == p.merged_id:
            continue
        if log.canonical(p.canonical_id) == log.canonical(p.merged_id):
            continue
        done.append(p if dry_run else log.record(p.canonical_id, p.merged_id, who, p.why, p.score))
    return done
