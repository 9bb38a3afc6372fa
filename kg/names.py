"""Name normalisation shared by every store's name lookup."""
from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


def normalise(name: str) -> str:
    """Case-folded, NFKC, single-spaced, without punctuation at the ends ("Pfizer Inc." -> "pfizer inc")."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    text = _SPACE.sub(" ", text).strip()
    return _EDGE_PUNCT.sub("", text)


def relation_name(typed: str) -> str:
    """A relation as the graph names relations ("treats", "headquartered in" -> TREATS, HEADQUARTERED_IN)."""
    return re.sub(r"[\s\-]+", "_", typed.strip()).upper()


def matches_as_written(name: str) -> bool:
    """True for a short name that only matches text written the same way: an all-caps acronym of up to six
    characters ("ALL", "NO", "AF", "PFE") or a name of up to three characters with a capital ("Mg", "pH").
    Matched case-insensitively, these would take common words ("all", "no", "mg" as in 5 mg) for entities."""
    name = name.strip()
    return (len(name) <= 6 and any(c.isalpha() for c in name) and any(c.isupper() for c in name)
            and (name.upper() == name or len(name) <= 3))


def slug(name: str) -> str:
    """A readable id fragment: "Type 2 Diabetes" -> "type-2-diabetes"."""
    text = normalise(name)
    text = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-")
    return text or "x"


PREFIX = {"Chemical": "chem", "Disease": "dis", "Organization": "org", "Person": "per", "Location": "loc"}
_SUFFIX = re.compile(
    r"[,\s]+(inc|incorporated|corp|corporation|co|company|ltd|limited|plc|llc|ag|sa|se|nv|gmbh|asa|ab|group|holdings)\.?$",
    re.IGNORECASE,
)


def without_suffixes(name: str) -> str:
    """An organisation's name without its corporate suffixes ("Acme Holdings AG" -> "Acme")."""
    while (cut := _SUFFIX.sub("", name)) != name:
        name = cut
    return name


def new_entity_id(name: str, kind: str) -> str:
    """The id a new entity gets: readable and stable, so one name lands on one entity across documents
    ("Northwind Therapeutics Inc." -> "org:northwind-therapeutics")."""
    core = _SUFFIX.sub("", name) if kind == "Organization" else name
    return f"{PREFIX.get(kind, 'ent')}:{slug(core or name)}"
