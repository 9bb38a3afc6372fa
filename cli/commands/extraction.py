"""``kgnlp train ner`` and ``kgnlp entities merges|unmerge|resolve``: parsing, wiring and printing only."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.commands.ingest import sync_indexes
from cli.common import (DEFAULT_WORKSPACE, FUSION, NER_FORMAT, NER_KIND, ConfigOpt, Connection, EntityVectorsOpt,
                        FreshOpt, JsonOpt, KnowledgeDropoutOpt, OutFolderOpt, PrecisionOpt, QuietOpt, SeedOpt,
                        TrainLayersOpt, WorkspaceOpt, check_entity_vectors, check_knowledge_dropout, emit, given,
                        with_connection, workspace)
from cli.console import out


def register(app: typer.Typer, train_app: typer.Typer, entities_app: typer.Typer) -> None:
    """Add ``train ner`` to ``train_app`` and ``merges``/``unmerge``/``resolve`` to ``entities_app``."""
    train_app.command("ner")(train_ner_cmd)
    entities_app.command("merges")(merges_cmd)
    entities_app.command("unmerge")(unmerge_cmd)
    entities_app.command("resolve")(resolve_cmd)


def train_ner_cmd(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="Labelled training file.")],
    out_dir: OutFolderOpt,
    fmt: Annotated[str, typer.Option("--format", callback=NER_FORMAT, help="pubtator, iob, finer-csv or jsonl.")] = "jsonl",
    kind: Annotated[str, typer.Option("--kind", callback=NER_KIND, help="spacy (fast CNN) or transformer (accurate).")] = "spacy",
    encoder: Annotated[Optional[Path], typer.Option("--encoder", help="Local HF model folder (transformer).")] = None,
    dev: Annotated[Optional[Path], typer.Option("--dev", help="Labelled dev file: early stopping + final eval.")] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Training epochs.")] = 10,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 16,
    max_length: Annotated[int, typer.Option("--max-length", min=16, help="Transformer window (tokens).")] = 128,
    seed: SeedOpt = 13,
    device: Annotated[str, typer.Option(
        "--device", help="auto (a CUDA GPU when PyTorch sees one), cpu, cuda or cuda:N. Transformers only.")] = "auto",
    max_steps: Annotated[int, typer.Option("--max-steps", min=0, help="Stop after N updates (0 = no limit).")] = 0,
    cnn_width: Annotated[int, typer.Option("--cnn-width", min=8, help="spaCy only: CNN width (smaller = faster).")] = 96,
    cnn_depth: Annotated[int, typer.Option("--cnn-depth", min=1, help="spaCy only: CNN layers (fewer = faster).")] = 4,
    precision: PrecisionOpt = "",
    fusion: Annotated[Optional[str], typer.Option(
        "--fusion", callback=FUSION, help="Train a graph-fused transformer instead: none, facts, embeddings or both "
        "(uses the workspace graph and its KG embeddings).")] = None,
    entity_vectors: EntityVectorsOpt = "trained",
    knowledge_dropout: KnowledgeDropoutOpt = 0.0,
    train_layers: TrainLayersOpt = -1,
    fresh: FreshOpt = False,
    schema_file: ConfigOpt = None,
    ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train an NER model (spaCy CNN or transformer) and evaluate it at the end.

    Example: kgnlp train ner --data train.PubTator.txt --format pubtator --kind spacy --dev dev.PubTator.txt --out models/ner
    """
    from nlp.formats import load_labelled
    from nlp.ner import TrainConfig, load_ner_model, train_ner
    from nlp.evaluation import score_layer
    from nlp.ner.training import training_device, training_precision

    check_knowledge_dropout(knowledge_dropout, fusion)
    check_entity_vectors(entity_vectors, fusion)
    if train_layers != -1 and fusion is None:
        raise typer.BadParameter("applies to the fused transformer (--fusion none, facts, embeddings or both); "
                                 "--kind transformer fine-tunes every layer.", param_hint="--train-layers")
    if fresh and fusion is None:
        raise typer.BadParameter("applies to the fused transformer (--fusion ...), which resumes from a checkpoint; "
                                 "--kind spacy and transformer always start over.", param_hint="--fresh")
    _check_model_options(ctx, "fused" if fusion is not None else kind)
    if fusion is not None:
        from fusion.train import check_train_layers

        check_train_layers(train_layers, encoder)
    device = training_device("transformer" if fusion is not None else kind, device)  # before any data is read
    training_precision("transformer" if fusion is not None else kind, precision, device)  # so is --precision
    train_docs = load_labelled(data, fmt)
    dev_docs = load_labelled(dev, fmt) if dev else None
    if fusion is not None:
        _train_fused(train_docs, dev_docs, out_dir, fusion, encoder, epochs, batch_size, seed, max_steps,
                     max_length, ws_path, as_json or quiet, as_json, device, precision, schema_file, entity_vectors,
                     knowledge_dropout, train_layers, fresh)
        return
    config = TrainConfig(kind=kind, epochs=epochs, batch_size=batch_size, seed=seed, max_steps=max_steps,
                         encoder=str(encoder) if encoder else "", max_length=max_length,
                         device=device, cnn_width=cnn_width, cnn_depth=cnn_depth, precision=precision)
    show = not (quiet or as_json)
    report = _train_with_bar(train_ner, train_docs, out_dir, config, dev_docs, show)
    model = load_ner_model(out_dir)
    eval_docs, eval_on = (dev_docs, "dev") if dev_docs else (train_docs[:200], "train (no --dev given)")
    scores = score_layer(model, eval_docs)
    result = {"out": str(out_dir), "kind": kind, "labels": list(report.labels), "epochs": report.epochs_run,
              "best_epoch": report.best_epoch, "seconds": report.seconds, "train_docs": report.train_docs,
              "eval": {"on": eval_on, **scores.as_dict()}}  # the scores as `eval ner` writes them

    def human() -> None:
        from rich.table import Table

        out.print(f"Saved {kind} NER to {out_dir} ({report.epochs_run} epochs, {report.seconds:.0f}s).")
        table = Table(title=f"Eval on {eval_on}")
        for col in ("label", "P", "R", "F1"):
            table.add_column(col)
        for label, prf in (*scores.by_label.items(), ("micro", scores.overall)):
            table.add_row(label, f"{prf.precision:.3f}", f"{prf.recall:.3f}", f"{prf.f1:.3f}")
        out.print(table)

    emit(as_json, result, human)


