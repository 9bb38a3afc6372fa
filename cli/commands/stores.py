"""Graph-store commands: stats, export, import, migrate, and `query sparql` / `query cypher`."""
from __future__ import annotations

import os
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.common import (
    DEFAULT_WORKSPACE, Connection, Counts, JsonOpt, PasswordEnvOpt, QuietOpt, StoreOpt, UriOpt, UserOpt, WorkspaceOpt,
    completed_by_rerun, emit, one_of, open_store, file_option, read_text_arg, with_connection, workspace,
)
from kg.errors import KGError, not_a_file
from kg.export import FORMATS as EXPORT_FORMATS
from kg.store import BACKENDS

SLOW_COPY_SECONDS = 5.0  # SPARQL over the embedded store says so when its RDF copy takes longer
FormatOpt = Annotated[str, typer.Option("--format", "-f", callback=one_of(EXPORT_FORMATS),
                                        help="tsv, turtle, ntriples, jsonld, graphml or cypher.")]
OutOpt = Annotated[Optional[Path], file_option(
    "--out", "-o", help="Write to this file instead of stdout.")]
WriteOpt = Annotated[bool, typer.Option("--write", help="Allow the query to change the graph.")]


def _table(columns: list[str], rows: list[list[object]], cell=None) -> None:
    """A rich table; a long value folds onto more lines rather than being cut (a cut IRI or id is ambiguous)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:  # Text: a value's own [brackets] are data, not rich markup
        table.add_row(*(Text("" if v is None else cell(v) if cell else str(v)) for v in row))
    Console(highlight=False).print(table)


def _cell(value: object) -> str:
    """A query value as the terminal table shows it: an IRI as a prefixed name (kge:dis%3Aobesity) or <iri>, a blank
    node as _:id and a boolean as true/false (as SPARQL and Cypher write them), Cypher nodes, relationships and
    paths in Cypher's own pattern syntax, lists and maps as JSON."""
    import json

    from kg.store import IRI, BlankNode, GraphNode, GraphPath, GraphRelationship

    def props(d: dict, skip: str) -> str:
        keys = sorted((k for k in d if k != skip), key=lambda k: (k not in ("id", "name"), k != "id"))
        inner = ", ".join(f"{k if k.isidentifier() else '`' + k.replace('`', '``') + '`'}: {lit(d[k])}" for k in keys)
        return f" {{{inner}}}" if inner else ""

    def lit(v: object) -> str:
        return _cell(v) if isinstance(v, (GraphNode, GraphRelationship, GraphPath)) else \
            json.dumps(v, ensure_ascii=False, default=str)

    def node(n: dict, short: bool = False) -> str:
        labels = "".join(f":{x}" for x in n.get("_labels", ()))
        body = props({"id": n["id"]} if short and "id" in n else n, "_labels")
        return f"({labels}{body})"

    def rel(r: dict) -> str:
        return f"[:{r.get('_type', '')}{props(r, '_type')}]"

    if isinstance(value, IRI):
        from kg.stores.rdf_map import prefixed

        return prefixed(value)
    if isinstance(value, BlankNode):
        return f"_:{value}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, GraphNode):
        return node(value)
    if isinstance(value, GraphRelationship):
        return rel(value)
    if isinstance(value, GraphPath):
        nodes, rels = value["nodes"], value["relationships"]
        text = node(nodes[0], short=True) if nodes else ""
        for i, r in enumerate(rels):
            fwd = value.forward[i] if i < len(value.forward) else True
            text += (f"-{rel(r)}->" if fwd else f"<-{rel(r)}-") + (node(nodes[i + 1], short=True)
                                                                   if i + 1 < len(nodes) else "()")
        return text
    if isinstance(value, (list, dict)):
        if any(isinstance(v, (GraphNode, GraphRelationship, GraphPath, IRI, BlankNode))
               for v in (value.values() if isinstance(value, dict) else value)):
            items = (f"{k}: {_cell(v)}" for k, v in value.items()) if isinstance(value, dict) else map(_cell, value)
            return ("{%s}" if isinstance(value, dict) else "[%s]") % ", ".join(items)
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def degree_summary(triples) -> dict[str, object]:
    """Degree distribution (facts in either direction) in a few buckets, with max and mean."""
    deg: Counter[str] = Counter()
    for t in triples:
        deg[t.head_id] += 1
        deg[t.tail_id] += 1
    buckets = {"1": 0, "2-5": 0, "6-20": 0, "21-100": 0, ">100": 0}
    for d in deg.values():
        key = "1" if d == 1 else "2-5" if d <= 5 else "6-20" if d <= 20 else "21-100" if d <= 100 else ">100"
        buckets[key] += 1
    return {"nodes_with_facts": len(deg), "max": max(deg.values(), default=0),
            "mean": round(sum(deg.values()) / len(deg), 2) if deg else 0.0, "buckets": buckets}


