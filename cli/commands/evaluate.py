"""``kgnlp eval ner|relations|qa``: scores on a labelled file against the workspace graph."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cli.common import DEFAULT_WORKSPACE, ConfigOpt, JsonOpt, WorkspaceOpt, emit, open_store, schema_in_force, workspace
from cli.console import out

DataOpt = Annotated[Path, typer.Option("--data", help="Labelled JSONL file.")]


def eval_ner(data: DataOpt,
             model: Annotated[Optional[List[Path]], typer.Option(
                 "--model", help="A trained NER model folder (repeat for several: they vote, like --profile accurate).")] = None,
             ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE), as_json: JsonOpt = False) -> None:
    """Entity-level P/R/F1 (exact span and type) on {"text","entities":[{start,end,label}]} lines.

    Example: kgnlp eval ner --data data/labelled/ner.jsonl
    """
    from cli.commands.ingest import profile_layers, profile_vote
    from nlp.evaluation import evaluate_ner

    graph = open_store(workspace(ws_path))
    try:
        layers = profile_layers(None, model, graph)
        scores = evaluate_ner(graph, data, layers, vote=profile_vote(layers))
    finally:
        graph.close()
    emit(as_json, {k: asdict(v) for k, v in scores.items()}, lambda: _table(
        ["label", "P", "R", "F1", "tp", "fp", "fn"],
        [[k, f"{v.precision:.3f}", f"{v.recall:.3f}", f"{v.f1:.3f}", str(v.tp), str(v.fp), str(v.fn)]
         for k, v in scores.items()]))


def eval_relations(data: DataOpt, ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE), as_json: JsonOpt = False) -> None:
    """Facts stored per document vs gold {"doc","triples":[[head,REL,tail]]} lines: P/R/F1.

    Example: kgnlp eval relations --data data/labelled/doc_triples.jsonl
    """
    from nlp.evaluation import evaluate_relations

    graph = open_store(workspace(ws_path))
    try:
        s = evaluate_relations(graph, data)
    finally:
        graph.close()
    emit(as_json, asdict(s), lambda: out.print(
        f"relations: P={s.precision:.3f} R={s.recall:.3f} F1={s.f1:.3f} (tp={s.tp} fp={s.fp} fn={s.fn})"))


def eval_qa(data: DataOpt, ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE), config: ConfigOpt = None,
            as_json: JsonOpt = False) -> None:
    """Exact match and hits@1/3/10 on {"question","answers":[...]} lines.

    Example: kgnlp eval qa --data data/labelled/qa.jsonl
    """
    from nlp.evaluation import evaluate_qa

    ws = workspace(ws_path)
    graph = open_store(ws)
    try:
        s = evaluate_qa(graph, data, schema_in_force(ws.path, config))
    finally:
        graph.close()
    data_out = {"questions": s.questions, "answered": s.answered, "exact_match": s.exact_match,
                "hits": {str(k): v for k, v in s.hits_at.items()}}
    emit(as_json, data_out, lambda: out.print(
        f"{s.questions} questions, {s.answered} answered: exact match {s.exact_match:.3f}, "
        + ", ".join(f"hits@{k} {v:.3f}" for k, v in s.hits_at.items())))


def _table(columns: list[str], rows: list[list[str]]) -> None:
    from rich.table import Table

    table = Table()
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*r)
    out.print(table)


def register(eval_app: typer.Typer) -> None:
    eval_app.command("ner")(eval_ner)
    eval_app.command("relations")(eval_relations)
    eval_app.command("qa")(eval_qa)
