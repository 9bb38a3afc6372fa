"""Build and update the workspace's FAISS indexes from the store (what ingest/remove call)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from kg.index import KINDS, IndexReport, SyncedIndex, chunk_items, entity_items, entity_spans, fact_item
from kg.index.items import store_fingerprint
from kg.schema import Schema
from kg.store import GraphStore
from kg.workspace import Workspace
from nlp.embedder import Embedder
from nlp.errors import NLPError

Progress = Callable[[int, int], None]  # (texts embedded so far, texts to embed), over all kinds


def index_root(ws: Workspace | str | Path) -> Path:
    return Path(ws.path if isinstance(ws, Workspace) else ws) / "index"


def update_indexes(
    ws: Workspace | str | Path,
    store: GraphStore,
    progress: Progress | None = None,
    *,
    embedder: Embedder | None = None,
    schema: Schema | None = None,
    kinds: Iterable[str] = KINDS,
    rebuild: bool = False,
) -> dict[str, IndexReport]:
    """Bring each index (entities, facts, chunks) in step with the store, embedding only what changed.

    ``progress(done, total)`` counts texts embedded over all kinds. An index that is inconsistent
    with itself or was built by another embedder is rebuilt; its report says why.
    """
    kinds = list(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise NLPError(f"Unknown index kind '{unknown[0]}'. Choose one of: {', '.join(KINDS)}.")
    root = index_root(ws)
    opened = {kind: SyncedIndex.open(root / kind, kind) for kind in kinds}
    try:
        return sync_opened(opened, store, progress, embedder=embedder, schema=schema, rebuild=rebuild)
    finally:
        for idx in opened.values():
            idx.close()


def sync_opened(
    indexes: dict[str, SyncedIndex],
    store: GraphStore,
    progress: Progress | None = None,
    *,
    embedder: Embedder | None = None,
    schema: Schema | None = None,
    rebuild: bool = False,
    most: int | None = None,
    fingerprint: str | None = None,
) -> dict[str, IndexReport]:
    """Bring opened indexes (kind -> index) in step with the store: saved, or in memory only for an index opened
    ``read_only``. ``most``: refuse (before embedding anything) when more texts than that would be embedded.
    ``fingerprint``: the store's, where the caller has it already (it reads every document id)."""
    embedder = embedder or Embedder()
    schema = schema or Schema()
    fingerprint = fingerprint or store_fingerprint(store)
    entities = list(store.entities())
    triples = list(store.triples()) if {"facts", "chunks"} & set(indexes) else []
    names = {e.id: e.name for e in entities}
    sources = {
        "entities": lambda: entity_items(entities),
        "facts": lambda: (fact_item(t, schema, names) for t in triples),
        "chunks": lambda: chunk_items(store, entity_spans(triples)),
    }
    plans = {kind: idx.plan(sources[kind](), embedder, rebuild) for kind, idx in indexes.items()}
    total, done = sum(p.work for p in plans.values()), 0
    if most is not None and total > most:
        folder = next(iter(indexes.values())).folder.parent.parent
        raise NLPError(f"Bringing the indexes up to date would embed {total} texts, more than a reading command "
                       f"embeds ({most}): save them up to date with `kgnlp index -w {folder}`.")
    reports: dict[str, IndexReport] = {}
    for kind, idx in indexes.items():
        step = (lambda d, _t, base=done: progress(base + d, total)) if progress else None
        reports[kind] = idx.apply(plans[kind], embedder, fingerprint, step)
        done += plans[kind].work
    if progress:
        progress(total, total)
    return reports


def build_indexes(
    ws: Workspace | str | Path,
    store: GraphStore,
    progress: Progress | None = None,
    *,
    embedder: Embedder | None = None,
    schema: Schema | None = None,
) -> dict[str, IndexReport]:
    """Build every index from scratch (same ids as an incremental update would give)."""
    return update_indexes(ws, store, progress, embedder=embedder, schema=schema, rebuild=True)


def existing_kinds(ws: Workspace | str | Path) -> list[str]:
    """The index kinds already built in ``<ws>/index/`` (what ingest and remove keep updated)."""
    root = index_root(ws)
    return [k for k in KINDS if SyncedIndex.exists(root / k)]


def indexes_exist(ws: Workspace | str | Path) -> bool:
    """True when ``<ws>/index/`` holds at least one built index (ingest then keeps them updated)."""
    return bool(existing_kinds(ws))