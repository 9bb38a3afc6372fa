"""``kgnlp eval ner|relations|qa|classify``: scores on a labelled file against the workspace graph, or of a trained
fused model (``classify``, ``qa --model``)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from cli.common import DEFAULT_WORKSPACE, NER_FORMAT, ConfigOpt, JsonOpt, WorkspaceOpt, emit, schema_in_force, workspace
from cli.console import out

DataOpt = Annotated[Path, typer.Option("--data", help="Labelled JSONL file.")]


def eval_ner(data: Annotated[Path, typer.Option("--data", help="Labelled file.")],
             fmt: Annotated[str, typer.Option("--format", callback=NER_FORMAT, help="pubtator, iob, finer-csv or jsonl.")] = "jsonl",
             model: Annotated[Optional[List[Path]], typer.Option(
                 "--model", help="A trained NER model folder (repeat for several: they vote, like --profile accurate).")] = None,
             model_only: Annotated[bool, typer.Option(
                 "--model-only", help="Score the one --model alone, not the extraction pipeline it joins (the "
                 "graph's names and spaCy).")] = False,
             ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE), as_json: JsonOpt = False) -> None:
    """Entity-level P/R/F1 (exact span and type) of the extraction pipeline (with --model-only, of a trained model
    alone) on a labelled file: JSONL {"text","entities":[{start,end,label}]} lines, PubTator, IOB or FiNER CSV.

    Example: kgnlp eval ner --data CDR_TestSet.PubTator.txt --format pubtator --model models/ner --model-only
    """
    from cli.commands.ingest import check_profile, load_models, ner_layers, profile_vote
    from nlp.errors import NLPError
    from nlp.evaluation import evaluate_ner

    if model_only and len(model or ()) != 1:
        raise NLPError("--model-only scores one trained model alone; give exactly one --model "
                       f"(got {len(model or ())}).")
    graph = workspace(ws_path).read_embedded()
    try:
        layers = ner_layers(load_models(check_profile(None, model)), graph, ws_path)
        scores = evaluate_ner(graph, data, layers, vote=profile_vote(layers), fmt=fmt, model_only=model_only)
    finally:
        graph.close()
    emit(as_json, scores.as_dict(), lambda: _table(
        ["label", "P", "R", "F1", "tp", "fp", "fn"],
        [[k, f"{v.precision:.3f}", f"{v.recall:.3f}", f"{v.f1:.3f}", str(v.tp), str(v.fp), str(v.fn)]
         for k, v in (("all", scores.overall), *scores.by_label.items())]))
    if not as_json:
        _note_not_trained(scores.not_trained, "scored as misses" if model_only else
                          "only the graph's names and spaCy can find them",
                          "the model was not" if len(model or ()) == 1 else "no --model was")


def eval_relations(data: DataOpt, ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE), as_json: JsonOpt = False) -> None:
    """Facts stored per document vs gold {"doc","triples":[[head,REL,tail]]} lines: P/R/F1. REL is read as the graph
    names relations ("treats" is TREATS); a document the graph has not read is an error, not a row of misses.

    Example: kgnlp eval relations --data data/labelled/doc_triples.jsonl
    """
    from nlp.evaluation import evaluate_relations

    graph = workspace(ws_path).read_embedded()
    try:
        s = evaluate_relations(graph, data)
    finally:
        graph.close()
    emit(as_json, asdict(s), lambda: out.print(
        f"relations: P={s.precision:.3f} R={s.recall:.3f} F1={s.f1:.3f} (tp={s.tp} fp={s.fp} fn={s.fn})"))


QaModelOpt = Annotated[Optional[Path], typer.Option(
    "--model", help="A model from `kgnlp train qa`: score it instead of the graph, each question read with its own "
    "context (JSONL {\"question\",\"context\",\"answer\"} or PubMedQA JSON).")]


def eval_qa(data: DataOpt, model: QaModelOpt = None, ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
            config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Exact match and hits@1/3/10 on {"question","answers":[...]} lines (the graph answers); with --model, a
    trained QA model: accuracy and macro-F1 (yes/no/maybe) or exact match and token F1 (spans).

    Example: kgnlp eval qa --data data/labelled/qa.jsonl
    """
    from nlp.evaluation import evaluate_qa

    if model is not None:
        _eval_qa_model(data, model, ws_path, as_json)
        return
    ws = workspace(ws_path)
    graph = ws.read_embedded()
    try:
        s = evaluate_qa(graph, data, schema_in_force(ws.path, config))
    finally:
        graph.close()
    data_out = {"kind": "graph", "n": s.questions, "answered": s.answered, "exact_match": s.exact_match,
                "hits": {str(k): v for k, v in s.hits_at.items()}}  # "kind" and "n" as with --model
    emit(as_json, data_out, lambda: out.print(
        f"{s.questions} questions, {s.answered} answered: exact match {s.exact_match:.3f}, "
        + ", ".join(f"hits@{k} {v:.3f}" for k, v in s.hits_at.items())))


