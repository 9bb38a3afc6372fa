"""Write a subgraph as one self-contained, offline, interactive HTML page."""
from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KGError
from kg.files import write_atomic
from kg.schema import ENTITY_TYPES
from kg.store import GraphStore
from kg.viz.colors import NODE_COLORS, OTHER, node_color, type_group
from kg.viz.subgraph import Subgraph, select_subgraph

# Shipped next to this module (package data: *.html, *.js).
HERE = Path(__file__).parent
SOURCES_PER_FACT = 5
SENTENCE_CHARS = 300
DATA_ELEMENT_ID = "kg-data"


@dataclass(frozen=True)
class VizReport:
    """What ``render_graph_html`` wrote: the file and how much of the graph it shows."""

    out: Path
    nodes: int
    edges: int
    total_nodes: int
    total_edges: int
    truncated: bool
    note: str


def render_graph_html(
    store: GraphStore,
    center_ids: list[str] | None,
    hops: int,
    out: Path,
    max_nodes: int = 300,
    title: str | None = None,
) -> VizReport:
    """Write ``out``: an interactive graph of the centres' ``hops``-neighbourhood (or of the whole
    graph, capped at ``max_nodes`` by degree) that works offline in any browser.

    >>> render_graph_html(store, ["mesh:D001241"], 2, Path("aspirin.html"))  # doctest: +SKIP
    """
    out = Path(out)
    if out.is_dir():
        raise KGError(f"--out '{out}' is a folder; expected an .html file path such as {out / 'graph.html'}.")
    sub = select_subgraph(store, center_ids, hops, max_nodes)
    payload = graph_payload(sub, title)
    write_atomic(out, build_page(payload))
    return VizReport(out, len(sub.entities), len(sub.triples), sub.total_entities, sub.total_triples,
                     sub.truncated, payload["meta"]["note"])


def graph_payload(sub: Subgraph, title: str | None = None) -> dict[str, object]:
    """The JSON the page draws: nodes, edges (by node index) with sources, legend and notes."""
    index = {e.id: i for i, e in enumerate(sub.entities)}
    degree: Counter[str] = Counter()
    for t in sub.triples:
        degree[t.head_id] += 1
        degree[t.tail_id] += 1
    centers = set(sub.center_ids)
    nodes = [
        {
            "id": e.id, "name": e.name, "type": e.type, "group": type_group(e.type), "color": node_color(e.type),
            "aliases": list(e.aliases), "ext": [list(p) for p in e.external_ids],
            "degree": degree[e.id], "center": e.id in centers,
        }
        for e in sub.entities
    ]
    edges = [
        {
            "s": index[t.head_id], "t": index[t.tail_id], "rel": t.relation, "conf": round(t.confidence, 3),
            "sources": [[p.doc_id, _clip(p.sentence), p.extractor] for p in t.provenance[:SOURCES_PER_FACT]],
            "more": max(0, len(t.provenance) - SOURCES_PER_FACT),
        }
        for t in sub.triples
    ]
    groups = Counter(n["group"] for n in nodes)
    legend = [{"type": g, "color": NODE_COLORS[g], "count": groups[g]} for g in (*ENTITY_TYPES, OTHER) if groups[g]]
    center_names = [e.name for e in sub.entities if e.id in centers]
    if title is None:
        title = (f"{', '.join(center_names)}: {sub.hops}-hop neighbourhood" if center_names else "Knowledge graph")
    return {
        "meta": {
            "title": title, "note": _note(sub), "centers": center_names, "hops": sub.hops,
            "shown_nodes": len(nodes), "total_nodes": sub.total_entities,
            "shown_edges": len(edges), "total_edges": sub.total_triples,
        },
        "legend": legend,
        "nodes": nodes,
        "edges": edges,
    }


def _note(sub: Subgraph) -> str:
    parts = []
    if len(sub.entities) < sub.total_entities:
        how = "nearest the centre" if sub.center_ids else "best-connected"
        parts.append(f"Showing the {len(sub.entities):,} {how} of {sub.total_entities:,} entities "
                     f"(raise --max-nodes to see more).")
    if len(sub.triples) < sub.total_triples:
        parts.append(f"{len(sub.triples):,} of {sub.total_triples:,} facts drawn.")
    if not sub.entities:
        parts.append("The graph is empty: run `kgnlp ingest` first.")
    return " ".join(parts)


def _clip(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    return sentence if len(sentence) <= SENTENCE_CHARS else sentence[: SENTENCE_CHARS - 1] + "\u2026"


def embed_json(data: object) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` survive, so a
    name such as ``</script>`` or ``<!--`` cannot end the element; ``JSON.parse`` reads it back unchanged."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def build_page(payload: dict[str, object]) -> str:
    """The whole HTML document: page.html (markup and styles) with the script and the data put inline."""
    template = (HERE / "page.html").read_text(encoding="utf-8")
    meta = payload["meta"]
    assert isinstance(meta, dict)
    parts = {
        "__TITLE__": html.escape(str(meta["title"])),
        "/*__JS__*/": (HERE / "graph.js").read_text(encoding="utf-8"),
        "__DATA__": embed_json(payload),
    }
    # One pass over the template only: text put in (a name, the data) is never scanned for markers.
    pattern = re.compile("|".join(re.escape(m) for m in parts))
    return pattern.sub(lambda m: parts[m.group(0)], template)