@with_connection
def stats(as_json: JsonOpt = False, *, conn: Connection) -> None:
    """Counts by entity type and relation, and the degree distribution.

    Example: kgnlp stats --json
    """
    g = conn.open()
    try:
        s = g.stats()
        data = {"store": conn.store, "documents": s.documents, "entities": s.entities, "relations": s.relations,
                "by_type": dict(s.by_type), "by_relation": dict(s.by_relation), "degree": degree_summary(g.triples())}
    finally:
        g.close()

    def human() -> None:
        typer.echo(f"{data['documents']} documents, {data['entities']} entities, {data['relations']} facts ({conn.store})")
        _table(["type", "entities"], [list(x) for x in data["by_type"].items()])
        _table(["relation", "facts"], [list(x) for x in data["by_relation"].items()])
        d = data["degree"]
        _table(["degree", "entities"], [list(x) for x in d["buckets"].items()])
        typer.echo(f"max degree {d['max']}, mean {d['mean']}")

    emit(as_json, data, human)


@with_connection
def export_cmd(fmt: FormatOpt = "tsv", out: OutOpt = None, as_json: JsonOpt = False, *, conn: Connection) -> None:
    """Export the graph. Without --out the data goes to stdout; with --out, --json prints a summary.

    Example: kgnlp export --format turtle --out graph.ttl
    """
    from kg.export import export
    from kg.files import open_atomic

    g = conn.open()
    try:
        if out is None:
            export(g, fmt, sys.stdout)
            return
        with open_atomic(out) as fh:  # never a half-written file under the real name
            n = export(g, fmt, fh)
    finally:
        g.close()
    emit(as_json, {"format": fmt, "facts": n, "out": str(out)},
         lambda: typer.echo(f"Wrote {n} facts as {fmt} to {out}"))


import_app = typer.Typer(help="Import facts: turtle, ntriples, jsonld, hetionet or csv files.", no_args_is_help=True)


def _import_rdf(file: Path, fmt: str, conn: Connection, as_json: bool) -> None:
    from cli.commands.ingest import sync_indexes
    from kg.export import add_read, read_rdf

    if str(file) == "-":
        data = sys.stdin.buffer.read()
    elif not file.is_file():
        raise KGError(not_a_file(file))
    else:
        data = file.read_bytes()
    # read before opening: a file that is refused leaves no new workspace behind
    entities, facts, unpinned = read_rdf(data, fmt, source=f"import:{'stdin' if str(file) == '-' else file.name}")
    done = Counts(0, 0)  # entities and facts stored so far

    g = conn.open(create=True)
    with completed_by_rerun(lambda: f"{done.values[0]} of {len(entities)} entities and {done.values[1]} of "
                            f"{len(facts)} facts stored"), closing(g):  # entities first: they are stored first
        report = add_read(g, entities, facts, unpinned, stored=done)
        sync_indexes(conn.workspace(), g, True)
    emit(as_json, {"entities": report.entities, "facts": report.facts, "store": conn.store},
         lambda: typer.echo(f"Imported {report.entities} entities and {report.facts} facts into {conn.store}"))


