"""A networkx view of any ``GraphStore`` for graph algorithms: paths, neighbourhoods, centrality, components.

The view is a snapshot: it reads the store once (``entities()`` and ``triples()``) into a ``MultiDiGraph`` whose
edge keys are relation names. Algorithms that ignore direction use the undirected view of the same graph.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kg.errors import KGError
from kg.records import Triple
from kg.store import GraphStore

if TYPE_CHECKING:
    import networkx as nx

CENTRALITIES = ("degree", "betweenness", "closeness")


def to_networkx(store: GraphStore, relation: str | None = None, provenance: bool = False) -> "nx.MultiDiGraph":
    """Nodes carry ``name`` and ``type``; edges carry ``relation``, ``confidence`` and ``sources`` (a count), and
    with ``provenance`` also ``provenance``: the sources as a JSON list (doc, start, end, sentence, extractor)."""
    import networkx as nx

    g = nx.MultiDiGraph()
    for e in store.entities():
        g.add_node(e.id, name=e.name, type=e.type)
    for t in store.triples():
        if relation and t.relation != relation:
            continue
        for node in (t.head_id, t.tail_id):
            if node not in g:
                g.add_node(node, name=node, type="")
        extra = {"provenance": provenance_json(t)} if provenance else {}
        g.add_edge(t.head_id, t.tail_id, key=t.relation, relation=t.relation, confidence=t.confidence,
                   sources=len(t.provenance), **extra)
    return g


def provenance_json(t: Triple) -> str:
    """A fact's sources as one JSON string, for formats whose attributes are plain values (GraphML, Cypher)."""
    return json.dumps([{"doc": p.doc_id, "start": p.start, "end": p.end, "sentence": p.sentence,
                        "extractor": p.extractor} for p in t.provenance], ensure_ascii=False)


@dataclass
class GraphView:
    """Graph algorithms over a snapshot of a store."""

    graph: "nx.MultiDiGraph"

    @classmethod
    def of(cls, store: GraphStore, relation: str | None = None) -> "GraphView":
        return cls(to_networkx(store, relation))

    def _need(self, node: str) -> None:
        if node not in self.graph:
            raise KGError(f"No entity '{node}' in the graph. `kgnlp query entity NAME` finds ids.")

    def shortest_path(self, source: str, target: str) -> list[tuple[str, str, str]]:
        """Facts ``(head, RELATION, tail)`` along a shortest path ignoring direction; [] when unconnected."""
        import networkx as nx

        self._need(source)
        self._need(target)
        try:
            nodes = nx.shortest_path(self.graph.to_undirected(as_view=True), source, target)
        except nx.NetworkXNoPath:
            return []
        facts = []
        for a, b in zip(nodes, nodes[1:]):
            if self.graph.has_edge(a, b):
                facts.append((a, next(iter(self.graph[a][b])), b))
            else:
                facts.append((b, next(iter(self.graph[b][a])), a))
        return facts

    def neighbourhood(self, node: str, hops: int = 1) -> set[str]:
        """Entity ids within ``hops`` of ``node`` (either direction), the node included."""
        import networkx as nx

        self._need(node)
        if hops < 1:
            raise KGError(f"--hops must be at least 1, got {hops}.")
        return set(nx.single_source_shortest_path_length(self.graph.to_undirected(as_view=True), node, cutoff=hops))

    def centrality(self, kind: str = "degree", top: int = 10) -> list[tuple[str, float]]:
        """The ``top`` entities by degree, betweenness (sampled on big graphs) or closeness centrality."""
        import networkx as nx

        g = self.graph.to_undirected(as_view=False)
        simple = nx.Graph(g)
        if kind == "degree":
            scores = nx.degree_centrality(simple)
        elif kind == "betweenness":
            k = min(200, len(simple)) if len(simple) > 2000 else None
            scores = nx.betweenness_centrality(simple, k=k, seed=0)
        elif kind == "closeness":
            scores = nx.closeness_centrality(simple)
        else:
            raise KGError(f"Unknown centrality '{kind}'. Choose one of: {', '.join(CENTRALITIES)}.")
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top]

    def components(self) -> list[set[str]]:
        """Weakly connected components, largest first."""
        import networkx as nx

        return sorted((set(c) for c in nx.weakly_connected_components(self.graph)), key=lambda c: (-len(c), min(c)))

    def degree_histogram(self) -> list[int]:
        """``h[d]`` = how many entities have degree ``d`` (facts in either direction)."""
        import networkx as nx

        return nx.degree_histogram(self.graph)
