"""Writing output files whole or not at all: a temporary file beside the target, renamed over it when complete;
and making the folders a workspace keeps its files in."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from kg.errors import KGError


@contextlib.contextmanager
def open_atomic(out: Path, mode: int = 0o644) -> Iterator[IO[str]]:
    """A text handle whose content replaces ``out`` when the block ends without error (missing parent folders are
    made); on an error the temporary file is removed and ``out`` keeps what it held. ``OSError`` becomes a
    one-line ``KGError``."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as exc:
        raise KGError(f"Cannot write {out}: {exc.strerror}.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
        os.chmod(tmp, mode)  # mkstemp makes 0600; an output is meant to be shared
        os.replace(tmp, out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise KGError(f"Cannot write {out}: {exc.strerror}.") from exc
        raise


def write_atomic(out: Path, text: str) -> None:
    """Write ``text`` to ``out`` whole or not at all (see :func:`open_atomic`)."""
    with open_atomic(out) as fh:
        fh.write(text)


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSONL text, ended by \\n, \\r\\n or \\r only: a JSON string may hold U+2028, U+2029 or U+0085
    unescaped, where ``str.splitlines`` would end a line."""
    import re

    return re.split(r"\r\n?|\n", text)


def make_folder(folder: Path, what: str, then: str, create: bool = True) -> None:
    """``folder`` (the workspace's ``what``) made if missing, or with ``create=False`` only checked that it can be,
    before a long run; a file where it or a folder above it should be is a one-line KGError saying to move it
    and then run ``then``."""
    blocker = folder
    while not blocker.exists() and blocker != blocker.parent:
        blocker = blocker.parent
    if blocker.exists() and not blocker.is_dir():
        raise KGError(f"'{blocker}' is a file where the {what} '{folder}' should be: move it away, then run "
                      f"`{then}`.")
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KGError(f"Cannot make the {what} '{folder}' ({exc.strerror or exc}).") from None
