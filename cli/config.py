"""``kgnlp.toml``: defaults for the CLI's options; flags and environment variables override it.

    workspace = "./kgnlp-workspace"
    store = "embedded"            # embedded | rdf | neo4j
    model = "models/ner"          # a trained model folder for ner/ingest (optional)
    [neo4j]
    uri = "bolt://127.0.0.1:7687"
    user = "neo4j"
    password_env = "KGNLP_NEO4J_PASSWORD"
    [[relations]]                 # extra relation types (see README)
    ...
The file is ./kgnlp.toml, or the one named by --config / KGNLP_CONFIG.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from kg.errors import KGError

_TOP = {"workspace": "ws_path", "store": "store", "model": "model"}
_NEO4J = {"uri": "uri", "user": "user", "password_env": "password_env"}
_KNOWN = set(_TOP) | {"neo4j", "relations"}


def find_config(args: list[str]) -> Path | None:
    """The config file in force for this command line."""
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    if os.environ.get("KGNLP_CONFIG"):
        return Path(os.environ["KGNLP_CONFIG"])
    local = Path("kgnlp.toml")
    return local if local.exists() else None


def option_defaults(path: Path | None) -> dict[str, Any]:
    """Option name -> default value, from the config file (empty without one)."""
    if path is None:
        return {}
    if not path.exists():
        raise KGError(f"Config file '{path}' does not exist.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KGError(f"Config file {path} is not valid TOML ({exc}).") from None
    unknown = set(data) - _KNOWN
    if unknown:
        raise KGError(f"Unknown setting(s) {', '.join(sorted(unknown))} in {path}. Known: {', '.join(sorted(_KNOWN))}.")
    out = {param: data[key] for key, param in _TOP.items() if key in data}
    if "ws_path" in out:  # command modules name the workspace option ws_path, ws or workspace
        out["ws"] = out["workspace"] = out["ws_path"]
    neo = data.get("neo4j", {})
    if not isinstance(neo, dict) or set(neo) - set(_NEO4J):
        raise KGError(f"[neo4j] in {path} takes only: {', '.join(_NEO4J)}.")
    out.update({param: neo[key] for key, param in _NEO4J.items() if key in neo})
    return out


# settings that mean one thing only: ``model`` is the NER model, not `embed --model` or `classify --model`
_ONLY = {"model": {"ner", "ingest", "eval ner"}}


def default_map(command, defaults: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Click's ``default_map`` for a command tree: each option that names a setting gets its value."""
    result: dict[str, Any] = {}
    for name, sub in getattr(command, "commands", {}).items():
        path = f"{prefix}{name}"
        if getattr(sub, "commands", None):
            nested = default_map(sub, defaults, path + " ")
            if nested:
                result[name] = nested
            continue
        values = {p.name: _for_param(p, defaults[p.name]) for p in sub.params
                  if p.name in defaults and path in _ONLY.get(p.name, {path})}
        if values:
            result[name] = values
    return result


def _for_param(param, value: Any) -> Any:
    """A single setting for a repeatable option becomes a one-item list."""
    if getattr(param, "multiple", False) and isinstance(value, (str, Path)):
        return [value]
    return value
