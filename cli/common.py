"""Options and helpers every command shares: workspace, store, JSON output, text from stdin."""
from __future__ import annotations

import functools
import inspect
import json
import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator, Optional, Sequence

import typer

from fusion.config import ENTITY_VECTORS, FUSIONS, MAX_KNOWLEDGE_DROPOUT
from kg.errors import KGError
from kg.names import STALE_ROWS, STALE_RULE
from kg.resolved import resolved
from kg.store import BACKENDS, GraphStore
from kg.workspace import Workspace


def one_of(names: Callable[[], Sequence[str]] | Sequence[str]) -> Callable[[Any], Any]:
    """An option callback: a value outside ``names`` (or what calling it gives, read only then) is a usage error
    (exit 2) naming the choices, before the command runs."""
    def check(value):
        known = names() if callable(names) else names
        if value is not None and value not in known:
            raise typer.BadParameter(f"'{value}' is not one of: {', '.join(known)}.")
        return value
    return check


DEFAULT_WORKSPACE = "./kgnlp-workspace"

WorkspaceOpt = Annotated[
    Path,
    typer.Option("--workspace", "-w", envvar="KGNLP_WORKSPACE", help="Workspace folder.", show_default=True),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or chatter.")]
SeedOpt = Annotated[int, typer.Option(
    "--seed", min=0, max=2**32 - 1, help="Random seed, 0 to 2^32-1.")]
PrecisionOpt = Annotated[str, typer.Option(
    "--precision", help="Transformer training arithmetic: auto (bf16 matrix products on CPUs with AMX or "
    "AVX512-BF16, fp32 elsewhere), fp32 or bf16. Default: $KGNLP_PRECISION, else auto.")]
EntityVectorsOpt = Annotated[str, typer.Option(
    "--entity-vectors", callback=one_of(ENTITY_VECTORS),
    help="Embeddings path: trained (the KG embeddings' vectors) or all (graph entities without one also get a "
    "vector from their neighbours or name, as `kgnlp embed --infer-new`; workspace files unchanged). "
    "On BC5CDR NER, all with --knowledge-dropout 0.2 was the best setting measured (BENCHMARKS.md).")]
KnowledgeDropoutOpt = Annotated[float, typer.Option(
    "--knowledge-dropout", min=0.0, max=MAX_KNOWLEDGE_DROPOUT, help="Training only: in each step, hide the graph's knowledge (entity "
    "vector and facts) of this share of the linked mentions, so the model does not lean on the graph's marks "
    "(ERNIE-style); needs --fusion facts, embeddings or both. 0 = off; 0.2 helped BC5CDR NER, not PhraseBank or "
    "PubMedQA (BENCHMARKS.md).")]

TrainLayersOpt = Annotated[int, typer.Option(
    "--train-layers", min=-1, help="Transformer encoder layers to fine-tune, counted from the top: -1 = all (and "
    "the embeddings), 0 = none (only the fusion layers and the head learn). Fewer is faster and keeps a small "
    "training set from being learnt by heart.")]


def _writable_ancestor(path: Path, what: str, start: Path | None = None) -> None:
    """The nearest existing path from ``start`` (default ``path``) upwards is a folder that can be written to."""
    parent = path if start is None else start
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise typer.BadParameter(f"'{path}' is inside '{parent}', which is a file; give {what}.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise typer.BadParameter(f"'{parent}' is not writable; give {what} you can write to.")


def _out_folder(path: Path) -> Path:
    """Before any data is read: ``--out`` is a folder that can be made here (not a file, nor inside one, and
    writable), so that a long training run does not fail at its first save."""
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"'{path}' is a file; give a folder for the trained model.")
    _writable_ancestor(path, "a folder")
    return path


def positive_rate(value: float | None) -> float | None:
    """Typer callback for a learning rate: a finite number above 0 (nan, inf, 0 and negatives are usage errors)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value} is not a positive number")
    return value


def out_file(path: Path | None) -> Path | None:
    """Typer callback for an output file option, checked before any work: not a folder, not inside a file, in a
    writable place (missing folders are made when it is written, see ``kg.files.open_atomic``)."""
    if path is None:
        return None
    if path.is_dir():
        raise typer.BadParameter(f"'{path}' is a folder; give a file name (a path inside it will do).")
    if path.exists() and not os.access(path, os.W_OK):
        raise typer.BadParameter(f"'{path}' is not writable; give a file you can write to.")
    _writable_ancestor(path, "a file path", start=path.parent)
    return path


def _file_path(value: str | Path) -> Path:
    """Typer parser of an output file option, given the text as typed: a path ending in a separator names a folder
    (typer's own Path would drop the slash, and a file named after the folder would be written), so it is refused,
    as is '-', which users read as standard output."""
    if isinstance(value, str) and not value.strip():  # Path('') is '.', a folder; spaces alone are a slip
        raise typer.BadParameter(f"expected a file name, got {'an empty one' if not value else repr(value)}.")
    if isinstance(value, str) and value.endswith(tuple(filter(None, (os.sep, os.altsep)))):
        raise typer.BadParameter(f"'{value}' ends in '{value[-1]}', so it names a folder; give a file name "
                                 "(a path inside it will do).")
    if value == "-":  # read everywhere else as standard output, here it would make a file named '-'
        raise typer.BadParameter("'-' would be a file named '-', not standard output; give a file name (./- if "
                                 "that is meant), or leave the option out where the command prints to stdout.")
    return Path(value)


def file_option(*names: str, help: str) -> Any:
    """An output file option: checked by :func:`_file_path` then :func:`out_file` before any work."""
    return typer.Option(*names, help=f"{help} A file, not a folder (a path ending in '/' is refused), nor '-'.",
                        parser=_file_path, callback=out_file, metavar="<path>")


OutFolderOpt = Annotated[Path, typer.Option("--out", help="Folder for the trained model.", callback=_out_folder)]

FreshOpt = Annotated[bool, typer.Option(
    "--fresh", help="Start over even if OUT holds a checkpoint of another run (it is replaced); without it an "
    "interrupted run with the same data and settings resumes after its last finished epoch.")]


def check_knowledge_dropout(share: float, fusion: str | None) -> None:
    """Before any data is read: knowledge dropout only means something for a model that reads the graph."""
    if share and fusion in (None, "none"):
        raise typer.BadParameter("hides graph knowledge, which only a --fusion facts, embeddings or both model "
                                 "reads.", param_hint="--knowledge-dropout")


def given(ctx: typer.Context, name: str) -> bool:
    """Whether the user set option ``name`` (on the command line or by its environment variable), not left it at
    its default; by the source's name, as typer may carry its own copy of click."""
    return getattr(ctx.get_parameter_source(name), "name", "") in ("COMMANDLINE", "ENVIRONMENT")


def check_entity_vectors(choice: str, fusion: str | None) -> None:
    """Before any data is read: how graph vectors are completed only means something for a model that reads them."""
    if choice != "trained" and fusion not in ("embeddings", "both"):
        raise typer.BadParameter(f"'{choice}' completes graph embeddings, which only a --fusion embeddings or both "
                                 "model reads.", param_hint="--entity-vectors")


def _ner_formats() -> list[str]:
    from nlp.formats import FORMATS

    return list(FORMATS)


def _ner_kinds() -> list[str]:
    from nlp.ner import KINDS

    return list(KINDS)


NER_FORMAT = one_of(_ner_formats)  # --format of labelled NER data
NER_KIND = one_of(_ner_kinds)
FUSION = one_of(FUSIONS)
StoreOpt = Annotated[str, typer.Option("--store", callback=one_of(BACKENDS), help="Backend: embedded, rdf or neo4j.")]
# The same for commands given a Connection; None (not given, not in kgnlp.toml) lets a writer refuse to start a
# second graph beside a workspace's RDF one.
ConnectionStoreOpt = Annotated[Optional[str], typer.Option(
    "--store", callback=one_of(BACKENDS), help="Backend: embedded, rdf or neo4j.  [default: embedded]")]
UriOpt = Annotated[Optional[str], typer.Option("--uri", envvar="KGNLP_NEO4J_URI", help="Bolt URI for --store neo4j.")]
UserOpt = Annotated[str, typer.Option("--user", envvar="KGNLP_NEO4J_USER", help="Bolt user for --store neo4j.")]
PasswordEnvOpt = Annotated[
    str, typer.Option("--password-env", help="Name of the environment variable holding the Bolt password.")
]
ProfileOpt = Annotated[Optional[str], typer.Option(
    "--profile", callback=one_of(("fast", "accurate")), help="fast: graph names + spaCy (+ a spaCy CNN --model); accurate: adds a transformer --model "
    "(with a CNN --model too: the transformer's mentions plus those the CNN and graph names agree on). "
    "Default: fast, or whatever --model is.")]
ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", envvar="KGNLP_CONFIG", help="TOML file with extra relation types.")
]


class Interrupted(Exception):
    """Ctrl-C in a command that stores its work in steps, each for good: the message says what was stored; the CLI
    prints it on one line and exits with 130, as for any Ctrl-C."""


class Counts:
    """The last counts a progress callback was given (``stored(read, new)``, ``progress(done, total)``): what the
    line of an interrupted command says was stored."""

    def __init__(self, *start: int) -> None:
        self.values = list(start)

    def __call__(self, *values: int) -> None:
        self.values = list(values)


@contextmanager
def completed_by_rerun(stored: Callable[[], str]) -> Iterator[None]:
    """Ctrl-C inside becomes :class:`Interrupted`, saying what ``stored()`` says was stored and that the same
    command run again completes the work (what was stored is not stored twice)."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(f"{stored()}. Run the same command again to complete it; nothing is added twice.") from None


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (a sentence from a PDF or a wrapped .txt holds line breaks), cut to ``limit`` characters
    with "…" when longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def read_text_arg(text: str) -> str:
    """A text argument, or standard input when it is ``-``."""
    if text == "-":
        # the bytes as sent: text mode would turn CRLF into LF (so offsets would not index the input) and keep a BOM
        buffer = getattr(sys.stdin, "buffer", None)
        data = (buffer.read().decode("utf-8", "surrogateescape") if buffer is not None
                else sys.stdin.read()).removeprefix("\ufeff")
        if not data.strip():
            raise KGError("Expected text on standard input (argument '-'), got nothing.")
        return utf8_arg(data, "standard input")
    if not text.strip():
        raise KGError("Expected text, got an empty argument (pass '-' to read standard input).")
    return utf8_arg(text, "the text argument")


def utf8_arg(text: str, where: str) -> str:
    """Bytes that are not UTF-8 reach Python as lone surrogates ("surrogateescape"): a one-line error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise KGError(f"{where[0].upper()}{where[1:]} is not UTF-8 text (bad byte at character {exc.start}). "
                      "Convert it to UTF-8.") from None
    return text


def has_workspace(path: Path) -> bool:
    """Whether ``path`` holds a kgnlp workspace (a missing folder, a file or a folder of anything else: no)."""
    from kg.workspace import MARKER

    return (Path(path) / MARKER).is_file()


def workspace(path: Path, create: bool = False) -> Workspace:
    return Workspace.open(path, create=create)


def open_store(
    ws: Workspace,
    store: str = "embedded",
    uri: str | None = None,
    user: str = "neo4j",
    password_env: str = "KGNLP_NEO4J_PASSWORD",
    read: bool = False,
    read_only: bool = False,
) -> GraphStore:
    """Open the workspace's graph in the chosen backend; the Bolt password comes from the environment, as does a
    label prefix (``KGNLP_NEO4J_LABEL_PREFIX``: several graphs on one server, each under its own labels). ``read``: the
    command only reads, so an embedded graph is not started in a workspace whose graph is in its RDF store, and it
    sees the graph with the workspace's entity merges applied (:mod:`kg.resolved`); nor is an empty RDF store made
    in a workspace that has none. ``read_only``: the command does not write the graph either, so an RDF store is
    opened read-only (its folder unchanged), and a workspace without an embedded graph is refused, not given an
    empty one."""
    if read and store == "embedded":
        ws.check_embedded_graph()
    if read and store == "rdf":
        ws.check_rdf_graph()
    if store == "neo4j":
        password = os.environ.get(password_env)
        if password is None:
            raise KGError(f"Environment variable {password_env} is not set. Put the Bolt password there.")
        graph = ws.open_store("neo4j", uri=uri or "bolt://127.0.0.1:7687", user=user, password=password,
                              label_prefix=os.environ.get("KGNLP_NEO4J_LABEL_PREFIX", ""))
    else:
        options: dict[str, object] = {}
        if read_only:  # no RDF file rewritten, and no empty graph.db made in a workspace that has none
            options["read_only"] = True
            if store == "embedded":
                options["create"] = False
        graph = ws.open_store(store, **options)
    if stale := getattr(graph, "stale_name_keys", frozenset()):
        typer.echo(_stale_keys_note(stale, ws.path), err=True)
    return resolved(graph, ws.path) if read else graph


# what a lookup gets wrong while the store reads keys of each kind it could not bring up to date (``stale_name_keys``)
_STALE_KEYS = {STALE_RULE: "names written with accents, possessives, Roman numerals or 'Type-2' hyphens may not be "
                           "found",
               STALE_ROWS: "an entity may be found by a name it did not take"}


def _stale_keys_note(stale: frozenset[str], ws_path: Path) -> str:
    """The one stderr line for a graph read with name keys of an older kgnlp: what may go wrong, for what is out of
    date (``stale``: the store's ``stale_name_keys``)."""
    effects = " and ".join(text for what, text in _STALE_KEYS.items() if what in stale)
    return ("Note: the graph's name keys are from an older kgnlp and could not be updated here (a read-only folder, "
            f"or another process writing it): {effects} until a writing command (e.g. `kgnlp ingest`) opens "
            f"{ws_path}.")


def config_path(ws_path: Path, config: Path | None) -> Path | None:
    """The config file in force: --config, else ./kgnlp.toml, else <workspace>/kgnlp.toml."""
    if config is not None:
        if not config.exists():
            raise KGError(f"Config file '{config}' does not exist.")
        return config
    for candidate in (Path("kgnlp.toml"), ws_path / "kgnlp.toml"):
        if candidate.exists():
            return candidate
    return None


def schema_in_force(ws_path: Path, config: Path | None):
    """The relation schema: the built-ins extended by the config file in force (see :func:`config_path`)."""
    from kg.schema import load_schema

    return load_schema(config_path(ws_path, config))


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print ``data`` as JSON, or call ``human`` to render it for people."""
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=None) + "\n")
    else:
        human()


@dataclass(frozen=True)
class Connection:
    """Where a command's graph lives: the workspace folder and the backend that opens it."""

    ws_path: Path
    store: str = "embedded"
    uri: str | None = None
    user: str = "neo4j"
    password_env: str = "KGNLP_NEO4J_PASSWORD"
    store_named: bool = True  # False: --store was left at its default (not given, not in kgnlp.toml)

    def workspace(self, create: bool = False) -> Workspace:
        return Workspace.open(self.ws_path, create=create)

    def open(self, ws: Workspace | None = None, create: bool = False, write: bool = False) -> GraphStore:
        """The graph store (the workspace is opened, or with ``create`` made, when not given); ``create`` also
        means the command writes, so an embedded graph may be started in a workspace that has only an RDF store,
        but only when ``--store embedded`` says so: by default such a workspace is refused, not split in two.
        ``write``: the command changes the graph it reads (seen with its merges, as readers see it); without it
        or ``create`` the graph is opened read-only (the embedded and RDF stores; a Neo4j server has no such
        mode: see :func:`open_store`)."""
        ws = ws or self.workspace(create)
        if create and self.store == "embedded" and not self.store_named:
            ws.check_embedded_graph("pass --store rdf to add to it (or --store embedded to start a second, "
                                    "separate graph in the embedded store)")
        return open_store(ws, self.store, self.uri, self.user, self.password_env, read=not create,
                          read_only=not (create or write))


_CONNECTION_OPTIONS = (
    ("ws_path", WorkspaceOpt, Path(DEFAULT_WORKSPACE)),
    ("store", ConnectionStoreOpt, None),
    ("uri", UriOpt, None),
    ("user", UserOpt, "neo4j"),
    ("password_env", PasswordEnvOpt, "KGNLP_NEO4J_PASSWORD"),
)


def with_connection(func: Callable) -> Callable:
    """Give a command --workspace, --store, --uri, --user and --password-env, handed to it as ``conn``."""
    sig = inspect.signature(func, eval_str=True)  # resolved here, in the command's own module
    own = [p for name, p in sig.parameters.items() if name != "conn"]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
             for name, kind, default in _CONNECTION_OPTIONS]

    @functools.wraps(func)
    def command(*args: Any, ws_path: Path, store: str | None, uri: str | None, user: str, password_env: str,
                **kwargs: Any) -> Any:
        return func(*args, conn=Connection(ws_path, store or "embedded", uri, user, password_env, store is not None),
                    **kwargs)

    del command.__wrapped__  # Typer must read the signature below, not the wrapped function's
    command.__signature__ = sig.replace(parameters=[*own, *extra])  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in (*own, *extra)}
    return command
