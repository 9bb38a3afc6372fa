"""``kgnlp demo``: the whole path on the sample data, in one command."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from cli.common import DEFAULT_WORKSPACE, JsonOpt, QuietOpt, WorkspaceOpt, emit, file_option, workspace
from cli.console import out, progress_bar
from kg.errors import KGError

SAMPLE_SENTENCE = ("Elena Marchetti, chief executive of Northwind Therapeutics, said metformin remains "
                   "a first-line treatment for type 2 diabetes.")
SAMPLE_QUESTIONS = (
    "What does metformin treat?",
    "What are the side effects of warfarin?",
    "Which company makes clopidogrel?",
    "Who leads Northwind Therapeutics?",
    "Where is Corvane Pharmaceuticals headquartered?",
    "Who is the CEO of the company that acquired Bramble Biologics?",
)


def _find_data(data: Optional[Path]) -> Path:
    candidates = [data] if data else [Path("data"), Path(__file__).resolve().parents[2] / "data"]
    for c in candidates:
        if c and (c / "documents").is_dir():
            return c
    raise KGError(f"No sample data found (looked in {', '.join(str(c) for c in candidates)}). "
                  "Run the demo from the kgnlp checkout or pass --data DIR.")


def demo(
    data: Annotated[Optional[Path], typer.Option(help="Sample data folder (documents/, seed/).")] = None,
    out_html: Annotated[Path, file_option(
        "--out", help="Where to write the graph view.")] = Path("kgnlp-graph.html"),
    ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Ingest the sample documents, show NER, answer sample questions, write an HTML graph view.

    Example: kgnlp demo --workspace /tmp/kgnlp-demo
    """
    from cli.commands.analyse import answer_rows
    from kg.seed import read_seed
    from kg.viz import render_graph_html
    from nlp.extractor import Extractor
    from nlp.ingest import ingest_documents
    from nlp.loaders import load_documents
    from nlp.qa import answer

    started = time.perf_counter()
    folder = _find_data(data)
    docs = load_documents([folder / "documents"])
    ws = workspace(ws_path, create=True)
    graph = ws.open_store("embedded")
    try:
        seed = read_seed(folder / "seed")
        graph.replace_source(seed.source, seed.triples, seed.entities)
        with progress_bar("Ingesting", enabled=not (quiet or as_json)) as update:
            report = ingest_documents(graph, docs, progress=update)
        stats = graph.stats()
        analysis = Extractor.for_store(graph).analyse([SAMPLE_SENTENCE])[0]
        answers = [answer(graph, q, limit=3) for q in SAMPLE_QUESTIONS]
        viz = render_graph_html(graph, None, 1, out_html)
    finally:
        graph.close()
    seconds = round(time.perf_counter() - started, 2)
    data_out = {
        "workspace": str(ws.path), "documents": stats.documents, "entities": stats.entities,
        "relations": stats.relations, "ingested": report.documents, "ingest_seconds": report.seconds,
        "ner": [{"text": m.text, "label": m.label, "start": m.start, "end": m.end, "entity_id": m.entity_id}
                for m in analysis.mentions],
        "answers": [{"question": r.question, "answers": answer_rows(r.answers)} for r in answers],
        "html": str(out_html), "seconds": seconds,
    }

    def human() -> None:
        out.rule(Text("1. Ingest", style="bold"))
        out.print(f"Workspace {ws.path}: {stats.documents} documents, {stats.entities} entities, "
                  f"{stats.relations} relations ({report.documents} documents ingested now in {report.seconds:.1f} s, "
                  f"{report.skipped} already stored).")
        out.print("Relations: " + ", ".join(f"{r} {n}" for r, n in stats.by_relation))
        out.rule(Text("2. NER", style="bold"))
        out.print(SAMPLE_SENTENCE)
        for m in analysis.mentions:
            out.print(f"  [{m.start}:{m.end}] {m.text!r} {m.label} -> {m.entity_id or '(new)'}")
        out.rule(Text("3. Questions", style="bold"))
        for r in answers:
            out.print(f"Q: {r.question}", style="bold")
            if not r.answers:
                out.print("  No answer found.")
            for a in r.answers[:2]:
                ev = a.evidence[0] if a.evidence else None
                src = f" — {ev.doc}: \"{ev.sentence[:110]}\"" if ev else ""
                out.print(f"  A: {a.text} ({a.score:.2f}){src}")
        out.rule(Text("4. Graph view", style="bold"))
        out.print(f"Wrote {out_html} ({viz.nodes} nodes, {viz.edges} edges). Done in {seconds:.1f} s.")

    emit(as_json, data_out, human)


def register(app: typer.Typer) -> None:
    app.command()(demo)
