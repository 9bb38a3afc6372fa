"""``kgnlp ingest``, ``kgnlp remove`` and ``kgnlp documents``."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cli.common import ConfigOpt, Connection, JsonOpt, ProfileOpt, QuietOpt, config_path, emit, with_connection
from cli.console import out, progress_bar


@with_connection
def ingest(
    paths: Annotated[List[Path], typer.Argument(help="Files or folders of .txt, .md, .jsonl documents.")],
    seed: Annotated[Optional[Path], typer.Option(help="Seed graph folder (entities.jsonl, triples.tsv) to load first.")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="A trained NER model folder to add as a layer.")] = None,
    profile: ProfileOpt = None,
    processes: Annotated[int, typer.Option("--processes", min=0, help="Worker processes for the spaCy pass "
                                           "(0: automatic, 2 for 200+ documents; env KGNLP_PROCESSES).")] = 0,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Extract entities and facts from documents into the workspace graph.

    Re-running on the same files adds nothing twice; a changed file replaces its old facts.

    Example: kgnlp ingest data/documents --seed data/seed
    """
    from kg.schema import load_schema
    from nlp.ingest import ingest_documents
    from nlp.loaders import load_documents

    docs = load_documents(list(paths))  # every file is checked before the workspace is touched
    check_profile(profile, model)
    ws = conn.workspace(create=True)
    schema = load_schema(config_path(ws.path, config))
    graph = conn.open(ws)
    try:
        layers = profile_layers(profile, model, graph)
        if seed is not None:
            from kg.seed import read_seed

            seeded = read_seed(seed, schema)
            graph.add(seeded.triples, seeded.entities)
        with progress_bar("Ingesting", enabled=not (quiet or as_json)) as update:
            report = ingest_documents(graph, docs, schema, layers, progress=update, processes=processes)
        _sync_indexes(ws, graph, quiet or as_json, schema)
    finally:
        graph.close()
    data = {"documents": report.documents, "entities": report.entities, "relations": report.relations,
            "seconds": report.seconds, "skipped": report.skipped}
    emit(as_json, data, lambda: out.print(
        f"Ingested {report.documents} document(s) ({report.skipped} already stored): "
        f"+{report.entities} entities, +{report.relations} relations in {report.seconds:.2f} s."))


def load_ner_layer(model: Path, store=None):
    """A trained NER layer: a fused model (graph-aware, uses ``store``) or an nlp.ner model dir."""
    from fusion.ner import is_fused_model

    if is_fused_model(model):
        from fusion.ner import FusedNER

        return FusedNER.load(model, store)
    from nlp.ner import load_ner_model

    return load_ner_model(model)


def check_profile(profile: str | None, model: Path | None) -> None:
    """Fail early, before anything is written, on a profile that cannot run (None: whatever --model is)."""
    from nlp.errors import NLPError

    if profile not in (None, "fast", "accurate"):
        raise NLPError(f"Unknown profile '{profile}'. Choose one of: fast, accurate.")
    if profile == "accurate" and model is None:
        raise NLPError("The accurate profile needs a trained transformer NER model: pass --model DIR "
                       "(train one with `kgnlp train ner --kind transformer --out DIR`).")
    if model is not None and not model.is_dir():
        raise NLPError(f"--model '{model}' is not a folder. Pass a trained model folder.")


def profile_layers(profile: str | None, model: Path | None, store=None) -> list:
    """The trained NER layers a profile runs: ``fast`` runs no transformer (graph names, spaCy, and a spaCy
    CNN model if given); ``accurate`` adds a transformer (or fused) token classifier, which it requires."""
    from nlp.errors import NLPError

    check_profile(profile, model)
    if model is None:
        return []
    layer = load_ner_layer(model, store)
    is_transformer = layer.name in ("transformer", "fused-ner")
    if profile == "fast" and is_transformer:
        raise NLPError(f"'{model}' is a transformer model; the fast profile runs none. Use --profile accurate.")
    if profile == "accurate" and not is_transformer:
        raise NLPError(f"'{model}' is not a transformer model; the accurate profile needs one "
                       "(`kgnlp train ner --kind transformer`).")
    return [layer]


def _sync_indexes(ws, graph, quiet: bool, schema=None) -> None:
    """Keep retrieval indexes in step with the graph when the workspace has them."""
    if not (ws.path / "index").exists():
        return
    from nlp.retrieval import update_indexes

    with progress_bar("Indexing", enabled=not quiet) as update:
        update_indexes(ws, graph, progress=update, schema=schema)


@with_connection
def remove(
    doc_id: Annotated[str, typer.Argument(help="Id of a stored document (see `kgnlp documents`).")],
    as_json: JsonOpt = False,
    *,
    conn: Connection,
) -> None:
    """Remove a document and the facts that only it supported.

    Example: kgnlp remove med03_warfarin
    """
    ws = conn.workspace()
    graph = conn.open(ws)
    try:
        removed = graph.remove_document(doc_id)
        _sync_indexes(ws, graph, True)
    finally:
        graph.close()
    emit(as_json, {"document": doc_id, "relations_removed": removed},
         lambda: out.print(f"Removed {doc_id} and {removed} fact(s) only it supported."))


@with_connection
def documents(
    as_json: JsonOpt = False,
    *,
    conn: Connection,
) -> None:
    """List the stored document ids.

    Example: kgnlp documents --json
    """
    graph = conn.open()
    try:
        ids = graph.document_ids()
    finally:
        graph.close()
    emit(as_json, {"documents": ids}, lambda: out.print("\n".join(ids) if ids else "No documents stored."))


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(remove)
    app.command()(documents)
