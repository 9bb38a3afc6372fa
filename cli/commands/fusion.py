"""``kgnlp train classify|qa`` and ``kgnlp classify``: thin wiring over ``fusion``."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from cli.common import (FUSION, ConfigOpt, EntityVectorsOpt, FreshOpt, JsonOpt, KnowledgeDropoutOpt, OutFolderOpt,
                        PrecisionOpt, QuietOpt, SeedOpt, TrainLayersOpt, WorkspaceOpt, check_entity_vectors,
                        check_knowledge_dropout, positive_rate, read_text_arg)

if TYPE_CHECKING:
    from fusion.config import SavedConfig

FusionOpt = Annotated[str, typer.Option("--fusion", callback=FUSION, help="Knowledge paths: none, facts, embeddings or both.")]
EncoderOpt = Annotated[Optional[Path], typer.Option("--encoder", help="Local HF model folder (default MiniLM).")]
RetrievedOpt = Annotated[int, typer.Option(
    "--retrieved", min=0, help="With --fusion facts|both: also read this many facts from the workspace's FAISS fact "
    "index, those most like the question (or the text), attached to [CLS] or the mention they name; the fact index "
    "is built if missing (`kgnlp index --kind facts`).")]


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    train_app.command("classify")(train_classify_cmd)
    train_app.command("qa")(train_qa_cmd)
    app.command("classify")(classify_cmd)


def _knowledge(workspace: Path, fusion: str, config: Path | None = None, entity_vectors: str = "trained",
               retrieved: int = 0, quiet: bool = False):
    """The workspace's graph (and its best embeddings when the embeddings path is on, completed as
    ``entity_vectors`` says: ``fusion.examples.vectors_for_training``; and its FAISS retriever when the model reads
    ``retrieved`` facts), or None for 'none'.
    Facts are put into words with the schema in force (``--config``, else ./kgnlp.toml or the workspace's)."""
    if fusion == "none":
        return None
    from cli.common import schema_in_force
    from cli.common import workspace as open_ws
    from fusion.errors import FusionError
    from fusion.examples import Knowledge, vectors_for_training

    ws_path = Path(workspace)
    if not ws_path.exists():
        raise FusionError(f"Workspace '{workspace}' does not exist; fusion '{fusion}' needs its graph. "
                          "Run `kgnlp ingest ...` first or use --fusion none.")
    store = open_ws(ws_path).read_embedded()
    embeddings = None
    if fusion in ("embeddings", "both"):
        from kg.embeddings import load_embeddings

        embeddings = vectors_for_training(load_embeddings(ws_path), store, entity_vectors)
    schema = schema_in_force(ws_path, config)
    retriever = (open_retriever(ws_path, store, schema, quiet, "update")  # training saves the index it brings in step
                 if retrieved and fusion in ("facts", "both") else None)
    return Knowledge(store=store, embeddings=embeddings, schema=schema, retriever=retriever,
                     workspace=str(ws_path))


def open_retriever(ws_path: Path, store, schema=None, quiet: bool = False, on_drift: str = "memory"):
    """The workspace's FAISS fact retriever (what a fused model reads), its index brought in step with the graph
    first, with a message: in memory (``on_drift="memory"``, inference: the workspace is not written) or saved
    (``"update"``, training); the other indexes are neither built nor touched."""
    from cli.common import workspace as open_ws
    from nlp.retrieval import Retriever

    return Retriever.open(open_ws(ws_path), store, schema=schema, kinds=("facts",), on_drift=on_drift,
                          notify=None if quiet else lambda msg: typer.echo(msg, err=True))


def check_fact_index(model: Path, retrieved: int, workspace: Path) -> None:
    """A model that reads ``retrieved`` facts from the workspace's FAISS fact index is refused when there is none:
    a reading command does not build it (writing into the workspace unasked, and slowly); `kgnlp index` does."""
    from fusion.errors import FusionError
    from nlp.index_sync import existing_kinds

    if retrieved and "facts" not in existing_kinds(workspace):
        raise FusionError(f"'{model}' reads {retrieved} retrieved facts per input from the workspace's FAISS fact "
                          f"index, and workspace '{workspace}' has none: build it with `kgnlp index -w {workspace}`.")


@contextmanager
def saved_model_knowledge(saved: SavedConfig, workspace: Path, quiet: bool = False, require: bool = False):
    """What the saved fused model (its config.json, ``fusion.config.saved_config``) reads at inference:
    ``(store, retriever, linker)`` of the workspace (the retriever only for a model that reads retrieved facts: the
    workspace must have a fact index, ``check_fact_index``; the linker: :func:`model_linker`), closed on exit;
    ``(None, None, None)`` for a 'none' model, or when there is no workspace at ``workspace`` (no folder, or a folder
    that is not a workspace: a warning on stderr, or an error with ``require``: scores without the model's graph
    would not be the model's)."""
    from cli.common import has_workspace
    from cli.common import workspace as open_ws
    from fusion.errors import FusionError

    reads_graph, found = saved.fusion.fusion != "none", has_workspace(workspace)
    if reads_graph and not found and require:
        raise FusionError(f"'{saved.folder}' reads the graph (fusion '{saved.fusion.fusion}'), but there is no kgnlp "
                          f"workspace at '{workspace}': pass the one it was trained with ({_trained_with(saved)}).")
    store = retriever = linker = None
    try:
        if reads_graph and found:
            check_fact_index(saved.folder, saved.fusion.retrieved, Path(workspace))
            store = open_ws(Path(workspace)).read_embedded()
            linker = model_linker(saved, store, workspace)
            if saved.fusion.retrieved:  # the model reads retrieved facts: the workspace's index
                retriever = open_retriever(Path(workspace), store, saved.fusion.schema(), quiet)
        elif reads_graph:
            warn_no_graph(saved, workspace)
        yield store, retriever, linker
    finally:
        if retriever is not None:
            retriever.close()
        if store is not None:
            store.close()


def _trained_with(saved: SavedConfig) -> str:
    """The -w option that gives a fused model the workspace it was trained with (-w DIR when it records none)."""
    return f"-w {saved.graph.workspace}" if saved.graph and saved.graph.workspace else "-w DIR"


def warn_no_graph(saved: SavedConfig, workspace: Path | None) -> None:
    """The one line on stderr for a fused model that reads the graph, used where there is no workspace (at
    ``workspace``, or none given): it runs without graph knowledge."""
    at = f" at '{workspace}'" if workspace is not None else ""
    typer.echo(f"Warning: '{saved.folder}' was trained to read the graph (fusion '{saved.fusion.fusion}'), but there "
               f"is no kgnlp workspace{at}: it runs without graph knowledge (pass {_trained_with(saved)}).", err=True)


def model_linker(saved: SavedConfig, store, workspace: Path | None):
    """The graph a fused model (its config.json) reads: ``store``, the graph of ``workspace`` as its readers see it
    (with the workspace's entity merges, ``kg.resolved.resolved``, as every command opens it: not resolved again
    here; store None: there is no workspace at ``workspace``, or workspace None: none at all). One line on stderr
    when it is not the graph the model was trained with, or there is none; an error where the model's KG table has
    none of the graph's entities (``fusion.origin.check_graph``). Returns the ``NameLinker`` the model links with,
    built from the names read for the comparison (read once for both; None: the model reads no graph)."""
    if saved.fusion.fusion == "none":
        return None
    if store is None or workspace is None:
        warn_no_graph(saved, workspace)
        return None
    from fusion.context import NameLinker
    from fusion.origin import check_graph

    names = list(store.names())
    line = check_graph(saved, store, workspace, names)
    if line:
        typer.echo(line, err=True)
    return NameLinker.from_rows(names)


RetrieveFromOpt = Annotated[str, typer.Option(
    "--retrieve-from", help="--retrieved facts from the whole index (graph) or only those read in the passage "
    "(passage: the text of a question + passage pair, else the text itself), or those placed after the sentence "
    "of the passage they were read in (sentence).")]
KgReadoutOpt = Annotated[bool, typer.Option(
    "--kg-readout", help="With --fusion embeddings|both: the logits also read the mean graph vector of the "
    "input's linked entities and facts (retrieved ones too), a direct path from the graph to the decision.")]

NoDevOpt = Annotated[bool, typer.Option(
    "--no-dev", help="Train on every example for --epochs and keep the last epoch: no dev split, no early "
    "stopping (for small sets, where a 10 % dev split is too small to choose an epoch by).")]


def _check_readout(kg_readout: bool, fusion: str) -> None:
    if kg_readout and fusion not in ("embeddings", "both"):  # before any data is read
        raise typer.BadParameter(f"reads graph embeddings: use --fusion embeddings or both, not '{fusion}'.",
                                 param_hint="--kg-readout")


def _check_paths(fusion: str, inject_layer: int, fact_mode: str, fact_words: str) -> None:
    """Before any data is read: options of a knowledge path the model does not have are refused, not ignored."""
    if inject_layer and fusion not in ("embeddings", "both"):
        raise typer.BadParameter(f"places graph embeddings: use --fusion embeddings or both, not '{fusion}'.",
                                 param_hint="--inject-layer")
    for value, default, hint in ((fact_mode, "kbert", "--fact-mode"), (fact_words, "branch", "--fact-words")):
        if value != default and fusion not in ("facts", "both"):
            raise typer.BadParameter(f"lays out graph facts: use --fusion facts or both, not '{fusion}'.",
                                     param_hint=hint)


def _check_retrieved(retrieved: int, fusion: str, retrieve_from: str) -> None:
    from fusion.config import RETRIEVE_FROM

    if retrieve_from not in RETRIEVE_FROM:  # before any data is read
        raise typer.BadParameter(f"'{retrieve_from}': choose {' or '.join(RETRIEVE_FROM)}.",
                                 param_hint="--retrieve-from")
    if retrieved and fusion not in ("facts", "both"):
        raise typer.BadParameter(f"retrieved facts need a facts path (--fusion facts|both), not '{fusion}'.",
                                 param_hint="--retrieved")
    if retrieve_from != "graph" and not retrieved:  # refused, not ignored (and saved) without retrieved facts
        raise typer.BadParameter(f"'{retrieve_from}' scopes the retrieved facts, and none are read: give --retrieved "
                                 "N (with --fusion facts|both).", param_hint="--retrieve-from")



def _settings(epochs: int, batch_size: int, accumulate: int, lr: float, seed: int, max_steps: int, patience: int,
              class_weight: str = "none", precision: str = "", knowledge_dropout: float = 0.0,
              fusion: str = "none", train_layers: int = -1):
    from fusion.train import CLASS_WEIGHTS, TrainSettings
    from nlp.models import matmul_precision

    check_knowledge_dropout(knowledge_dropout, fusion)
    if class_weight not in CLASS_WEIGHTS:
        raise typer.BadParameter(f"'{class_weight}': choose {' or '.join(CLASS_WEIGHTS)}.", param_hint="--class-weight")
    matmul_precision(precision)  # an unknown --precision fails before any data is read
    return TrainSettings(epochs=epochs, batch_size=batch_size, accumulate=accumulate, learning_rate=lr, seed=seed,
                         max_steps=max_steps, patience=patience, class_weight=class_weight, precision=precision,
                         knowledge_dropout=knowledge_dropout, train_layers=train_layers)


ClassWeightOpt = Annotated[str, typer.Option(
    "--class-weight", help="none, or balanced: weigh each class's loss by n / (k * count) (skewed labels).")]

TruncationOpt = Annotated[str, typer.Option(
    "--truncation-side", help="Where an overlong input is cut: right (its end) or left (its start; keeps e.g. "
    "an abstract's results).")]


def _check_truncation(side: str) -> None:
    from fusion.config import TRUNCATION_SIDES

    if side not in TRUNCATION_SIDES:  # before any data is read
        raise typer.BadParameter(f"'{side}': choose {' or '.join(TRUNCATION_SIDES)}.", param_hint="--truncation-side")


def _run_training(fn, quiet: bool):
    from cli.console import training_bar

    with training_bar("training", enabled=not quiet) as update:
        return fn(update)


def _emit(report: dict, as_json: bool, line: str) -> None:
    import json

    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(line)
        unseen = report.get("dev_labels_not_trained")
        if unseen:
            typer.echo(f"Dev labels no training example has (the model cannot predict them; their dev examples are "
                       f"left out of the dev score): {', '.join(unseen)}.", err=True)


def train_classify_cmd(
    data: Annotated[Path, typer.Option("--data", help="JSONL: {\"text\", \"label\"} or {\"text\", \"labels\": [...]}.")],
    out_dir: OutFolderOpt,
    fusion: FusionOpt = "none",
    encoder: EncoderOpt = None,
    fact_mode: Annotated[str, typer.Option("--fact-mode", help="kbert (mask + soft positions) or concat.")] = "kbert",
    fact_words: Annotated[str, typer.Option("--fact-words", help="kbert facts after their mention: branch (without "
                                            "the entity's name, as K-BERT) or sentence (the whole fact).")] = "branch",
    inject_layer: Annotated[int, typer.Option("--inject-layer", min=0, help="0 = input embeddings, k = after layer k.")] = 0,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 3,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 16,
    accumulate: Annotated[int, typer.Option("--accumulate", min=1, help="Gradient accumulation steps.")] = 1,
    lr: Annotated[float, typer.Option("--lr", callback=positive_rate, help="Encoder learning rate.")] = 5e-5,
    max_length: Annotated[int, typer.Option("--max-length", min=16)] = 128,
    truncation_side: TruncationOpt = "right",
    seed: SeedOpt = 13,
    patience: Annotated[int, typer.Option("--patience", min=1, help="Epochs without dev gain before stopping.")] = 2,
    max_steps: Annotated[int, typer.Option("--max-steps", min=0, help="Stop after N updates (0 = no limit).")] = 0,
    class_weight: ClassWeightOpt = "none",
    precision: PrecisionOpt = "",
    entity_vectors: EntityVectorsOpt = "trained",
    knowledge_dropout: KnowledgeDropoutOpt = 0.0,
    train_layers: TrainLayersOpt = -1,
    retrieved: RetrievedOpt = 0,
    retrieve_from: RetrieveFromOpt = "graph",
    kg_readout: KgReadoutOpt = False,
    no_dev: NoDevOpt = False,
    fresh: FreshOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = Path("./kgnlp-workspace"),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fine-tune a (knowledge-fused) text classifier; resumes from OUT/checkpoint if present.

    Example: kgnlp train classify --data data/labelled/sentiment.jsonl --fusion both --out models/sentiment
    """
    from fusion.config import FusionConfig
    from fusion.data import read_classification
    from fusion.tasks import train_classifier
    from fusion.train import check_train_layers

    _check_truncation(truncation_side)
    _check_retrieved(retrieved, fusion, retrieve_from)
    _check_readout(kg_readout, fusion)
    _check_paths(fusion, inject_layer, fact_mode, fact_words)
    check_entity_vectors(entity_vectors, fusion)
    settings = _settings(epochs, batch_size, accumulate, lr, seed, max_steps, patience, class_weight, precision,
                         knowledge_dropout, fusion, train_layers)
    check_train_layers(train_layers, encoder)
    examples, multi = read_classification(data)
    knowledge = _knowledge(workspace, fusion, config, entity_vectors, retrieved, quiet or as_json)
    cfg = FusionConfig(head="multilabel" if multi else "sequence", labels=("_",), fusion=fusion,
                       fact_mode=fact_mode, fact_words=fact_words, inject_layer=inject_layer, max_length=max_length,
                       truncation_side=truncation_side, retrieved=retrieved, retrieve_from=retrieve_from,
                       kg_readout=kg_readout)
    report = _run_training(lambda cb: train_classifier(examples, out_dir, cfg, encoder=encoder, knowledge=knowledge,
                                                       settings=settings, dev=[] if no_dev else None,
                                                       progress=cb, resume=not fresh), quiet)
    dev = ", ".join(f"{k} {v:.3f}" for k, v in report.dev.items() if isinstance(v, float))
    _emit(report.as_dict(), as_json, f"Saved {out_dir} ({report.train.summary()}){'; dev ' + dev if dev else ''}")


def train_qa_cmd(
    data: Annotated[Path, typer.Option("--data", help="JSONL {\"question\",\"context\",\"answer\"} or PubMedQA JSON.")],
    out_dir: OutFolderOpt,
    fusion: FusionOpt = "none",
    encoder: EncoderOpt = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 3,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    accumulate: Annotated[int, typer.Option("--accumulate", min=1)] = 2,
    lr: Annotated[float, typer.Option("--lr", callback=positive_rate)] = 5e-5,
    max_length: Annotated[int, typer.Option("--max-length", min=32)] = 256,
    truncation_side: TruncationOpt = "right",
    long_answers: Annotated[bool, typer.Option(
        "--long-answers", help="PubMedQA JSON: train also on each question with its abstract's conclusion as the "
        "text (LONG_ANSWER); the model still answers from the abstract.")] = False,
    seed: SeedOpt = 13,
    patience: Annotated[int, typer.Option("--patience", min=1)] = 2,
    max_steps: Annotated[int, typer.Option("--max-steps", min=0)] = 0,
    class_weight: ClassWeightOpt = "none",
    precision: PrecisionOpt = "",
    entity_vectors: EntityVectorsOpt = "trained",
    knowledge_dropout: KnowledgeDropoutOpt = 0.0,
    train_layers: TrainLayersOpt = -1,
    retrieved: RetrievedOpt = 0,
    retrieve_from: RetrieveFromOpt = "graph",
    kg_readout: KgReadoutOpt = False,
    no_dev: NoDevOpt = False,
    fresh: FreshOpt = False,
    config: ConfigOpt = None,
    workspace: WorkspaceOpt = Path("./kgnlp-workspace"),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fine-tune QA: extractive spans, or yes/no/maybe (PubMedQA JSON, or JSONL answers yes/no/maybe).

    Example: kgnlp train qa --data ori_pqal.json --fusion facts --out models/pubmedqa
    """
    from fusion.config import FusionConfig
    from fusion.data import pubmedqa_train_dev, read_qa
    from fusion.tasks import train_classifier, train_span_qa
    from fusion.train import check_train_layers

    _check_truncation(truncation_side)
    _check_retrieved(retrieved, fusion, retrieve_from)
    _check_readout(kg_readout, fusion)
    check_entity_vectors(entity_vectors, fusion)
    settings = _settings(epochs, batch_size, accumulate, lr, seed, max_steps, patience, class_weight, precision,
                         knowledge_dropout, fusion, train_layers)
    check_train_layers(train_layers, encoder)
    dev_fraction = 0.0 if no_dev else 0.1
    dev_examples = [] if no_dev else None
    if long_answers:  # split by question first: dev answers from abstracts only, as a user's model will
        (examples, dev_examples), kind = pubmedqa_train_dev(data, dev_fraction, seed, long_answers=True), "yesno"
    else:
        examples, kind = read_qa(data)
    knowledge = _knowledge(workspace, fusion, config, entity_vectors, retrieved, quiet or as_json)
    if kind == "yesno":
        cfg = FusionConfig(head="sequence", labels=("_",), fusion=fusion, max_length=max_length,
                           truncation_side=truncation_side, retrieved=retrieved, retrieve_from=retrieve_from,
                           kg_readout=kg_readout)
        fn = lambda cb: train_classifier(examples, out_dir, cfg, encoder=encoder, knowledge=knowledge,  # noqa: E731
                                         settings=settings, dev=dev_examples, progress=cb, resume=not fresh)
    else:
        cfg = FusionConfig(head="span", fusion=fusion, max_length=max_length, truncation_side=truncation_side,
                           retrieved=retrieved, retrieve_from=retrieve_from, kg_readout=kg_readout)
        fn = lambda cb: train_span_qa(examples, out_dir, cfg, encoder=encoder, knowledge=knowledge,  # noqa: E731
                                      settings=settings, dev_fraction=dev_fraction, progress=cb,
                                      resume=not fresh)
    unfound = sum(e.answer_start < 0 for e in examples) if kind == "span" else 0
    if unfound and not (quiet or as_json):
        from cli.console import err

        err.print(f"Note: {unfound} of {len(examples)} answers are not in their context; they are trained as "
                  "'no answer' (give answer_start, or check the data).")
    report = _run_training(fn, quiet)
    dev = ", ".join(f"{k} {v:.3f}" for k, v in report.dev.items() if isinstance(v, float))
    _emit({**report.as_dict(), "kind": kind, **({"answers_not_in_context": unfound} if kind == "span" else {})},
          as_json,
          f"Saved {out_dir} ({kind}, {report.train.summary()}){'; dev ' + dev if dev else ''}")


def classify_cmd(
    text: Annotated[str, typer.Argument(help="Text to classify, or '-' to read standard input; with --lines a file "
                                        "(or '-') holding one text per line.")],
    model: Annotated[Path, typer.Option("--model", help="Folder written by `kgnlp train classify`.")],
    lines: Annotated[bool, typer.Option(
        "--lines", help="TEXT is a file (or '-' for standard input) with one text per line: one result per "
        "non-empty line, in order (JSON lines with --json, else label, score and text by tabs).")] = False,
    workspace: WorkspaceOpt = Path("./kgnlp-workspace"),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Classify a text (or, with --lines, each line of a file) with a trained (knowledge-fused) model; the
    workspace graph supplies links and facts. A multilabel model shows every label above probability 0.5, joined
    by commas ('(none)' if none; JSON "labels"), with the top label's score.

    Example: kgnlp classify "Northwind's revenue beat forecasts." --model models/sentiment --json
    """
    import json

    from fusion.config import check_classifier, saved_config
    from fusion.predict import Classifier

    saved = saved_config(model)  # config.json, read once for every check and the load
    # another task's model is refused before any text is read or the workspace compared with its graph
    check_classifier(saved, "`kgnlp classify`")
    texts = _line_texts(text) if lines else [read_text_arg(text)]
    with saved_model_knowledge(saved, workspace, quiet or as_json) as (store, retriever, linker):
        classifier = Classifier.load(saved, store, retriever, linker)
        multilabel = classifier.model.config.head == "multilabel"
        for start in range(0, len(texts), _CLASSIFY_CHUNK):  # bounded memory for long files, output as it goes
            for pred in classifier.classify(texts[start:start + _CLASSIFY_CHUNK]):
                if as_json:
                    typer.echo(json.dumps({**({"text": pred.text} if lines else {}), "label": pred.label,
                                           "labels": list(pred.labels), "score": round(pred.score, 6),
                                           "scores": {k: round(v, 6) for k, v in pred.scores.items()},
                                           "entities": list(pred.entities), "facts": list(pred.facts)}))
                else:
                    shown = (",".join(pred.labels) or "(none)") if multilabel else pred.label
                    typer.echo(f"{shown}\t{pred.score:.3f}" + (f"\t{pred.text}" if lines else ""))


_CLASSIFY_CHUNK = 256


def _line_texts(source: str) -> list[str]:
    """The non-empty lines of a file, or of standard input for '-'."""
    from fusion.errors import FusionError

    if source == "-":
        raw = read_text_arg(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise FusionError(f"--lines: no such file '{source}'.")
        try:
            raw = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not part of the first text
        except UnicodeDecodeError:
            raise FusionError(f"--lines: '{source}' is not UTF-8 text.") from None
    texts = [line.strip() for line in raw.splitlines() if line.strip()]
    if not texts:
        raise FusionError(f"--lines: no text in '{source}'.")
    return texts
