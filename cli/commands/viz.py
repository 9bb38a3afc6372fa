"""``kgnlp viz`` (an offline interactive HTML graph) and ``kgnlp shell`` (an interactive prompt)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.common import (DEFAULT_WORKSPACE, Connection, DebugOpt, JsonOpt, QuietOpt, emit, file_option, given,
                        with_connection)
from cli.shell import INTRO, EntityNames, KGShell, history_file, resolve_entity, run_shell
from kg.views import is_named



def complete_entity_name(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion (Tab after `kgnlp viz `): entity names of the workspace's graph that start with
    what was typed. Never raises: a completion must not print a traceback into the shell."""
    try:
        ws_path = ctx.params.get("ws_path") or os.environ.get("KGNLP_WORKSPACE") or DEFAULT_WORKSPACE
        params = {k: v for k, v in ctx.params.items() if k in ("store", "uri", "user", "password_env") and v}
        conn = Connection(Path(ws_path), **params)  # the graph --store names (typed before ENTITY), as viz reads it
        ws = conn.workspace()
        if conn.store == "embedded" and not ws.graph_path.exists():  # no empty graph.db made by a Tab
            return []
        graph = conn.open(ws)
        try:
            return EntityNames(graph.names).complete(incomplete)
        finally:
            graph.close()
    except Exception:  # noqa: BLE001
        return []


EntityArg = Annotated[
    Optional[list[str]],
    typer.Argument(help="Entity name, alias or id to centre on (several allowed). Omit for the whole graph.",
                   show_default=False, metavar="ENTITY", autocompletion=complete_entity_name),
]
HopsOpt = Annotated[int, typer.Option("--hops", "-n", min=1, help="How many hops around ENTITY to draw.")]
OutOpt = Annotated[Path, file_option("--out", "-o", help="HTML file to write.")]
MaxNodesOpt = Annotated[int, typer.Option("--max-nodes", min=1, help="Cap on nodes; the best-connected/nearest win.")]


def register(app: typer.Typer) -> None:
    """Add ``viz`` and ``shell`` to the ``kgnlp`` app."""
    app.command("viz")(viz)
    app.command("shell")(shell)


@with_connection
def viz(
    ctx: typer.Context,
    entity: EntityArg = None,
    hops: HopsOpt = 1,
    out: OutOpt = Path("graph.html"),
    max_nodes: MaxNodesOpt = 300,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    *,
    conn: Connection,
) -> None:
    """Draw the graph as one interactive HTML file that works offline (no CDN, nothing to install).

    Click a node for its facts and their source sentences; drag to move, wheel to zoom, / to search.

    Examples:

        kgnlp viz aspirin --hops 2 --out aspirin.html

        kgnlp viz --max-nodes 200 --out overview.html --json
    """
    from kg.viz import render_graph_html  # only this command pays for it

    if not entity and given(ctx, "hops"):  # refused, not ignored: the whole graph has no centre to count from
        raise typer.BadParameter("counts hops around ENTITY: name one, or leave --hops out to draw the whole "
                                 "graph.", param_hint="--hops")
    graph = conn.open()
    try:
        center_ids = []
        for name in entity or ():
            ent, others = resolve_entity(graph, name)
            center_ids.append(ent.id)
            if not quiet and name != ent.id and not is_named(ent, name):
                # A substring match: say which entity was meant, so a surprise is visible at once.
                alt = f" Others: {', '.join(o.name for o in others)}." if others else ""
                typer.echo(f"Using '{ent.name}' ({ent.id}) for '{name}'.{alt}", err=True)
        report = render_graph_html(graph, center_ids or None, hops, out, max_nodes=max_nodes)
    finally:
        graph.close()

    def human() -> None:
        nodes, edges = _count(report.nodes, "node"), _count(report.edges, "edge")
        typer.echo(f"Wrote {report.out}: {nodes}, {edges}. Open it in a browser.")
        if report.note and not quiet:
            typer.echo(report.note, err=True)

    emit(as_json, {"out": str(report.out), "nodes": report.nodes, "edges": report.edges}, human)


@with_connection
def shell(
    debug: DebugOpt = False,
    *,
    conn: Connection,
) -> None:
    """Explore the graph at an interactive prompt, with history and Tab completion of entity names.

    Commands: ask QUESTION, entity NAME, neighbours NAME [--hops N], path A -> B, help, quit.
    History is kept per workspace in the user's state folder ($XDG_STATE_HOME/kgnlp/shell_history, else
    ~/.local/state/kgnlp/shell_history), never in the workspace. Commands can also come from a pipe: then errors go
    to stderr and the exit code is 1 when any command failed.

    Examples:

        kgnlp shell

        kgnlp> neighbours aspi<Tab>   (completes to: neighbours aspirin)

        kgnlp> path Elena Marchetti -> Bramble Biologics

        kgnlp> ask Who leads Northwind Therapeutics?

        echo "entity aspirin" | kgnlp shell
    """

    ws = conn.workspace()
    graph = conn.open(ws)
    interactive = sys.stdin.isatty()
    try:
        debug = debug or bool(os.environ.get("KGNLP_DEBUG"))  # `kgnlp --debug` is taken by cli.main
        # earlier_history: the file the shell kept in the workspace before, read while the user's own is missing
        sh = KGShell(graph, workspace=ws, history=history_file(ws.path), earlier_history=ws.path / "shell_history",
                     debug=debug, stdin=None if interactive else sys.stdin, stdout=sys.stdout,
                     stderr=None if interactive else sys.stderr)
        if not interactive:
            sh.prompt = ""
        run_shell(sh, intro=INTRO if interactive else None)
    finally:
        graph.close()
    if sh.failures and not interactive:  # a script's caller learns that a command failed (each said why on stderr)
        raise typer.Exit(1)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
