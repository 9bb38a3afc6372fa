"""``kgnlp ingest``, ``kgnlp remove`` and ``kgnlp documents``."""
from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Callable, List, Optional

import typer

from cli.common import (ConfigOpt, Connection, Counts, JsonOpt, ProfileOpt, QuietOpt, completed_by_rerun, emit,
                        schema_in_force, utf8_arg, with_connection)
from cli.console import out, progress_bar
from kg.resolved import ResolvedStore, resolved

if TYPE_CHECKING:
    from fusion.config import SavedConfig


@with_connection
def ingest(
    paths: Annotated[List[Path], typer.Argument(
        help="Files or folders of .txt, .md, .jsonl, .html, PubMed .xml or .pdf documents.")],
    seed: Annotated[Optional[Path], typer.Option(help="Seed graph folder (entities.jsonl, triples.tsv) to load first.")] = None,
    model: Annotated[Optional[List[Path]], typer.Option("--model", help="A trained NER model folder to add as a "
                                                        "layer (repeat for several; see --profile).")] = None,
    profile: ProfileOpt = None,
    reextract: Annotated[bool, typer.Option(
        "--reextract", help="Extract documents already stored with the same text again, replacing their mentions "
        "and facts (after adding a --model, changing --profile or the relation schema).")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Remove stored documents read from these paths before that "
                                        "are no longer there (a deleted or renamed file, a line gone from a "
                                        ".jsonl file), with the facts only they supported.")] = False,
    processes: Annotated[int, typer.Option("--processes", min=0, help="Worker processes for the spaCy pass "
                                           "(0: automatic: 2 for 200+ documents without a transformer layer; env KGNLP_PROCESSES).")] = 0,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Extract entities and facts from documents into the workspace graph.

    Re-running on the same files adds nothing twice (--reextract reads them again, e.g. with a new --model); a
    changed file replaces its old facts; documents whose file is gone are named (--prune removes them).

    Example: kgnlp ingest data/documents --seed data/seed
    """
    from nlp.ingest import ingest_documents
    from nlp.loaders import KINDS, gone_documents, load_documents, office_files_note

    not_read: list[Path] = []
    docs = load_documents(list(paths), not_read)  # every file is checked before the workspace is touched
    # every --model loaded here (a fused model's config.json read once): damaged files are refused before the
    # workspace is made or the seed stored
    models = load_models(check_profile(profile, model))
    schema = schema_in_force(conn.ws_path, config)
    seeded = None
    if seed is not None:  # read and checked before the workspace is made
        from kg.seed import read_seed

        seeded = read_seed(seed, schema)
    ws = conn.workspace(create=True)
    graph = conn.open(ws, create=True)
    count = Counts(0, len(docs))  # documents stored so far (each for good, with its facts), of those to read

    def counting(update: Callable[[int, int], None]) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            count(done, total)
            update(done, total)
        return progress

    with completed_by_rerun(lambda: _stored_so_far(*count.values, len(docs))), closing(graph):
        seed_report = None
        if seeded is not None:  # a re-run with an edited seed: lines it no longer has go
            change = graph.replace_source(seeded.source, seeded.triples, seeded.entities)
            seed_report = {"source": seeded.source, "entities": len(seeded.entities), "facts": len(seeded.triples),
                           "removed": change.facts, **taken_back(change)}
        # after the seed: a fused --model links names and reads facts of the graph as it is when it loads, seen
        # as every reading command sees it (with the workspace's entity merges); the pipeline writes to `graph`
        layers = ner_layers(models, resolved(graph, ws.path), ws.path)
        similar = profile_similarity(profile, ws)
        try:
            with progress_bar("Ingesting", enabled=not (quiet or as_json)) as update:
                report = ingest_documents(graph, docs, schema, layers, progress=counting(update),
                                          processes=processes, vote=profile_vote(layers), similar=similar,
                                          reextract=reextract)
        finally:
            if similar is not None:
                similar.close()
        gone = gone_documents(graph.document_sources(), paths, {d.document.id for d in docs})
        for doc_id in gone if prune else ():
            graph.remove_document(doc_id)
        sync_indexes(ws, graph, quiet or as_json, schema)
    data = {"documents": report.documents, "entities": report.entities, "relations": report.relations,
            "seconds": report.seconds, "skipped": report.skipped, "not_read": [str(p) for p in not_read],
            "replaced": list(report.replaced), "seed": seed_report, "gone": gone, "pruned": prune and bool(gone)}
    if gone and not as_json:
        more = f" and {len(gone) - 5} more" if len(gone) > 5 else ""
        what = "Removed" if prune else "Kept"
        typer.echo(f"{what} {len(gone)} stored document(s) read from these paths before but no longer there: "
                   f"{', '.join(gone[:5])}{more}" + ("." if prune else " (--prune removes them)."), err=True)
    if seed_report and seed_report["removed"] and not as_json:
        typer.echo(f"Removed {seed_report['removed']} fact(s) that seed '{seed_report['source']}' no longer has "
                   "(their only source was the seed).", err=True)
    if seed_report and (seed_report["entities_removed"] or seed_report["aliases_removed"]) and not as_json:
        typer.echo(f"Seed '{seed_report['source']}' took back what it no longer lists and only it gave: "
                   f"{taken_back_line(seed_report)}.", err=True)
    if not_read and not as_json:
        more = f" and {len(not_read) - 5} more" if len(not_read) > 5 else ""
        typer.echo(f"Not read ({len(not_read)} file(s) of other types than {KINDS}): "
                   f"{', '.join(str(p) for p in not_read[:5])}{more}", err=True)
        note = office_files_note(not_read)
        if note:
            typer.echo(note, err=True)
    if report.skipped and (model or profile) and not as_json:
        typer.echo(f"Note: {report.skipped} document(s) already stored with the same text were not read again: "
                   "--model and --profile apply to new and changed documents (--reextract reads them all again).",
                   err=True)
    if report.replaced and not as_json:  # an edit, or another file with the same name (ids are file names)
        more = f" and {len(report.replaced) - 5} more" if len(report.replaced) > 5 else ""
        typer.echo(f"Replaced {len(report.replaced)} stored document(s) whose text differs (the same id): "
                   f"{', '.join(report.replaced[:5])}{more}", err=True)
    seeded_line = (f"Seed '{seed_report['source']}': {seed_report['entities']} entities, {seed_report['facts']} "
                   "facts.\n" if seed_report else "")
    emit(as_json, data, lambda: out.print(
        f"{seeded_line}Ingested {report.documents} document(s) ({report.skipped} already stored): "
        f"{report.entities:+d} entities, {report.relations:+d} relations in {report.seconds:.2f} s."))


@with_connection
def findings(
    paths: Annotated[List[Path], typer.Argument(help="Files or folders of .txt, .md, .jsonl, .html, PubMed .xml, "
                                                ".pdf documents, or "
                                                "PubMedQA .json files (findings read in each abstract's results).")],
    cues: Annotated[Path, typer.Option("--cues", help="Cue graph folder (entities.jsonl, triples.tsv, schema.toml) "
                                       "of ways to report a result and what each signals: data/findings.")],
    long_answers: Annotated[bool, typer.Option(
        "--long-answers", help="PubMedQA JSON: read each conclusion too (the texts `train qa --long-answers` "
        "trains on).")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Read how documents report their results (findings) into the workspace graph.

    Each sentence with a cue ("no significant difference", "was associated with", "may") becomes a finding
    tied to what it signals ("no evidence of an effect is reported in <sentence>"), with the sentence as its
    source, stored as document '<id>#findings' (remove it with `kgnlp remove`). A QA model trained with
    --retrieved N --retrieve-from passage reads the findings of its own passage. Re-running adds nothing twice.

    Example: kgnlp findings ori_pqal.json --long-answers --cues data/findings -w ws
    """
    from kg.records import Document
    from kg.schema import load_schema
    from kg.seed import read_seed
    from fusion.context import NameLinker
    from nlp.findings import FindingsReader, pubmedqa_passages
    from nlp.loaders import FINDINGS_SUFFIX, content_hash, load_documents

    pubmedqa = [p for p in paths if p.suffix.lower() == ".json"]
    others = [p for p in paths if p.suffix.lower() != ".json"]
    if long_answers and not pubmedqa:
        raise typer.BadParameter("it reads PubMedQA .json files: give one.", param_hint="--long-answers")
    # every file is read and checked before the workspace is touched
    docs = [(d.document, None, d.sha256) for d in (load_documents(others) if others else [])]
    docs += [(doc, parts, content_hash(doc.text)) for p in pubmedqa for doc, parts in pubmedqa_passages(p, long_answers)]
    if not cues.is_dir():
        raise typer.BadParameter(f"'{cues}' is not a folder (expected a cue graph such as data/findings).",
                                 param_hint="--cues")
    cue_graph = read_seed(cues, load_schema(cues / "schema.toml"))
    rows = [(name, e.id, e.type) for e in cue_graph.entities for name in (e.name, *e.aliases)]
    reader = FindingsReader.from_graph(NameLinker.from_rows(rows), cue_graph.entities, cue_graph.triples)
    ws = conn.workspace(create=True)
    schema = schema_in_force(ws.path, config)
    graph = conn.open(ws, create=True)
    stored = skipped = found = 0
    try:
        graph.add([], reader.evidence)
        with progress_bar("Reading findings", enabled=not (quiet or as_json)) as update:
            for done, (doc, parts, sha) in enumerate(docs, 1):
                doc = Document(f"{doc.id}{FINDINGS_SUFFIX}", doc.text, doc.source)
                if graph.has_document(doc.id, sha):
                    skipped += 1
                else:
                    extraction = reader.read(doc, parts)
                    graph.add_extraction(extraction, sha)
                    stored, found = stored + 1, found + len(extraction.triples)
                update(done, len(docs))
        sync_indexes(ws, graph, quiet or as_json, schema)
    finally:
        graph.close()
    emit(as_json, {"documents": stored, "skipped": skipped, "findings": found}, lambda: out.print(
        f"Read {found} finding(s) in {stored} document(s) ({skipped} already read)."))