def eval_classify(data: DataOpt,
                  model: Annotated[Path, typer.Option("--model", help="Folder written by `kgnlp train classify`.")],
                  ws_path: WorkspaceOpt = Path(DEFAULT_WORKSPACE), as_json: JsonOpt = False) -> None:
    """Accuracy, macro-F1 and per-label P/R/F1 of a trained classifier on {"text","label"} lines ({"text",
    "labels":[...]} for a multilabel model: micro and per-label scores); the workspace graph supplies what a
    fused model reads.

    Example: kgnlp eval classify --data data/labelled/sentiment.jsonl --model models/sentiment
    """
    from cli.commands.fusion import saved_model_knowledge
    from fusion.config import check_classifier, saved_config
    from fusion.data import read_classification
    from fusion.errors import FusionError
    from fusion.evaluate import evaluate_classifier
    from fusion.predict import Classifier

    saved = saved_config(model)  # config.json, read once for every check and the load
    check_classifier(saved, "`eval classify`")  # a QA model is scored by `eval qa --model`
    examples, multi = read_classification(data)
    if multi and saved.head != "multilabel":
        raise FusionError(f"{data} has label lists (\"labels\"), but '{model}' is a single-label classifier.")
    with saved_model_knowledge(saved, ws_path, as_json, require=True) as (store, retriever, linker):
        scores = evaluate_classifier(Classifier.load(saved, store, retriever, linker), examples)
    emit(as_json, scores, lambda: _classification_report(scores))


def _eval_qa_model(data: Path, model: Path, ws_path: Path, as_json: bool) -> None:
    from cli.commands.fusion import saved_model_knowledge
    from fusion.data import read_qa
    from fusion.errors import FusionError
    from fusion.evaluate import evaluate_classifier, evaluate_spans
    from fusion.config import saved_config
    from fusion.predict import Classifier
    from fusion.reader import Reader, check_reader

    saved = saved_config(model)  # config.json, read once for every check and the load
    head = check_reader(saved, "eval qa --model")  # a classifier of other labels, or an NER model: refused
    examples, kind = read_qa(data)
    if (kind, head) not in (("yesno", "sequence"), ("span", "span")):
        want = "yes/no/maybe answers" if head == "sequence" else "span answers"
        raise FusionError(f"'{model}' is a {head} model, which reads {want}; {data} holds "
                          f"{'yes/no/maybe' if kind == 'yesno' else 'span'} answers.")
    with saved_model_knowledge(saved, ws_path, as_json, require=True) as (store, retriever, linker):
        if kind == "yesno":
            scores = evaluate_classifier(Classifier.load(saved, store, retriever, linker), examples)
        else:
            scores = evaluate_spans(Reader.load(saved, store, retriever, linker, "eval qa --model"), examples)
    if kind == "yesno":
        emit(as_json, {"kind": kind, **scores}, lambda: _classification_report(scores))
        return
    emit(as_json, {"kind": kind, **scores}, lambda: out.print(
        f"{scores['n']} questions, {scores['answered']} answered: exact match {scores['exact_match']:.3f}, "
        f"F1 {scores['f1']:.3f}"))


def _classification_report(scores: dict) -> None:
    if "accuracy" in scores:
        out.print(f"{scores['n']} examples: accuracy {scores['accuracy']:.3f}, macro-F1 {scores['macro_f1']:.3f}")
    else:
        out.print(f"{scores['n']} examples: micro-F1 {scores['micro_f1']:.3f}, exact label sets "
                  f"{scores['exact_set_accuracy']:.3f}")
    _table(["label", "P", "R", "F1", "support"],
           [[k, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"])]
            for k, v in scores["labels"].items()])
    _note_not_trained(scores["unknown_labels"], "scored as misses")


def _note_not_trained(unknown: dict[str, int], why: str, who: str = "the model was not") -> None:
    """One line on stderr naming the gold labels ``who`` ("the model was not", "no --model was") trained on, with
    their counts (``why``: what becomes of their examples); nothing when there are none (--json carries them as
    "unknown_labels")."""
    if unknown:
        typer.echo(f"Labels {who} trained on ({why}): "
                   + ", ".join(f"{k} ({v})" for k, v in unknown.items()), err=True)


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
    eval_app.command("classify")(eval_classify)
