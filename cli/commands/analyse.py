"""``kgnlp ner`` and ``kgnlp ask``."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer
from rich.text import Text

from cli.common import (ConfigOpt, Connection, JsonOpt, ProfileOpt, emit, file_option, one_line, read_text_arg,
                        schema_in_force, with_connection)
from cli.console import out

if TYPE_CHECKING:
    from fusion.config import SavedConfig


@with_connection
def ner(
    text: Annotated[str, typer.Argument(help="Text to tag, or - to read standard input.")],
    model: Annotated[Optional[List[Path]], typer.Option("--model", help="A trained NER model folder to add as a "
                                                        "layer (repeat for several; see --profile).")] = None,
    html: Annotated[Optional[Path], file_option(
        "--html", help="Also write the text with entities highlighted.")] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
    *,
    conn: Connection,
) -> None:
    """Find entities in a text and link them to the workspace graph.

    Works without a workspace too (then only the spaCy model and --model find entities).

    Example: kgnlp ner "Metformin is used to treat type 2 diabetes."
    """
    from cli.common import has_workspace
    from kg.stores.sqlite import SQLiteStore
    from nlp.extractor import Extractor

    content = read_text_arg(text)
    has_ws = has_workspace(conn.ws_path)
    graph = conn.open() if has_ws else SQLiteStore.open(":memory:")
    try:
        from cli.commands.ingest import check_profile, load_models, ner_layers, profile_similarity, profile_vote

        # a fused model reads the workspace's graph; where there is none, it says so (naming the folder)
        layers = ner_layers(load_models(check_profile(profile, model)), graph if has_ws else None, conn.ws_path)
        similar = profile_similarity(profile, conn.ws_path) if has_ws else None
        try:
            analysis = Extractor.for_store(graph, extra_ner=layers, vote=profile_vote(layers),
                                           similar=similar).analyse([content])[0]
        finally:
            if similar is not None:
                similar.close()
        known = {m.entity_id for m in analysis.mentions if m.entity_id and graph.entity(m.entity_id)}
    finally:
        graph.close()
    rows = [{"text": m.text, "label": m.label, "start": m.start, "end": m.end,
             "entity_id": m.entity_id if m.entity_id in known else None} for m in analysis.mentions]
    if html:
        from kg.files import write_atomic
        from nlp.render import render_entities_html

        write_atomic(html, render_entities_html(content, analysis.mentions))

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


@with_connection
def ask(
    question: Annotated[str, typer.Argument(help="A question in plain English, or - for standard input.")],
    top: Annotated[int, typer.Option("--top", min=1, help="How many answers to show.")] = 5,
    qa_model: Annotated[Optional[Path], typer.Option(
        "--model", help="A trained QA model (`kgnlp train qa`): reads passages for yes/no/maybe questions and "
        "when the graph has no answer.")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    *,
    conn: Connection,
) -> None:
    """Answer a question from the graph, with the facts and sentences behind each answer.

    With --model, yes/no/maybe questions (and questions the graph cannot answer) are read from the best
    passages (FAISS chunks when `kgnlp index` was run, else the documents sharing the most words).

    Example: kgnlp ask "Who is the CEO of the company that acquired Bramble Biologics?"
    """
    from fusion.config import fused_config
    from nlp.errors import NLPError
    from nlp.qa import YES_NO, answer

    text = read_text_arg(question)
    saved = None if qa_model is None else fused_config(qa_model)  # config.json, read once for all that follows
    if qa_model is not None and saved is None:  # checked first: the graph may answer without it
        raise typer.BadParameter(f"'{qa_model}' is not a trained QA model folder (`kgnlp train qa --out DIR`).",
                                 param_hint="--model")
    if saved is not None:  # a classifier or an NER model too: refused even where the graph answers alone
        from fusion.reader import check_reader

        check_reader(saved)
    ws = conn.workspace()
    schema = schema_in_force(ws.path, config)
    graph = conn.open(ws)
    try:
        parts: list[dict] = []
        try:
            result = answer(graph, text, schema, limit=top)
            answers = answer_rows(result.answers)
            parts = [{"question": p.question, "answers": answer_rows(p.answers)} for p in result.parts]
        except NLPError:
            if saved is None:
                raise
            answers = []
        if saved is not None and (not answers or YES_NO.match(text.lower())):
            # the graph's answer stands where the model has no passage to read (a workspace of seeds or imports)
            if read := _read(ws, graph, text, saved, top, schema):
                answers, parts = read, []
    finally:
        graph.close()
    data = {"question": " ".join(text.split()), "answers": answers} | ({"parts": parts} if parts else {})

    def human() -> None:
        if not answers:
            out.print("No answer found.")
            return
        if not parts:
            _print_answers(answers)
        for part in parts:  # a compound question: each part's answers under it
            out.print(Text.assemble(("Q: ", "bold"), part["question"]))
            _print_answers(part["answers"], indent="  ")

    emit(as_json, data, human)


def answer_rows(answers) -> list[dict]:
    """``nlp.answers.Answer``s as JSON rows (``via``: the narrower entity an answer came from, the first where several,
    else None; ``via_all``: each of them, first to last)."""
    return [{"text": a.text, "score": a.score,
             "via": {"id": a.via_id, "name": a.via} if a.via else None,
             "via_all": [{"id": via_id, "name": name} for via_id, name in a.via_all],
             "evidence": [{"doc": e.doc, "sentence": e.sentence, "triple": list(e.triple) if e.triple else None}
                          for e in a.evidence]} for a in answers]


def _print_answers(answers: list[dict], indent: str = "") -> None:
    """Numbered answers, each with its confidence and the evidence lines behind it."""
    from nlp.answers import brief_evidence

    if not answers:
        out.print(f"{indent}No answer found.")
    for i, a in enumerate(answers, 1):
        out.print(Text.assemble((f"{indent}{i}. {a['text']}", "bold"), f"  (confidence {a['score']:.2f})"))
        for e in brief_evidence(a["evidence"], key=lambda e: tuple(e["triple"] or ())):
            fact = " ".join(e["triple"]) if e["triple"] else ""
            out.print(Text.assemble(f"{indent}   {fact}  ", (f"— {e['doc']}: {one_line(e['sentence'], 140)}", "dim")))


def _read(ws, graph, question: str, saved: SavedConfig, top: int, schema=None) -> list[dict]:
    """Answers read from passages by the QA model (its config.json), one per distinct answer text, best first
    (``schema``: the words of facts an out-of-step index is brought up to date with, as `kgnlp index` would)."""
    from cli.commands.fusion import check_fact_index, model_linker
    from fusion.reader import Passage, rank_passages, read_answers
    from nlp.index_sync import existing_kinds

    retrieved = saved.fusion.retrieved
    check_fact_index(saved.folder, retrieved, ws.path)
    # the indexes used: chunks where built, and the fact index of a model that reads retrieved facts; none is
    # built here (a reading command)
    kinds = [k for k in existing_kinds(ws) if k == "chunks" or (k == "facts" and retrieved)]
    retriever = None
    if kinds:
        from nlp.retrieval import Retriever

        retriever = Retriever.open(ws, graph, schema=schema, kinds=kinds, on_drift="memory",
                                   notify=lambda msg: typer.echo(msg, err=True))
    try:  # the retriever also serves a model that reads retrieved facts
        if "chunks" in kinds:
            passages = [Passage(h.doc_ids[0] if h.doc_ids else "", h.text)
                        for h in retriever.search(question, k=3, kind="chunks")]
        else:
            docs = [Passage(d, graph.document_text(d) or "") for d in graph.document_ids()]
            passages = rank_passages(question, docs, k=3)
        # one line on stderr if the model was trained with another graph; the names read for it link too
        linker = model_linker(saved, graph, ws.path)
        answers = read_answers(saved, question, passages, graph, retriever, linker)
    finally:
        if retriever is not None:
            retriever.close()
    best: dict[str, dict] = {}
    for a in answers:
        if a.text and a.text not in best:
            best[a.text] = {"text": a.text, "score": a.score, "via": None, "via_all": [],
                            "evidence": [{"doc": a.passage.doc_id, "sentence": a.passage.text[:400], "triple": None}]}
    return list(best.values())[:top]


def register(app: typer.Typer) -> None:
    app.command()(ner)
    app.command()(ask)
