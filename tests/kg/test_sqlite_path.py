"""The embedded store's bidirectional path search finds a shortest chain, checked against networkx."""
from __future__ import annotations

import random

import networkx as nx
import pytest

from kg.records import Triple
from kg.stores.sqlite import SQLiteStore


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_path_is_a_shortest_connected_chain(tmp_path, seed):
    rng = random.Random(seed)
    store = SQLiteStore.open(tmp_path / "g.db")
    edges = {(f"n{rng.randrange(120)}", f"n{rng.randrange(120)}") for _ in range(220)}
    edges = {(a, b) for a, b in edges if a != b}
    store.bulk_load([(a, "LINKS", b) for a, b in edges])
    graph = nx.Graph(list(edges))
    nodes = sorted(graph.nodes)
    for _ in range(40):
        a, b = rng.sample(nodes, 2)
        chain = store.path(a, b, max_hops=4)
        try:
            expected = nx.shortest_path_length(graph, a, b)
        except nx.NetworkXNoPath:
            expected = None
        assert len(chain) == (expected if expected is not None and expected <= 4 else 0)
        cur = a
        for t in chain:
            assert isinstance(t, Triple) and cur in (t.head_id, t.tail_id)
            cur = t.tail_id if t.head_id == cur else t.head_id
        assert not chain or cur == b