def taken_back(change) -> dict[str, object]:
    """The entities and aliases a seed took back (a ``SourceChange``), as --json writes them."""
    aliases: dict[str, list[str]] = {}
    for entity_id, alias in change.aliases:
        aliases.setdefault(entity_id, []).append(alias)
    return {"entities_removed": list(change.entities), "aliases_removed": aliases}


def taken_back_line(data: dict) -> str:
    """``taken_back(...)`` in words: at most five of each named."""
    def some(items: list[str]) -> str:
        return ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")

    pairs = [f"'{a}' of {e}" for e, aliases in data["aliases_removed"].items() for a in aliases]
    parts = [f"{len(data['entities_removed'])} entity(ies) ({some(data['entities_removed'])})"] \
        if data["entities_removed"] else []
    parts += [f"{len(pairs)} alias(es) ({some(pairs)})"] if pairs else []
    return " and ".join(parts)


def _stored_so_far(done: int, to_read: int, given: int) -> str:
    """What Ctrl-C in ingest reports: ``done`` documents stored (each for good, with its facts) of the ``to_read``
    new or changed ones among the ``given``."""
    if to_read == given:
        return f"{done} of {given} document(s) stored"
    return f"{done} of {to_read} new or changed document(s) stored (and {given - to_read} stored before)"