def _rdf_command(fmt: str, example: str):
    def command(file: Annotated[Path, typer.Argument(help="RDF file to read ('-' for stdin).")],
                as_json: JsonOpt = False, *, conn: Connection) -> None:
        _import_rdf(file, fmt, conn, as_json)

    command.__doc__ = (f"Import entities and facts (with provenance) from {fmt}. Rerunning adds nothing twice.\n\n"
                       f"    Example: kgnlp import {fmt} {example}")
    return with_connection(command)


def _bulk_import(graph_data, source: str, conn: Connection, as_json: bool, quiet: bool = False,
                 link: bool = False) -> None:
    from cli.commands.ingest import sync_indexes
    from cli.console import progress_bar
    from kg.importers import link_to_graph

    g = conn.open(create=True)

    def counted(update, facts, total):  # the store consumes facts lazily, so the bar follows the load
        for i, row in enumerate(facts, 1):
            if i % 1000 == 0 or i == total:
                update(i, total)
            yield row

    done = Counts(0, 0)  # facts stored so far, and the new ones among them

    with completed_by_rerun(lambda: f"{done.values[0]} of {len(graph_data.facts)} facts stored ({done.values[1]} "
                            "new)"), closing(g):
        graph_data = link_to_graph(graph_data, g) if link else graph_data
        total = len(graph_data.facts)
        with progress_bar("Importing", enabled=not (quiet or as_json)) as update:
            update(0, total)
            new = g.bulk_load(counted(update, graph_data.facts, total), graph_data.entities, source=source,
                              stored=done)
        sync_indexes(conn.workspace(), g, quiet or as_json)
    data = {"entities": len(graph_data.entities), "facts": len(graph_data.facts), "new_facts": new, "store": conn.store}
    emit(as_json, data, lambda: typer.echo(
        f"Imported {len(graph_data.entities)} entities and {len(graph_data.facts)} facts ({new} new) into {conn.store}"))


@import_app.command("hetionet")
@with_connection
def import_hetionet(nodes: Annotated[Path, typer.Argument(help="Hetionet nodes TSV (id, name, kind).")],
                    edges: Annotated[Path, typer.Argument(help="Hetionet edges SIF (source, metaedge, target); .gz ok.")],
                    as_json: JsonOpt = False, quiet: QuietOpt = False, *, conn: Connection) -> None:
    """Import Hetionet nodes and edges (metaedges become relations: CtD -> TREATS, CcSE -> CAUSES, ...).

    Example: kgnlp import hetionet hetionet-v1.0-nodes.tsv edges-5k.sif.gz
    """
    from kg.importers import read_hetionet

    _bulk_import(read_hetionet(nodes, edges), f"import:{edges.name}", conn, as_json, quiet)


@import_app.command("csv")
@with_connection
def import_csv(file: Annotated[Path, typer.Argument(help="CSV with head, relation, tail [, head_type, tail_type].")],
               as_json: JsonOpt = False, quiet: QuietOpt = False, *, conn: Connection) -> None:
    """Import named facts from a CSV: a name the graph already has (name or alias, same type) is that entity;
    a new one gets the id extraction would give it.

    Example: kgnlp import csv deals.csv
    """
    from kg.importers import read_fact_csv

    _bulk_import(read_fact_csv(file), f"import:{file.name}", conn, as_json, quiet, link=True)


for _fmt, _example in (("turtle", "graph.ttl"), ("ntriples", "graph.nt"), ("jsonld", "graph.jsonld")):
    import_app.command(_fmt)(_rdf_command(_fmt, _example))