_SPACY_ONLY = {"cnn_width": "--cnn-width", "cnn_depth": "--cnn-depth"}
_TRANSFORMER_ONLY = {"encoder": "--encoder", "max_length": "--max-length"}


def _check_model_options(ctx: typer.Context, model: str) -> None:
    """Before any data is read: options of another kind of NER model than the one trained (``model``: spacy,
    transformer or fused) are refused, not ignored; so is --kind with --fusion, which trains the fused one."""
    if model == "fused" and given(ctx, "kind"):
        raise typer.BadParameter("--fusion trains the fused transformer; leave --kind out.", param_hint="--kind")
    what = "a --fusion model" if model == "fused" else f"--kind {model}"
    if model == "spacy":
        wrong, applies = _TRANSFORMER_ONLY, "--kind transformer and --fusion models"
    else:
        wrong, applies = _SPACY_ONLY, "--kind spacy only"
    for name, flag in wrong.items():
        if given(ctx, name):
            raise typer.BadParameter(f"applies to {applies}, not to {what}; leave it out.", param_hint=flag)


def _train_fused(train_docs, dev_docs, out_dir, fusion, encoder, epochs, batch_size, seed, max_steps, max_length,
                 ws_path, quiet: bool, as_json: bool, device: str = "cpu", precision: str = "",
                 schema_file: Path | None = None, entity_vectors: str = "trained",
                 knowledge_dropout: float = 0.0, train_layers: int = -1, fresh: bool = False) -> None:
    """``train ner --fusion``: the fused token classifier, reading the workspace graph when a path is on."""
    from cli.console import training_bar
    from fusion.examples import vectors_for_training
    from fusion.ner import train_fused_ner
    from fusion.train import TrainSettings

    store = embeddings = schema = None
    if fusion != "none":
        from cli.common import schema_in_force, workspace

        ws = workspace(ws_path)
        schema = schema_in_force(ws.path, schema_file)
        store = ws.read_embedded()
        if fusion in ("embeddings", "both"):
            from kg.embeddings import load_embeddings

            embeddings = vectors_for_training(load_embeddings(ws.path), store, entity_vectors)
    settings = TrainSettings(epochs=epochs, batch_size=batch_size, seed=seed, max_steps=max_steps, device=device,
                             precision=precision, knowledge_dropout=knowledge_dropout, train_layers=train_layers)
    try:
        with training_bar("train ner (fused)", enabled=not quiet, dev_name="dev F1") as update:
            report = train_fused_ner(train_docs, out_dir, fusion=fusion, encoder=encoder, store=store,
                                     embeddings=embeddings, schema=schema, dev_docs=dev_docs,
                                     workspace=ws_path if store is not None else None, settings=settings,
                                     max_length=max_length, progress=update, resume=not fresh)
    finally:
        if store is not None:
            store.close()
    data = {"out": str(out_dir), "kind": "fused", **report.as_dict()}
    dev = (f"; dev F1 {report.dev['f1']:.3f} (precision {report.dev['precision']:.3f}, recall "
           f"{report.dev['recall']:.3f})") if report.dev else ""
    emit(as_json, data, lambda: out.print(f"Saved fused NER ({fusion}) to {out_dir} ({report.train.summary()}){dev}"))
    if report.unseen and not as_json:
        typer.echo(f"Dev entity types no training mention has (the model cannot tag them; their dev mentions count as "
                   f"misses in the dev F1): {', '.join(report.unseen)}.", err=True)