@dataclass(frozen=True)
class LoadedModel:
    """An NER --model loaded (:func:`load_models`: weights, tokenizer, pipeline), reading no graph until
    :meth:`reading` gives it one: a command that writes loads its models before it writes anything."""

    layer: object  # nlp.interfaces.NERLayer: a fusion.ner.FusedNER, or an nlp.ner model dir's layer
    saved: SavedConfig | None = None  # a fused model's config.json; None: an nlp.ner model dir

    def reading(self, store=None, workspace: Path | None = None):
        """The layer, a fused model's reading ``store``, the graph of ``workspace`` (store None: there is no
        workspace there, or workspace None: none given; said on stderr for a model that reads the graph, as is
        another graph than it was trained with); an nlp.ner model reads no graph."""
        if self.saved is None:
            return self.layer
        from cli.commands.fusion import model_linker

        return self.layer.reading(store, linker=model_linker(self.saved, store, workspace))


def load_models(models: list[Path | SavedConfig]) -> list[LoadedModel]:
    """``models`` (as :func:`check_profile` returns them) loaded: a damaged model is refused here, before the
    command writes anything; they read the graph once :func:`ner_layers` gives it (after a --seed is stored)."""
    return [_load_model(m) for m in models]


def _load_model(model: Path | SavedConfig) -> LoadedModel:
    """One --model as :func:`check_profile` returns it (a fused model's config.json, else a folder) loaded."""
    from fusion.config import SavedConfig

    if isinstance(model, SavedConfig):
        from fusion.ner import FusedNER

        return LoadedModel(FusedNER.load(model), model)
    from nlp.ner import load_ner_model

    return LoadedModel(load_ner_model(model))


def check_profile(profile: str | None, model) -> list[Path | SavedConfig]:
    """Fail early, before anything is written, on a profile that cannot run (None: whatever --model is): ``fast``
    runs no transformer (graph names, spaCy, and spaCy CNN models if given); ``accurate`` needs a transformer (or
    fused) token classifier, and with a spaCy CNN beside it the three layers vote (see :func:`profile_vote`). Returns
    the --model folders, a fused model's as its config.json (read once, here: ``fusion.config.fused_config``; a
    fused model of another task is refused), to pass on to :func:`load_models`."""
    from nlp.errors import NLPError

    given = [] if model is None else list(model) if isinstance(model, (list, tuple)) else [model]
    if profile == "accurate" and not given:
        raise NLPError("The accurate profile needs a trained transformer NER model: pass --model DIR "
                       "(train one with `kgnlp train ner --kind transformer --out DIR`).")
    models = [_checked_model(m) for m in given]
    kinds = [_layer_kind(m) for m in models] if profile else []
    for m, kind in zip(models, kinds):
        if profile == "fast" and kind == "transformer":
            raise NLPError(f"'{getattr(m, 'folder', m)}' is a transformer model; the fast profile runs none. "
                           "Use --profile accurate.")
    if profile == "accurate" and "transformer" not in kinds:
        raise NLPError("The accurate profile needs a transformer model among --model "
                       "(`kgnlp train ner --kind transformer`).")
    return models