def migrate_cmd(source: Annotated[str, typer.Option("--from", callback=one_of(BACKENDS),
                                                   help="Backend to copy from.")] = "embedded",
                target: Annotated[str, typer.Option("--to", callback=one_of(BACKENDS),
                                                   help="Backend to copy to: rdf or neo4j.")] = "neo4j",
                batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Facts per write batch.")] = 1000,
                ws: WorkspaceOpt = Path(DEFAULT_WORKSPACE), uri: UriOpt = None, user: UserOpt = "neo4j",
                password_env: PasswordEnvOpt = "KGNLP_NEO4J_PASSWORD", as_json: JsonOpt = False) -> None:
    """Copy the workspace's graph (documents, mentions, entities, facts, provenance) to another backend.
    Idempotent: rerun after a failure to finish the copy, or after changes to bring the target up to date
    (documents and seed or import sources the source no longer has are removed from the target).

    Example: KGNLP_NEO4J_PASSWORD=... kgnlp migrate --from embedded --to neo4j --uri bolt://127.0.0.1:7687
    """
    from kg.migrate import migrate

    if source == target:
        raise KGError(f"--from and --to are both '{source}'; choose two different backends.")
    w = workspace(ws)
    has = w.local_stores()
    if source != "neo4j" and source not in has:  # nothing to copy: opening it would make an empty store
        raise KGError(f"Workspace '{w.path}' has no {source} store to copy from"
                      + (f"; its graph is in the {has[0]} store (--from {has[0]})." if has else "."))
    src = open_store(w, source, uri, user, password_env)
    try:
        dst = open_store(w, target, uri, user, password_env)
        try:
            r = migrate(src, dst, batch=batch_size)
        finally:
            dst.close()
    finally:
        src.close()
    data = {"from": source, "to": target, "documents": r.documents, "entities": r.entities, "facts": r.facts,
            "seconds": r.seconds, "removed": list(r.removed), "extra_facts": r.extra_facts}
    if r.removed and not as_json:
        more = f" and {len(r.removed) - 5} more" if len(r.removed) > 5 else ""
        typer.echo(f"Removed from {target} what {source} no longer has: {', '.join(r.removed[:5])}{more}.", err=True)
    if r.extra_facts > 0 and not as_json:
        typer.echo(f"{target} still holds {r.extra_facts} fact(s) that {source} does not (a seed or import changed "
                   "since the last copy): migrate into an empty store for an exact copy.", err=True)
    emit(as_json, data, lambda: typer.echo(
        f"Copied {r.documents} documents, {r.entities} entities, {r.facts} facts from {source} to {target} "
        f"in {r.seconds:.1f} s"))


def _print_result(res, as_json: bool) -> None:
    data = {"columns": list(res.columns), "rows": [list(r) for r in res.rows]}

    def human() -> None:
        if not data["columns"]:  # a Bolt server names no columns for a query that matched nothing
            typer.echo("No rows.")
            return
        _table(data["columns"], data["rows"], _cell)
        if not data["rows"]:
            typer.echo("No rows.")

    emit(as_json, data, human)


def sparql(text: Annotated[str, typer.Argument(help="SPARQL 1.1 query ('-' for stdin).")],
           write: WriteOpt = False, store: StoreOpt = "embedded", ws: WorkspaceOpt = Path(DEFAULT_WORKSPACE),
           as_json: JsonOpt = False) -> None:
    """SPARQL SELECT/ASK/CONSTRUCT over the workspace's graph: the embedded store (read through an in-memory RDF
    copy of its entities and facts with their sources, entity merges applied) or, with --store rdf, the RDF store as
    stored (merges not applied), which UPDATE changes with --write. Prefixes kg:, kge: (entities), kgr: (relations),
    rdf:, rdfs:, skos: are predeclared.

    Example: kgnlp query sparql "SELECT ?d WHERE { ?d kgr:TREATS ?x } LIMIT 5" --json
    """
    if store == "neo4j":
        raise KGError("SPARQL runs on the embedded or rdf store; a neo4j graph answers `kgnlp query cypher`.")
    if store == "embedded" and write:
        raise KGError("SPARQL reads the embedded store through an in-memory copy, which --write would not change: "
                      "`kgnlp migrate --to rdf` and query with --store rdf to update a graph with SPARQL.")
    query = read_text_arg(text)
    w = workspace(ws)
    if store == "rdf":
        w.check_rdf_graph()
        g = w.open_store("rdf", read_only=not write)
    else:
        g = _embedded_copy(w)
    try:
        res = g.query(query, write=write)
    finally:
        g.close()
    _print_result(res, as_json)
    if store == "rdf":
        _note_merges_not_applied(w.path, "SPARQL on the rdf store")