def _train_with_bar(train_fn, train_docs, out_dir, config, dev_docs, show: bool):
    from cli.console import training_bar

    with training_bar("train ner", enabled=show, dev_name="dev F1") as update:
        return train_fn(train_docs, out_dir, config, dev_docs=dev_docs, progress=update)


def _merge_log(ws_path: Path, read_only: bool = False):
    """The workspace's merge log; an empty one in memory when it has none, so that listing merges (or asking to
    undo one) leaves no new file behind. ``read_only``: the caller only reads it (a read-only workspace will do)."""
    from kg.merges import FILE_NAME, MergeLog

    path = ws_path / FILE_NAME
    return MergeLog.open(path, read_only) if path.exists() else MergeLog.open(":memory:")


def merges_cmd(
    ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
    include_undone: Annotated[bool, typer.Option("--all", help="Include undone merges.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List recorded entity merges (who, why, score).

    Example: kgnlp entities merges --json
    """
    ws = workspace(ws_path)
    with _merge_log(ws.path, read_only=True) as log:
        rows = [m.as_dict() for m in log.merges(include_undone)]

    def human() -> None:
        if not rows:
            out.print("No merges.")
            return
        for r in rows:
            state = " (undone)" if r["undone"] else ""
            out.print(f"#{r['id']}  {r['merged_id']} -> {r['canonical_id']}  score {r['score']:.2f}  "
                      f"by {r['who']}: {r['why']}{state}")

    emit(as_json, {"merges": rows}, human)


@with_connection
def unmerge_cmd(
    merge_id: Annotated[int, typer.Argument(help="Merge id from `kgnlp entities merges`.")],
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Undo one merge: the merged entity goes by its own id again (a later `entities resolve` leaves the two apart).
    The workspace's retrieval indexes are brought in step (--store: the graph they are made from).

    Example: kgnlp entities unmerge 3
    """
    ws = conn.workspace()
    store = conn.open(ws)  # before the undo: a store this workspace cannot open refuses the command, the log unchanged
    try:
        with _merge_log(ws.path) as log:
            merge = log.undo(merge_id)
        sync_indexes(ws, store, quiet or as_json)
    finally:
        store.close()
    emit(as_json, {"undone": merge.as_dict()},
         lambda: out.print(f"Undid merge #{merge.id}: {merge.merged_id} is separate from {merge.canonical_id} again."))


@with_connection
def resolve_cmd(
    ctx: typer.Context,
    embeddings: Annotated[bool, typer.Option("--embeddings/--no-embeddings",
                                             help="Also merge on MiniLM name similarity.")] = False,
    threshold: Annotated[float, typer.Option("--threshold", min=0.0, max=1.0,
                                             help="Name-embedding similarity needed to merge (with --embeddings)."
                                             )] = 0.92,
    encoder: Annotated[Optional[Path], typer.Option(
        "--encoder", help="Local HF model folder for the name embeddings (with --embeddings).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show proposals, record nothing.")] = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Run entity resolution over the workspace's graph (any --store) and record each merge (undo with `unmerge`).

    Example: kgnlp entities resolve --dry-run
    """
    from kg.merges import FILE_NAME as MERGES_FILE
    from kg.merges import MergeLog
    from nlp.resolution import resolve

    for option in ("threshold", "encoder"):  # refused, not ignored: the name and alias rules have fixed scores
        if not embeddings and given(ctx, option):
            raise typer.BadParameter("applies to name-embedding merges only: add --embeddings (the name, ticker "
                                     "and alias rules merge on exact evidence, at a fixed score).",
                                     param_hint=f"--{option}")
    ws = conn.workspace()
    store = conn.open(ws)
    try:
        entities = list(store.entities())
        name_encoder = None
        if embeddings:
            from nlp.name_encoder import NameEncoder

            name_encoder = NameEncoder(encoder)
        log_path = ws.path / MERGES_FILE
        with MergeLog.open(log_path if log_path.exists() or not dry_run else ":memory:") as log:  # dry run: no file
            done = resolve(entities, log, encoder=name_encoder, threshold=threshold, dry_run=dry_run)
        if done and not dry_run:
            sync_indexes(ws, store, quiet or as_json)
    finally:
        store.close()
    rows = [{"id": getattr(m, "id", None), "canonical_id": m.canonical_id, "merged_id": m.merged_id,
             "why": m.why, "score": m.score} for m in done]

    def human() -> None:
        verb = "Would merge" if dry_run else "Merged"
        for r in rows:
            tag = f"#{r['id']} " if r["id"] is not None else ""
            out.print(f"{tag}{verb} {r['merged_id']} -> {r['canonical_id']} ({r['why']}, {r['score']:.2f})")
        out.print(f"{len(rows)} merge(s) {'proposed' if dry_run else 'recorded'} over {len(entities)} entities.")

    emit(as_json, {"entities": len(entities), "dry_run": dry_run, "merges": rows}, human)
