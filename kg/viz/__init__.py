"""kg.viz: a self-contained interactive HTML view of a graph (no CDN, works offline)."""
from kg.viz.page import VizReport, build_page, embed_json, graph_payload, render_graph_html
from kg.viz.subgraph import Subgraph, select_subgraph

__all__ = ["Subgraph", "VizReport", "build_page", "embed_json", "graph_payload", "render_graph_html",
           "select_subgraph"]