def _note_merges_not_applied(ws_path: Path, what: str) -> None:
    """One stderr line when the workspace has entity merges: a query in the backend's own language reads the stored
    graph, which merges never rewrite (:mod:`kg.resolved` applies them as the other reading commands read)."""
    from kg.merges import merge_count

    if n := merge_count(ws_path):
        typer.echo(f"Note: {what} reads the graph as stored, without this workspace's {n} entity merge(s) "
                   "(`kgnlp entities merges`): a merged entity keeps its own id, names and facts here. `kgnlp query "
                   "entity|neighbours|path` and SPARQL on the embedded store read the graph merged.", err=True)


def _embedded_copy(w):
    """An in-memory RDF copy of the workspace's embedded graph, with its entity merges applied as every other
    reading command sees it (said on stderr when it is slow to build)."""
    import time

    from kg.stores.rdf import RDFStore

    started = time.perf_counter()
    source = open_store(w, "embedded", read=True, read_only=True)  # a missing or empty graph.db: refused, not made
    try:
        copy, facts = RDFStore.copy_of(source)
    finally:
        source.close()
    seconds = time.perf_counter() - started
    if seconds > SLOW_COPY_SECONDS:
        typer.echo(f"(SPARQL read an in-memory RDF copy of {facts} facts, built in {seconds:.1f} s; for many "
                   "queries on a large graph, `kgnlp migrate --to rdf` once and query with --store rdf.)", err=True)
    return copy


def cypher(text: Annotated[str, typer.Argument(help="Cypher query ('-' for stdin).")], write: WriteOpt = False,
           ws: WorkspaceOpt = Path(DEFAULT_WORKSPACE), uri: UriOpt = None, user: UserOpt = "neo4j",
           password_env: PasswordEnvOpt = "KGNLP_NEO4J_PASSWORD", as_json: JsonOpt = False) -> None:
    """Cypher over the Bolt server, in a read transaction unless --write; the graph as stored (entity merges not
    applied).

    Example: KGNLP_NEO4J_PASSWORD=... kgnlp query cypher "MATCH (e:Entity) RETURN e.name LIMIT 5" --json
    """
    if os.environ.get(password_env) is None:
        raise KGError(f"`query cypher` runs on a Neo4j (Bolt) server, and {password_env} (its password) is not set: "
                      "set it, copy the graph there with `kgnlp migrate --to neo4j`, and pass --uri; without a "
                      "server, `kgnlp query sparql` queries the embedded graph.")
    w = workspace(ws)
    g = open_store(w, "neo4j", uri, user, password_env)
    try:
        res = g.query(read_text_arg(text), write=write)
    finally:
        g.close()
    _print_result(res, as_json)
    _note_merges_not_applied(w.path, "Cypher")


def register(app: typer.Typer, query_app: typer.Typer) -> None:
    """Add stats, export, import and migrate to ``app`` and sparql/cypher to ``query_app``."""
    app.command("stats")(stats)
    app.command("export")(export_cmd)
    app.add_typer(import_app, name="import")
    app.command("migrate")(migrate_cmd)
    query_app.command("sparql")(sparql)
    query_app.command("cypher")(cypher)
