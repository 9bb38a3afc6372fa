"""``kgnlp embed`` (graph embeddings), ``kgnlp index`` (FAISS indexes) and ``kgnlp retrieve``."""
from __future__ import annotations

import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Callable, Iterator, List, Optional

import typer

from cli.common import (ConfigOpt, Connection, JsonOpt, QuietOpt, SeedOpt, emit, given, positive_rate,
                        read_text_arg, schema_in_force, with_connection)
from cli.console import out, progress_bar
from kg.errors import KGError

MODELS = ("transe", "distmult", "complex", "rotate")
KINDS = ("facts", "chunks", "entities")
_EMPTY = {"facts": "the graph has no facts yet", "chunks": "no documents are stored yet",
          "entities": "the graph has no entities yet"}


@with_connection
def embed(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", "-m", help="transe, distmult, complex or rotate.")] = "transe",
    dim: Annotated[int, typer.Option(
        "--dim", min=1, help="Embedding size (complex components for complex/rotate).")] = 64,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Most epochs; early stopping may end sooner.")] = 100,
    evaluate: Annotated[bool, typer.Option(
        "--eval", help="Hold out 10% of facts and report filtered MRR, Hits@1/3/10. The vectors saved are the ones "
        "evaluated, trained without those facts; rerun without --eval to save vectors of every fact.")] = False,
    infer_new: Annotated[bool, typer.Option(
        "--infer-new", help="No training: give vectors to entities added since (marked inferred).")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 512,
    lr: Annotated[Optional[float], typer.Option("--lr", callback=positive_rate,
                                                     help="Adam learning rate (default: tuned per model).")] = None,
    negatives: Annotated[int, typer.Option("--negatives", min=1, help="Negative samples per fact.")] = 8,
    patience: Annotated[int, typer.Option(
        "--patience", min=1, help="Validation checks without gain before stopping.")] = 3,
    eval_every: Annotated[int, typer.Option("--eval-every", min=1, help="Epochs between validation checks.")] = 5,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Train knowledge-graph embeddings (PyKEEN) on the workspace graph; saved in <workspace>/embeddings/<model>/.

    Example: kgnlp embed --model rotate --dim 64 --epochs 50 --eval
    """
    from kg.embeddings import TrainConfig, embeddings_dir, train_and_evaluate, train_embeddings

    if model.lower() not in MODELS:
        raise typer.BadParameter(f"'{model}'. Choose one of: {', '.join(MODELS)}", param_hint="--model")
    if infer_new:
        _check_nothing_trained(ctx)
    ws = conn.workspace()
    if not infer_new:  # before training, not at its end: where the vectors go can be made
        from kg.files import make_folder

        make_folder(embeddings_dir(ws.path, model.lower()), "embeddings folder", "kgnlp embed", create=False)
    graph = conn.open(ws)
    try:
        if infer_new:
            data = _infer_new(ws.path, graph, model.lower(), quiet or as_json)
            emit(as_json, data, lambda: out.print(
                f"{data['inferred']} new entities got vectors ({data['from_neighbours']} from neighbours, "
                f"{data['from_name']} from names); {data['without']} still without one. Saved to {data['path']}."))
            return
        config = TrainConfig(model=model, dim=dim, epochs=epochs, batch_size=batch_size, learning_rate=lr,
                             negatives=negatives, patience=patience, eval_every=eval_every, seed=seed)
        with _epoch_bar(f"Training {model}", epochs, not (quiet or as_json)) as update:
            if evaluate:
                result, metrics = train_and_evaluate(graph, config, progress=update)
            else:
                result, metrics = train_embeddings(graph, config, progress=update), None
    finally:
        graph.close()
    emb = result.embeddings
    path = emb.save(embeddings_dir(ws.path, emb.model))
    m = emb.meta
    data = {"model": m.model, "dim": emb.dim, "entities": len(emb), "relations": len(emb.relation_ids),
            "facts": m.facts, "epochs_run": m.epochs_run, "best_epoch": m.best_epoch,
            "stopped_early": result.stopped_early, "seconds": m.seconds, "valid_mrr": m.valid_mrr, "path": str(path),
            "eval": metrics.as_dict() if metrics else None}
    emit(as_json, data, lambda: _print_training(data))


_TRAINING_OPTIONS = {"dim": "--dim", "epochs": "--epochs", "evaluate": "--eval", "batch_size": "--batch-size",
                     "lr": "--lr", "negatives": "--negatives", "patience": "--patience", "eval_every": "--eval-every",
                     "seed": "--seed"}


def _check_nothing_trained(ctx: typer.Context) -> None:
    """--infer-new trains nothing: options of a training run given with it are refused, not ignored."""
    used = [flag for name, flag in _TRAINING_OPTIONS.items() if given(ctx, name)]
    if used:
        raise typer.BadParameter(f"trains nothing (it places new entities among the trained vectors), so "
                                 f"{', '.join(used)} would not be used: leave {'it' if len(used) == 1 else 'them'} "
                                 "out, or drop --infer-new to retrain.", param_hint="--infer-new")


def _print_training(data: dict) -> None:
    valid = f"{data['valid_mrr']:.3f}" if data["valid_mrr"] is not None else "n/a"
    out.print(f"Trained {data['model']} on {data['facts']} facts, {data['entities']} entities: "
              f"{data['epochs_run']} epochs (best {data['best_epoch']}), validation MRR {valid}, "
              f"{data['seconds']:.1f} s.")
    if data["eval"]:
        e = data["eval"]
        out.print(f"Held-out facts ({e['count']} rankings, filtered): MRR {e['mrr']:.3f}  "
                  f"Hits@1 {e['hits_at_1']:.3f}  Hits@3 {e['hits_at_3']:.3f}  Hits@10 {e['hits_at_10']:.3f}")
    out.print(f"Saved to {data['path']}")


def _infer_new(ws_path: Path, graph, model: str, quiet: bool) -> dict:
    from kg.embeddings import embeddings_dir, infer_new_entities, load_embeddings
    from kg.embeddings.vectors import FROM_NAME, FROM_NEIGHBOURS

    emb = load_embeddings(ws_path, model)
    before = len(emb)
    entities = list(graph.entities())
    embed_names = None
    try:
        from nlp.embedder import Embedder

        embed_names = Embedder().encode
    except ImportError:  # pragma: no cover - the embedder ships with the package
        pass
    with progress_bar("Inferring", enabled=not quiet) as update:
        update(0, 1)
        emb = infer_new_entities(emb, graph, entities, embed_names)
        update(1, 1)
    added = emb.sources[before:]
    path = emb.save(embeddings_dir(ws_path, model))
    return {"model": model, "inferred": len(added), "from_neighbours": added.count(FROM_NEIGHBOURS),
            "from_name": added.count(FROM_NAME), "without": sum(1 for e in entities if e.id not in emb),
            "path": str(path)}


@contextmanager
def _epoch_bar(description: str, total: int, enabled: bool) -> Iterator[Callable]:
    """A rich bar over epochs showing loss and validation MRR, with rate and ETA."""
    if not enabled:
        yield None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    from cli.console import err

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"),
                  TextColumn("loss {task.fields[loss]}  val MRR {task.fields[mrr]}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err) as bar:
        task = bar.add_task(description, total=total, loss="-", mrr="-", rate="")
        state = {"mrr": "-"}

        def update(event) -> None:
            if event.valid_mrr is not None:
                state["mrr"] = f"{event.valid_mrr:.3f}"
            speed = bar.tasks[0].speed
            bar.update(task, completed=event.epoch, loss=f"{event.loss:.4f}", mrr=state["mrr"],
                       rate=f"{speed:.2f} epoch/s" if speed else "")

        yield update


@contextmanager
def _lazy_bar(description: str, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar drawn only once there is progress to show (retrieve usually has none)."""
    with ExitStack() as stack:
        bars: list[Callable[[int, int], None]] = []

        def update(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(progress_bar(description, enabled)))
            bars[0](done, total)

        yield update


@with_connection
def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild from scratch instead of updating.")] = False,
    kinds: Annotated[Optional[List[str]], typer.Option(
        "--kind", help="Only this index (facts, chunks, entities); repeatable.")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Build or update the FAISS indexes (entity names, verbalised facts, document chunks) in <workspace>/index/.

    Only what changed in the graph is embedded; ingest and remove keep existing indexes updated.

    Example: kgnlp index --rebuild
    """
    from nlp.retrieval import update_indexes

    for kind in kinds or ():
        if kind not in KINDS:
            raise typer.BadParameter(f"'{kind}'. Choose one of: {', '.join(KINDS)}", param_hint="--kind")
    ws = conn.workspace()
    schema = schema_in_force(ws.path, config)
    graph = conn.open(ws)
    try:
        with progress_bar("Embedding", enabled=not (quiet or as_json)) as update:
            reports = update_indexes(ws, graph, progress=update, schema=schema, rebuild=rebuild,
                                     kinds=kinds or ("entities", "facts", "chunks"))
    finally:
        graph.close()
    data = {kind: rep.as_dict() for kind, rep in reports.items()}

    def human() -> None:
        for kind, rep in reports.items():
            how = "rebuilt" if rep.rebuilt else "updated"
            why = f" ({rep.reason})" if rep.reason else ""
            out.print(f"{kind:9} {how}{why}: {rep.total} items in a {rep.index_type} index, +{rep.added} "
                      f"-{rep.removed} ~{rep.updated}, {rep.seconds:.2f} s")

    emit(as_json, data, human)


@with_connection
def retrieve(
    text: Annotated[str, typer.Argument(help="Query text, or '-' to read it from standard input.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, help="How many results.")] = 10,
    kind: Annotated[str, typer.Option("--kind", help="facts, chunks or entities.")] = "facts",
    entity: Annotated[Optional[List[str]], typer.Option(
        "--entity", help="Entity id to rank around (skips linking); repeatable.")] = None,
    graph_weight: Annotated[float, typer.Option(
        "--graph-weight", help="Weight of graph proximity in the score (0: vectors only).")] = 0.3,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Find the facts, document chunks or entity names closest to TEXT, ranked by vector similarity and
    graph proximity to the entities TEXT names.

    Example: kgnlp retrieve "What does metformin treat?" --k 5 --kind facts
    """
    from nlp.retrieval import Retriever

    if kind not in KINDS:
        raise typer.BadParameter(f"'{kind}'. Choose one of: {', '.join(KINDS)}", param_hint="--kind")
    if not 0.0 <= graph_weight <= 1.0:
        raise typer.BadParameter(f"{graph_weight} is not between 0 and 1", param_hint="--graph-weight")
    query = read_text_arg(text).strip()
    ws = conn.workspace()
    graph = conn.open(ws)
    notify = None if quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        unknown = [e for e in entity or () if graph.entity(e) is None]
        if unknown:
            raise KGError(f"No entity with id {', '.join(map(repr, unknown))} in the graph; --entity takes ids "
                          "(`kgnlp query entity NAME` shows an entity's id).")
        with _lazy_bar("Indexing", enabled=not (quiet or as_json)) as update:
            retriever = Retriever.open(ws, graph, schema=schema_in_force(ws.path, config), notify=notify,
                                       progress=update, graph_weight=graph_weight, on_drift="memory")
        try:
            linked = list(dict.fromkeys(entity)) if entity else retriever.link(query)  # an id given twice: once
            hits = retriever.search(query, k=k, kind=kind, entity_ids=linked)
        finally:
            retriever.close()
    finally:
        graph.close()
    data = {"query": query, "kind": kind, "linked": linked, "hits": [h.as_dict() for h in hits]}

    def human() -> None:
        if linked:
            out.print(f"Linked: {', '.join(linked)}")
        if not hits:  # search finds nothing only in an empty index: say which, as the others may hold items
            out.print(f"No results: the {kind} index is empty ({_EMPTY[kind]}).")
        for n, h in enumerate(hits, 1):
            src = ", ".join(h.doc_ids[:3]) or "-"
            out.print(f"{n:2}. {h.score:.3f}  {h.text}")
            out.print(f"      similarity {h.similarity:.3f}  graph {h.proximity:.2f}  source: {src}")

    emit(as_json, data, human)


def register(app: typer.Typer) -> None:
    """Add ``embed``, ``index`` and ``retrieve`` to the ``kgnlp`` app."""
    app.command("embed")(embed)
    app.command("index")(index)
    app.command("retrieve")(retrieve)
