"""``kgnlp query entity|neighbours|path``: facts with their sources. No NLP libraries load here."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from cli.common import Connection, JsonOpt, emit, one_line, with_connection
from cli.console import out
from cli.shell import MAX_HOPS
from cli.shell import resolve_entity as pick_entity
from kg.errors import KGError
from kg.records import Entity
from kg.store import GraphStore
from kg.views import NamedFact, name_facts

query_app = typer.Typer(help="Query the graph: an entity, its neighbourhood, or a path between two entities.",
                        no_args_is_help=True)


def resolve_entity(store: GraphStore, name: str) -> Entity:
    """An entity by id or by name/alias; a clear error when none or several fit (see :func:`cli.shell.resolve_entity`)."""
    return pick_entity(store, name)[0]


SENTENCE_SHOWN = 90  # characters of a source sentence in the facts table; --json has it whole


def _print_facts(facts: list[NamedFact]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not facts:
        out.print("No facts.")
        return
    table = Table(show_lines=False)
    for col in ("head", "relation", "tail", "conf.", "sources"):
        table.add_column(col, overflow="fold")  # a long name or document id folds; cut, it could be another's
    for f in facts:
        srcs = "; ".join(f"{p.doc_id}: {one_line(p.sentence, SENTENCE_SHOWN)}" for p in f.sources[:2])
        more = f" (+{len(f.sources) - 2})" if len(f.sources) > 2 else ""
        # Text, not markup: a name such as "Beta[red]Ltd" is data, printed as written
        table.add_row(Text(f.head), Text(f.relation), Text(f.tail), f"{f.confidence:.2f}", Text(srcs + more))
    out.print(table)


def _entity_dict(ent: Entity) -> dict[str, object]:
    return {"id": ent.id, "name": ent.name, "type": ent.type, "aliases": list(ent.aliases),
            "external_ids": ent.external()}


@query_app.command("entity")
@with_connection
def entity_cmd(
    name: Annotated[str, typer.Argument(help="Entity name, alias or id.")],
    as_json: JsonOpt = False,
    *,
    conn: Connection,
) -> None:
    """An entity, its names and its facts with sources.

    Example: kgnlp query entity metformin
    """
    graph = conn.open()
    try:
        ent = resolve_entity(graph, name)
        facts = name_facts(graph, graph.neighbours(ent.id, hops=1))
    finally:
        graph.close()
    facts = [f for f in facts if ent.id in (f.head_id, f.tail_id)]

    def human() -> None:
        from rich.text import Text

        aliases = f" (also: {', '.join(ent.aliases)})" if ent.aliases else ""
        out.print(Text.assemble((ent.name, "bold"), f" [{ent.type}] id={ent.id}{aliases}"))
        _print_facts(facts)

    emit(as_json, {"entity": _entity_dict(ent), "facts": [f.as_dict() for f in facts]}, human)


@query_app.command("neighbours")
@with_connection
def neighbours_cmd(
    name: Annotated[str, typer.Argument(help="Entity name, alias or id.")],
    hops: Annotated[int, typer.Option(min=1, max=MAX_HOPS, help="How many hops out.")] = 1,
    relation: Annotated[Optional[str], typer.Option(help="Only this relation, e.g. TREATS.")] = None,
    as_json: JsonOpt = False,
    *,
    conn: Connection,
) -> None:
    """Facts within N hops of an entity.

    Example: kgnlp query neighbours "Northwind Therapeutics" --hops 2
    """
    graph = conn.open()
    try:
        ent = resolve_entity(graph, name)
        if relation is not None:
            relation = _known_relation(graph, relation)
        facts = name_facts(graph, graph.neighbours(ent.id, hops=hops, relation=relation))
    finally:
        graph.close()
    emit(as_json, {"entity": _entity_dict(ent), "hops": hops, "facts": [f.as_dict() for f in facts]},
         lambda: _print_facts(facts))


def _known_relation(graph, typed: str) -> str:
    """``typed`` as the graph names relations ("treats", "headquartered in" -> TREATS, HEADQUARTERED_IN); one the
    graph holds no fact of is an error listing those it has."""
    from kg.names import relation_name

    name = relation_name(typed)
    if not name.strip("_"):
        raise KGError(f"--relation {typed!r} names no relation. Example: --relation treats")
    held = [r for r, _ in graph.stats().by_relation]
    if name not in held:
        raise KGError(f"No {name} facts in the graph. Its relations: {', '.join(sorted(held)) or 'none yet'}.")
    return name


@query_app.command("path")
@with_connection
def path_cmd(
    source: Annotated[str, typer.Argument(help="Start entity.")],
    target: Annotated[str, typer.Argument(help="End entity.")],
    max_hops: Annotated[int, typer.Option(min=1, max=6, help="Longest path to look for.")] = 4,
    as_json: JsonOpt = False,
    *,
    conn: Connection,
) -> None:
    """A shortest chain of facts linking two entities (either direction).

    Example: kgnlp query path "Elena Marchetti" "Bramble Biologics"
    """
    graph = conn.open()
    try:
        a, b = resolve_entity(graph, source), resolve_entity(graph, target)
        facts = name_facts(graph, graph.path(a.id, b.id, max_hops=max_hops))
    finally:
        graph.close()

    def human() -> None:
        if a.id == b.id:
            out.print(f"'{source}' and '{target}' name the same entity, {a.name} ({a.id}).")
        elif not facts:
            out.print(f"No path between {a.name} and {b.name} within {max_hops} hop{'s' if max_hops > 1 else ''}.")
        else:
            _print_facts(facts)

    emit(as_json, {"source": _entity_dict(a), "target": _entity_dict(b), "facts": [f.as_dict() for f in facts]},
         human)