def _checked_model(model: Path) -> Path | SavedConfig:
    """One --model: a folder, a fused model's as its config.json read (:func:`check_profile`) with its head checked
    (its weights are checked as it loads, :func:`load_models`)."""
    from fusion.config import check_head, fused_config
    from nlp.errors import NLPError

    if not Path(model).is_dir():
        raise NLPError(f"--model '{model}' is not a folder. Pass a trained model folder.")
    saved = fused_config(model)
    if saved is None:
        return Path(model)
    check_head(saved.head, saved.folder, ("token",), "an NER --model", "`kgnlp train ner --fusion ...`")
    return saved


def _layer_kind(model: Path | SavedConfig) -> str:
    """The kind of NER layer a checked --model loads as (``nlp.interfaces.layer_kind``), read from its folder (a
    model dir's marker), not loaded: a profile that cannot run is refused before the model loads."""
    from fusion.config import SavedConfig

    if isinstance(model, SavedConfig):
        from fusion.ner import FusedNER

        return FusedNER.kind
    from nlp.ner.model_dir import LAYER_KINDS, saved_kind

    return LAYER_KINDS[saved_kind(model)]


def ner_layers(models: list[LoadedModel], store=None, workspace: Path | None = None) -> list:
    """The NER layers of ``models`` (:func:`load_models`), fused ones reading ``store``, the graph of ``workspace``
    (None: no workspace there): :meth:`LoadedModel.reading`."""
    return [m.reading(store, workspace) for m in models]


def profile_similarity(profile: str | None, ws):
    """The accurate profile links mentions the rules cannot by embedding similarity over the workspace's
    entity-name index (`kgnlp index`); None for other profiles or without an index."""
    if profile != "accurate" or ws is None:
        return None
    from nlp.retrieval import name_similarity

    return name_similarity(ws)


def profile_vote(layers: list) -> float:
    """Votes a mention needs: with two or more trained layers, graph names (1 vote) and those layers (a
    transformer 2, a CNN 1: ``nlp.ner.vote``) vote and a mention needs half of all votes; with one trained
    layer, layers merge by priority (0)."""
    from nlp.ner.vote import vote_weight, votes_needed

    return votes_needed([1.0] + [vote_weight(layer) for layer in layers]) if len(layers) >= 2 else 0


def sync_indexes(ws, graph, quiet: bool, schema=None) -> None:
    """Keep the retrieval indexes the workspace has in step with the graph (only those: an entity-name index
    built for accurate linking does not make ingest build fact and chunk indexes): what every command that changes
    the graph readers see does (ingest, remove, import, entities resolve|unmerge), as reading commands do not save
    indexes. ``schema``: the relation verbs facts are worded with, else those in force (as `kgnlp index`)."""
    if not (ws.path / "index").exists():
        return
    from nlp.retrieval import existing_kinds, update_indexes

    kinds = existing_kinds(ws)
    if not kinds:
        return
    schema = schema or schema_in_force(ws.path, None)
    # the graph as readers see it: through the merges as the log now resolves them (a view the command opened
    # before it changed the merges or the graph is set aside for the graph underneath)
    base = graph.unwrap() if isinstance(graph, ResolvedStore) else graph
    with progress_bar("Indexing", enabled=not quiet) as update:
        update_indexes(ws, resolved(base, ws.path), progress=update, schema=schema, kinds=kinds)


@with_connection
def remove(
    doc_id: Annotated[str, typer.Argument(help="Id of a stored document (see `kgnlp documents`), or a seed "
                                        "('seed:<folder name>') or import ('import:<file name>').")],
    as_json: JsonOpt = False,
    *,
    conn: Connection,
) -> None:
    """Remove a document and the facts that only it supported.

    A seed or an import goes the same way (a seed also takes back the entities and aliases only it gave), e.g.
    after renaming a seed folder.

    Example: kgnlp remove med04_warfarin
    """
    from kg.store import remove_source

    utf8_arg(doc_id, "the document id")  # bytes that are not UTF-8 (a copied Latin-1 name) name no document
    ws = conn.workspace()
    graph = conn.open(ws, write=True)
    try:
        change = remove_source(graph, doc_id)
        sync_indexes(ws, graph, True)
    finally:
        graph.close()
    data = {"document": doc_id, "relations_removed": change.facts, **taken_back(change)}
    also = f" It took back {taken_back_line(data)}." if change.entities or change.aliases else ""
    emit(as_json, data, lambda: out.print(f"Removed {doc_id} and {change.facts} fact(s) only it supported.{also}"))


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
    app.command()(findings)
    app.command()(remove)
    app.command()(documents)
