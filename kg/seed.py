"""Read a seed graph: ``entities.jsonl`` (id, name, type, aliases, external_ids) and ``triples.tsv``."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kg.errors import KGError, is_unicode, not_utf8
from kg.files import jsonl_lines
from kg.records import Entity, Provenance, Triple
from kg.schema import Schema


@dataclass(frozen=True)
class SeedGraph:
    entities: tuple[Entity, ...]
    triples: tuple[Triple, ...]
    source: str = "seed:"  # the provenance id of its facts, ``seed:<folder name>``


def read_seed(folder: Path, schema: Schema | None = None) -> SeedGraph:
    """Entities and facts of a seed folder; facts are sourced to the file and line they come from."""
    schema = schema or Schema()
    ent_file, tri_file = folder / "entities.jsonl", folder / "triples.tsv"
    if not ent_file.exists():
        raise KGError(f"Seed folder '{folder}' has no entities.jsonl.")
    entities = []
    lines: dict[str, int] = {}  # id -> the line that gave it
    for n, line in enumerate(jsonl_lines(_text(ent_file)), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            aliases = obj.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
                raise TypeError(f"\"aliases\" must be a list of names, not {json.dumps(aliases)}")
            ext = obj.get("external_ids", {})
            if not isinstance(ext, dict) or not all(
                    isinstance(v, str) and v.strip() or isinstance(v, int) and not isinstance(v, bool)
                    for v in ext.values()):
                raise TypeError(f"\"external_ids\" must map schemes to ids (strings), not {json.dumps(ext)[:80]}")
            for key in ("id", "name", "type"):
                if not isinstance(obj[key], str) or not obj[key].strip():
                    raise TypeError(f"\"{key}\" must be a non-empty string, not {json.dumps(obj[key])}")
            entities.append(Entity(
                obj["id"], obj["name"], obj["type"], tuple(aliases),
                tuple(sorted((str(k), str(v)) for k, v in obj.get("external_ids", {}).items())),
            ))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise KGError(f"{ent_file}:{n}: expected {{\"id\",\"name\",\"type\",...}} ({exc}).") from None
        if obj["id"] in lines:  # which line would win differs between a first run and a rerun, and by backend
            raise KGError(f"{ent_file}:{n}: entity id '{obj['id']}' appears twice (lines {lines[obj['id']]} and {n}). "
                          "Ids must be unique: merge the two lines into one.")
        lines[obj["id"]] = n
        e = entities[-1]
        bad = [v for v in (e.id, e.name, e.type, *e.aliases, *sum(e.external_ids, ())) if not is_unicode(v)]
        if bad:  # a "\\ud800" escape: no store can hold it
            raise KGError(f"{ent_file}:{n}: {bad[0]!a} is not valid Unicode (it holds a lone surrogate). Fix that value.")
    known = {e.id for e in entities}
    source = f"seed:{folder.resolve().name}"
    if not is_unicode(source):  # a folder name that is not UTF-8 reaches Python as lone surrogates
        raise KGError(f"Seed folder {str(folder)!a}: its name is not UTF-8. Rename the folder.")
    triples = []
    if tri_file.exists():
        for n, line in enumerate(_text(tri_file).splitlines(), 1):
            parts = line.rstrip("\n").split("\t")
            if not line.strip() or (n == 1 and parts[0] == "head"):
                continue
            if len(parts) != 3:
                raise KGError(f"{tri_file}:{n}: expected head<TAB>RELATION<TAB>tail.")
            head, rel, tail = parts
            try:
                schema.get(rel)
            except KGError as exc:
                raise KGError(f"{tri_file}:{n}: {exc}") from None
            for ent in (head, tail):
                if ent not in known:
                    raise KGError(f"{tri_file}:{n}: unknown entity id '{ent}' (not in entities.jsonl).")
            prov = Provenance(source, n, n, line, "seed")
            triples.append(Triple(head, rel, tail, 1.0, (prov,)))
    return SeedGraph(tuple(entities), tuple(triples), source)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KGError(not_utf8(path, exc)) from None
