"""Name keys shared by every name lookup (the stores', the linkers', the matchers over running text), and ids."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
# KEY_VERSION numbers the rule ``normalise`` follows; a store records the version its saved keys were made by and
# remakes them on open when it differs (1: case, NFKC and spaces only; 2: accents, Roman numerals, possessives; 3: a
# hyphen between "type", "phase" (...) and a numeral, "type-2", as a space).
KEY_VERSION = 3
# what a store's ``stale_name_keys`` says is out of date in the name keys it reads (left so where it could not
# remake them): STALE_RULE, made by an older key rule than ``normalise``'s; STALE_ROWS, holding keys of names no
# entity has
STALE_RULE, STALE_ROWS = "rule", "rows"
# letters NFKD does not take apart: spelled as an English keyboard would ("Ørsted" -> "orsted", "Łódź" -> "lodz")
_LETTERS = str.maketrans({"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
                          "\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-"})
# the combining marks NFKD splits off Latin, Greek and Cyrillic letters (not the vowel signs of other scripts)
_ACCENTS = re.compile("[\u0300-\u036f]")
_WORDS = re.compile(r"([^\w']+)")  # a name's words (letters, digits and apostrophes) and what lies between them
_POSSESSIVE = re.compile(r"(?<=\w)'s$|(?<=\ws)'$")
_ROMAN = {r: str(n) for n, r in enumerate(
    "ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx".split(), start=2)}
_ROMAN["i"] = "1"
# a lone I, V or X is a numeral only after one of these words ("type I", "factor V"), never a pronoun, a "v."
# (versus) or the X of "X-ray"; the numerals of two letters or more (II..XX) are numerals wherever they stand. A
# hyphen between one of these words and a numeral is a space ("type-2", "Phase-II"); other hyphens before a number
# stay, so "IL-6", "COVID-19" and "GLP-1" key as themselves
_NUMBERED = frozenset("type phase class grade stage factor schedule tier series complex".split())
# an apostrophe, a word that may be a Roman numeral, or a hyphen after a numbered word: where a folded text's key can
# differ from the text
KEYED_WORDS = re.compile(r"'|\b[ivx]+\b|\b(?:" + "|".join(sorted(_NUMBERED)) + r")-")


def fold(text: str) -> str:
    """Case and accents folded: NFKC, case-folded, accents dropped, letters such as ø, æ, ł spelled
    out, curly quotes and dashes made plain ("Sjögren’s" -> "sjogren's", "Straße" -> "strasse")."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = _ACCENTS.sub("", unicodedata.normalize("NFKD", text))
        text = unicodedata.normalize("NFKC", text.translate(_LETTERS))
    return text


def word_key(word: str, previous: str = "", between: str = " ") -> str:
    """One folded word's part of a name key: without a possessive ending ("sjogren's" -> "sjogren", "graves'" ->
    "graves"; a contraction's "'s" goes too, "it's" -> "it", which names hardly hold), a Roman numeral II..XX as its
    number, and I, V, X too when ``previous`` (the word before, as keyed, with ``between`` between them: spaces or a
    hyphen) is a word such as "type" or "phase"."""
    if "'" in word:
        word = _POSSESSIVE.sub("", word)
    number = _ROMAN.get(word)
    if number is None or (len(word) == 1 and not (previous in _NUMBERED and between.strip() in ("", "-"))):
        return word
    return number


def keyed_after(folded: str) -> bool:
    """Whether a folded text's key can depend on the word before it: its first word is a lone I, V or X."""
    first = _WORDS.split(folded, 1)[0]
    return len(first) == 1 and first in _ROMAN


def normalise(name: str) -> str:
    """A name's lookup key: folded (``fold``), single-spaced, without punctuation at the ends, each word keyed by
    ``word_key`` ("Pfizer Inc." -> "pfizer inc", "Sjögren's syndrome" -> "sjogren syndrome", "type II diabetes"
    -> "type 2 diabetes"). Only keys fold: names are stored and shown as written."""
    text = _EDGE_PUNCT.sub("", _SPACE.sub(" ", fold(name)).strip())
    if not KEYED_WORDS.search(text):  # most names
        return text
    return _EDGE_PUNCT.sub("", "".join(key_words(text)))


def name_keys(names: Iterable[str]) -> set[str]:
    """The lookup keys of an entity's names (its name and aliases, or some of them): each one's ``normalise`` key,
    the empty key left out. Every store makes the keys it saves here, so one rule (and one place to stand in an older
    rule, in tests) holds for all of them."""
    return {normalise(n) for n in names} - {""}


def key_words(folded: str, previous: str = "", between: str = " ") -> list[str]:
    """A folded text split into its words (at even places, each keyed by ``word_key``) and what separates them (at
    odd places); ``previous`` is the keyed word before the text, ``between`` what lies between them. Joined, the
    parts are the text's share of a name key: how a matcher over a text's tokens keys each token as ``normalise``
    keys the name it is part of."""
    parts = _WORDS.split(folded)
    for i in range(0, len(parts), 2):
        parts[i] = word_key(parts[i], parts[i - 2] if i else previous, parts[i - 1] if i else between)
        if i and joins_as_space(parts[i - 2], parts[i - 1], parts[i]):
            parts[i - 1] = " "
    return parts


def joins_as_space(previous: str, between: str, word: str) -> bool:
    """Whether what lies ``between`` two keyed words is a space in a key: the hyphen of "type-2" ("type 2")."""
    return between == "-" and previous in _NUMBERED and word.isdigit()


def _plain(name: str) -> str:
    """The key rule of version 1 (case, NFKC, spaces, punctuation at the ends): what ids are made from, so an
    entity's id stays as it was."""
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
    text = _plain(name)
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


def is_corporate_suffix(word: str) -> bool:
    """``word`` is a corporate suffix ("Inc", "AG", "Group") that :func:`without_suffixes` drops."""
    return without_suffixes(f"x {word}") == "x"


def new_entity_id(name: str, kind: str) -> str:
    """The id a new entity gets: readable and stable, so one name lands on one entity across documents
    ("Northwind Therapeutics Inc." -> "org:northwind-therapeutics")."""
    core = _SUFFIX.sub("", name) if kind == "Organization" else name
    return f"{PREFIX.get(kind, 'ent')}:{slug(core or name)}"
