"""``kgnlp ner`` and ``kgnlp ask``."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.common import (DEFAULT_WORKSPACE, ConfigOpt, ProfileOpt, JsonOpt, PasswordEnvOpt, StoreOpt, UriOpt, UserOpt,
                        WorkspaceOpt, config_path, emit, open_store, read_text_arg, workspace)
from cli.console import out


def ner(
    text: Annotated[str, typer.Argument(help="Text to tag, or - to read standard input.")],
    model: Annotated[Optional[Path], typer.Option("--model", help="A trained NER model folder to add as a layer.")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Also write the text with entities highlighted.")] = None,
    profile: ProfileOpt = None,
    ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
    store: StoreOpt = "embedded",
    uri: UriOpt = None,
    user: UserOpt = "neo4j",
    password_env: PasswordEnvOpt = "KGNLP_NEO4J_PASSWORD",
    as_json: JsonOpt = False,
) -> None:
    """Find entities in a text and link them to the workspace graph.

    Works without a workspace too (then only the spaCy model and --model find entities).

    Example: kgnlp ner "Metformin is used to treat type 2 diabetes."
    """
    from kg.stores.sqlite import SQLiteStore
    from kg.workspace import MARKER
    from nlp.extractor import Extractor

    content = read_text_arg(text)
    has_ws = (ws_path / MARKER).exists()
    graph = open_store(workspace(ws_path), store, uri, user, password_env) if has_ws else SQLiteStore.open(":memory:")
    try:
        from cli.commands.ingest import profile_layers

        layers = profile_layers(profile, model, graph)
        analysis = Extractor.for_store(graph, extra_ner=layers).analyse([content])[0]
        known = {m.entity_id for m in analysis.mentions if m.entity_id and graph.entity(m.entity_id)}
    finally:
        graph.close()
    rows = [{"text": m.text, "label": m.label, "start": m.start, "end": m.end,
             "entity_id": m.entity_id if m.entity_id in known else None} for m in analysis.mentions]
    if html:
        from nlp.render import render_entities_html

        html.write_text(render_entities_html(content, analysis.mentions), encoding="utf-8")

    def human() -> None:
        from rich.table import Table

        if not rows:
            out.print("No entities found.")
            return
        table = Table()
        for col in ("text", "label", "start", "end", "entity"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["text"], r["label"], str(r["start"]), str(r["end"]), r["entity_id"] or "(new)")
        out.print(table)

    emit(as_json, {"entities": rows}, human)


def ask(
    question: Annotated[str, typer.Argument(help="A question in plain English, or - for standard input.")],
    top: Annotated[int, typer.Option("--top", min=1, help="How many answers to show.")] = 5,
    ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
    store: StoreOpt = "embedded",
    uri: UriOpt = None,
    user: UserOpt = "neo4j",
    password_env: PasswordEnvOpt = "KGNLP_NEO4J_PASSWORD",
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question from the graph, with the facts and sentences behind each answer.

    Example: kgnlp ask "Who is the CEO of the company that acquired Halvorsen Capital?"
    """
    from kg.schema import load_schema
    from nlp.qa import answer

    text = read_text_arg(question)
    ws = workspace(ws_path)
    graph = open_store(ws, store, uri, user, password_env)
    try:
        result = answer(graph, text, load_schema(config_path(ws.path, config)), limit=top)
    finally:
        graph.close()
    data = {
        "question": result.question,
        "answers": [
            {"text": a.text, "score": a.score,
             "evidence": [{"doc": e.doc, "sentence": e.sentence, "triple": list(e.triple) if e.triple else None}
                          for e in a.evidence]}
            for a in result.answers
        ],
    }

    def human() -> None:
        if not result.answers:
            out.print("No answer found.")
            return
        for i, a in enumerate(result.answers, 1):
            out.print(f"[bold]{i}. {a.text}[/bold]  (confidence {a.score:.2f})")
            for e in a.evidence[:3]:
                fact = " ".join(e.triple) if e.triple else ""
                out.print(f"   {fact}  [dim]— {e.doc}: {e.sentence[:140]}[/dim]")

    emit(as_json, data, human)


def register(app: typer.Typer) -> None:
    app.command()(ner)
    app.command()(ask)
