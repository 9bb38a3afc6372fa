"""A Markdown file's YAML front matter: the ``---`` block of metadata at its top that static-site generators
(Jekyll, Hugo, Obsidian) read, which is no part of the text.
"""
from __future__ import annotations

import re

# '---' on the first line, and a closing '---' (or YAML's '...') on a line of its own
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)
# ... whose first line is a YAML key: a text opening with a thematic break ('---') and holding another is no
# front matter
_KEY = re.compile(r"\s*[A-Za-z_][\w -]*:(?:\s|$)")
_TITLE = re.compile(r"^title[ \t]*:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_QUOTED = re.compile(r"""(["'])(.*)\1""")


def without_front_matter(text: str) -> str:
    """``text`` without its front matter; the front matter's one-line ``title:`` (quoted or not) stands first in its
    place as a heading, a paragraph of its own. Text without front matter is returned as it is."""
    found = _FRONT_MATTER.match(text)
    if not found or not _KEY.match(found.group(1)):
        return text
    rest = text[found.end():].lstrip("\r\n")
    title = _TITLE.search(found.group(1))
    value = title.group(1) if title else ""
    quoted = _QUOTED.fullmatch(value)
    value = quoted.group(2).strip() if quoted else value
    if not value or value[0] in "|>[{&*!#":  # a block scalar, list, map, anchor or comment: no one-line title
        return rest
    return f"{value}\n\n{rest}"
