"""Choose the part of a graph worth drawing: a neighbourhood, or the best-connected entities."""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Iterable

from kg.errors import KGError
from kg.records import Entity, Triple
from kg.store import GraphStore

# More edges than this per node make an unreadable hairball and a slow page.
EDGES_PER_NODE = 8
UNKNOWN_TYPE = "Unknown"


@dataclass(frozen=True)
class Subgraph:
    """The entities and facts to draw, and how much of the graph they leave out."""

    entities: tuple[Entity, ...]
    triples: tuple[Triple, ...]
    center_ids: tuple[str, ...]
    hops: int
    total_entities: int
    total_triples: int

    @property
    def truncated(self) -> bool:
        return len(self.entities) < self.total_entities or len(self.triples) < self.total_triples


def select_subgraph(store: GraphStore, center_ids: Iterable[str] | None, hops: int, max_nodes: int) -> Subgraph:
    """The facts within ``hops`` of the centres, or (no centres) of the ``max_nodes`` highest-degree entities.

    Nodes nearest a centre win when the neighbourhood is larger than ``max_nodes``; ties go to degree.
    """
    centers = tuple(dict.fromkeys(center_ids or ()))
    if max_nodes < 1:
        raise KGError(f"--max-nodes must be at least 1, got {max_nodes}.")
    if centers and hops < 1:
        raise KGError(f"--hops must be at least 1, got {hops}.")
    if len(centers) > max_nodes:
        raise KGError(f"{len(centers)} centre entities but --max-nodes {max_nodes}. Raise --max-nodes.")
    known: dict[str, Entity] = {}
    for cid in centers:
        ent = store.entity(cid)
        if ent is None:
            raise KGError(f"No entity with id '{cid}' in the graph. Look names up with `kgnlp shell` (Tab completes).")
        known[cid] = ent

    if centers:
        facts: dict[tuple[str, str, str], Triple] = {}
        for cid in centers:
            for t in store.neighbours(cid, hops):
                facts.setdefault(t.key, t)
        triples = list(facts.values())
        degree = _degree(triples)
        dist = _distances(centers, triples)
        ranked = sorted(dist, key=lambda n: (dist[n], -degree[n], n))
        total_entities = len(dist)
    else:
        triples = list(store.triples())
        degree = _degree(triples)
        ranked = sorted(degree, key=lambda n: (-degree[n], n))
        if len(ranked) < max_nodes:
            # Room left: entities without facts are part of "the whole graph" too.
            seen = set(ranked)
            for ent in store.entities():
                if ent.id not in seen:
                    known[ent.id] = ent
                    ranked.append(ent.id)
                    if len(ranked) >= max_nodes:
                        break
        total_entities = max(store.stats().entities, len(degree))

    keep = ranked[:max_nodes]
    kept = set(keep)
    edges = [t for t in triples if t.head_id in kept and t.tail_id in kept]
    max_edges = max_nodes * EDGES_PER_NODE
    if len(edges) > max_edges:
        edges = sorted(edges, key=lambda t: (-t.confidence, -len(t.provenance), t.key))[:max_edges]
    entities = tuple(known.get(n) or store.entity(n) or Entity(n, n, UNKNOWN_TYPE) for n in keep)
    return Subgraph(entities, tuple(edges), centers, hops if centers else 0, total_entities, len(triples))


def _degree(triples: Iterable[Triple]) -> Counter[str]:
    degree: Counter[str] = Counter()
    for t in triples:
        degree[t.head_id] += 1
        degree[t.tail_id] += 1
    return degree


def _distances(centers: tuple[str, ...], triples: list[Triple]) -> dict[str, int]:
    """Undirected hop distance from the nearest centre, for every node the facts touch."""
    adjacent: dict[str, set[str]] = {}
    for t in triples:
        adjacent.setdefault(t.head_id, set()).add(t.tail_id)
        adjacent.setdefault(t.tail_id, set()).add(t.head_id)
    dist = {c: 0 for c in centers}
    queue = deque(centers)
    while queue:
        node = queue.popleft()
        for other in adjacent.get(node, ()):
            if other not in dist:
                dist[other] = dist[node] + 1
                queue.append(other)
    return dist
