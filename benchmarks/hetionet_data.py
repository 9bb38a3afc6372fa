"""Hetionet as our benchmarks read it, in place from ../shared/datasets/hetionet/ (never copied).

Facts: ``edges-5k.sif.gz`` (99,676 edges, <=5,000 per metaedge, upstream subset) plus the rest of the
complete Disease-associates-Gene table; relation names are the metaedge abbreviations (CtD, DaG, ...).
"""
from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO.parent / "shared" / "datasets" / "hetionet").resolve()


@dataclass(frozen=True)
class Hetionet:
    names: dict[str, str]  # node id -> name
    kinds: dict[str, str]  # node id -> kind
    facts: list[tuple[str, str, str]]  # (head id, metaedge abbreviation, tail id), distinct
    verbs: dict[str, str]  # metaedge abbreviation -> verb ("CtD" -> "treats")


def load(include_full_dag: bool = True) -> Hetionet:
    if not (DATA / "edges-5k.sif.gz").exists():
        raise SystemExit(f"Hetionet data not found at {DATA}; expected ../shared/datasets/hetionet/ next to the repo.")
    names, kinds = {}, {}
    with open(DATA / "hetionet-v1.0-nodes.tsv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            names[row["id"]], kinds[row["id"]] = row["name"], row["kind"]
    facts: dict[tuple[str, str, str], None] = {}
    with gzip.open(DATA / "edges-5k.sif.gz", "rt", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            h, r, t = line.rstrip("\n").split("\t")
            facts[(h, r, t)] = None
    if include_full_dag:
        with open(DATA / "DaG-association.tsv", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                facts[(f"Disease::{row['doid_id']}", "DaG", f"Gene::{row['entrez_gene_id']}")] = None
    verbs = {}
    with open(DATA / "metaedges.tsv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            parts = row["metaedge"].replace(">", "-").split(" - ")
            verbs[row["abbreviation"]] = parts[1].strip() if len(parts) == 3 else row["abbreviation"]
    return Hetionet(names, kinds, list(facts), verbs)


def verbalise(het: Hetionet, fact: tuple[str, str, str]) -> str:
    """"metformin treats type 2 diabetes mellitus" (relation verbs as the metagraph names them)."""
    h, r, t = fact
    verb = het.verbs.get(r, r)
    verb = {"associates": "is associated with", "presents": "presents with", "resembles": "resembles",
            "includes": "includes", "localizes": "localizes to", "participates": "participates in",
            "binds": "binds", "interacts": "interacts with", "covaries": "covaries with",
            "expresses": "expresses"}.get(verb, verb)
    return f"{het.names.get(h, h)} {verb} {het.names.get(t, t)}"
