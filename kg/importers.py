"""Bulk sources of facts: Hetionet (nodes TSV + edges SIF, gzip or not) and a plain CSV of named facts."""
from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from kg.errors import KGError, not_a_file, not_utf8
from kg.names import new_entity_id, normalise
from kg.records import Entity
from kg.views import entities_named

# Hetionet metaedges -> our UPPER_SNAKE relations (the built-in ones where they mean the same thing).
HETIONET_RELATIONS = {
    "AdG": "DOWNREGULATES", "AeG": "EXPRESSES", "AuG": "UPREGULATES", "CbG": "BINDS", "CcSE": "CAUSES",
    "CdG": "DOWNREGULATES", "CpD": "PALLIATES", "CrC": "RESEMBLES", "CtD": "TREATS", "CuG": "UPREGULATES",
    "DaG": "ASSOCIATED_WITH", "DdG": "DOWNREGULATES", "DlA": "LOCALIZES_TO", "DpS": "PRESENTS_WITH",
    "DrD": "RESEMBLES", "DuG": "UPREGULATES", "GcG": "COVARIES_WITH", "GiG": "INTERACTS_WITH",
    "GpBP": "PARTICIPATES_IN", "GpCC": "PARTICIPATES_IN", "GpMF": "PARTICIPATES_IN", "GpPW": "PARTICIPATES_IN",
    "Gr>G": "REGULATES", "PCiC": "INCLUDES",
}
# Hetionet kinds -> our entity types; side effects and symptoms are conditions like diseases.
HETIONET_TYPES = {"Compound": "Chemical", "Disease": "Disease", "Side Effect": "Disease", "Symptom": "Disease"}


@dataclass(frozen=True)
class BulkGraph:
    entities: tuple[Entity, ...]
    facts: tuple[tuple[str, str, str], ...]


def _open_text(path: Path) -> io.TextIOBase:
    if not path.is_file():
        raise KGError(not_a_file(path))
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


@contextmanager
def _reading(path: Path) -> Iterator[io.TextIOBase]:
    """The file opened as text; what cannot be read as UTF-8 (or gzip, for .gz) is a KGError naming it."""
    try:
        with _open_text(path) as fh:
            yield fh
    except UnicodeDecodeError as exc:
        raise KGError(not_utf8(path, exc)) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise KGError(f"{path}: not a readable gzip file ({exc}).") from None
    except csv.Error as exc:
        raise KGError(f"{path}: malformed ({exc}).") from None


def _name(path: Path, n: int, text: str | None, what: str) -> str:
    """A CSV cell that names an entity: non-empty, with a letter or digit (an id is made from them)."""
    name = (text or "").strip()
    if not name:
        raise KGError(f"{path}:{n}: {what} must not be empty.")
    if not any(ch.isalnum() for ch in name):
        raise KGError(f"{path}:{n}: {what} '{name}' needs a letter or digit to be a name.")
    return name


def read_hetionet(nodes: Path, edges: Path) -> BulkGraph:
    """Hetionet's ``nodes.tsv`` (id, name, kind) and an edges ``.sif`` (source, metaedge, target)."""
    entities = {}
    with _reading(nodes) as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not reader.fieldnames or not {"id", "name", "kind"} <= set(reader.fieldnames):
            raise KGError(f"{nodes}: expected a TSV with columns id, name, kind (Hetionet nodes).")
        for n, row in enumerate(reader, 2):
            if not all(row.get(col) for col in ("id", "name", "kind")):
                raise KGError(f"{nodes}:{n}: expected id<TAB>name<TAB>kind, each non-empty.")
            kind = HETIONET_TYPES.get(row["kind"], row["kind"].replace(" ", ""))
            entities[row["id"]] = Entity(row["id"], row["name"], kind, (), (("hetionet", row["id"]),))
    facts: dict[tuple[str, str, str], None] = {}
    with _reading(edges) as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\r\n").split("\t")
            if n == 1 and parts[:2] == ["source", "metaedge"]:
                continue
            if len(parts) != 3:
                raise KGError(f"{edges}:{n}: expected source<TAB>metaedge<TAB>target.")
            head, metaedge, tail = parts
            rel = HETIONET_RELATIONS.get(metaedge)
            if rel is None:
                raise KGError(f"{edges}:{n}: unknown Hetionet metaedge '{metaedge}'.")
            for node in (head, tail):
                if node not in entities:
                    raise KGError(f"{edges}:{n}: node '{node}' is not in {nodes}.")
            facts[(head, rel, tail)] = None
    return BulkGraph(tuple(entities.values()), tuple(facts))


def read_fact_csv(path: Path) -> BulkGraph:
    """A CSV with columns ``head, relation, tail`` and optional ``head_type, tail_type``; entities by name
    get the same readable ids extraction gives them, so imported and extracted facts meet."""
    entities: dict[str, Entity] = {}
    facts: dict[tuple[str, str, str], None] = {}
    with _reading(path) as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"head", "relation", "tail"} <= set(reader.fieldnames):
            raise KGError(f"{path}: expected a header with head, relation, tail (and optionally head_type, tail_type).")
        for n, row in enumerate(reader, 2):
            rel = (row["relation"] or "").strip().upper().replace(" ", "_")
            if not rel:
                raise KGError(f"{path}:{n}: relation must not be empty.")
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*", rel):
                raise KGError(f"{path}:{n}: relation '{row['relation'].strip()}' must be letters, digits and "
                              "spaces or _ (e.g. 'treats', 'HEADQUARTERED_IN').")
            ids = []
            for side in ("head", "tail"):
                name, kind = _name(path, n, row[side], side), (row.get(f"{side}_type") or "Entity").strip() or "Entity"
                eid = new_entity_id(name, kind)
                known = entities.setdefault(eid, Entity(eid, name, kind))
                if normalise(name) not in {normalise(x) for x in (known.name, *known.aliases)}:
                    # "A-B" after "A B" (or "Acme Inc." after "Acme") is the same entity: keep the name findable
                    entities[eid] = replace(known, aliases=(*known.aliases, name))
                ids.append(eid)
            facts[(ids[0], rel, ids[1])] = None
    return BulkGraph(tuple(entities.values()), tuple(facts))


def link_to_graph(graph: BulkGraph, store) -> BulkGraph:
    """``graph`` with each entity the store already knows by that exact name or alias (of the same type, or of
    any one type when the file gave none) replaced by the stored one, so imported facts meet extracted ones."""
    moved: dict[str, str] = {}
    for ent in graph.entities:
        known = [e for e in entities_named(store, ent.name, limit=10) if e.id != ent.id]
        fits = [e for e in known if e.type == ent.type] or (known if ent.type == "Entity" else [])
        if len({e.id for e in fits}) == 1 and store.entity(ent.id) is None:
            moved[ent.id] = fits[0].id
    if not moved:
        return graph
    facts = dict.fromkeys((moved.get(h, h), r, moved.get(t, t)) for h, r, t in graph.facts)
    return BulkGraph(tuple(e for e in graph.entities if e.id not in moved), tuple(facts))
