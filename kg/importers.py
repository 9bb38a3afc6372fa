"""Bulk sources of facts: Hetionet (nodes TSV + edges SIF, gzip or not) and a plain CSV of named facts."""
from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KGError
from kg.names import new_entity_id
from kg.records import Entity

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
        raise KGError(f"File '{path}' does not exist.")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_hetionet(nodes: Path, edges: Path) -> BulkGraph:
    """Hetionet's ``nodes.tsv`` (id, name, kind) and an edges ``.sif`` (source, metaedge, target)."""
    entities = {}
    with _open_text(nodes) as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not reader.fieldnames or not {"id", "name", "kind"} <= set(reader.fieldnames):
            raise KGError(f"{nodes}: expected a TSV with columns id, name, kind (Hetionet nodes).")
        for row in reader:
            kind = HETIONET_TYPES.get(row["kind"], row["kind"].replace(" ", ""))
            entities[row["id"]] = Entity(row["id"], row["name"], kind, (), (("hetionet", row["id"]),))
    facts: dict[tuple[str, str, str], None] = {}
    with _open_text(edges) as fh:
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
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"head", "relation", "tail"} <= set(reader.fieldnames):
            raise KGError(f"{path}: expected a header with head, relation, tail (and optionally head_type, tail_type).")
        for n, row in enumerate(reader, 2):
            rel = (row["relation"] or "").strip().upper().replace(" ", "_")
            if not rel or not row["head"] or not row["tail"]:
                raise KGError(f"{path}:{n}: head, relation and tail must not be empty.")
            ids = []
            for side in ("head", "tail"):
                name, kind = row[side].strip(), (row.get(f"{side}_type") or "Entity").strip()
                eid = new_entity_id(name, kind)
                entities.setdefault(eid, Entity(eid, name, kind))
                ids.append(eid)
            facts[(ids[0], rel, ids[1])] = None
    return BulkGraph(tuple(entities.values()), tuple(facts))
