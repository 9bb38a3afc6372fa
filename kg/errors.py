"""The root error of the ``kg`` package."""


class KGError(Exception):
    """Anything the graph layer refuses or cannot do; the message says how to fix it."""


def not_utf8(path: object, exc: UnicodeDecodeError) -> str:
    """The one-line message for a file that is not UTF-8 text."""
    return f"{path}: not UTF-8 text (bad byte at offset {exc.start}). Convert it to UTF-8."


def is_unicode(text: str) -> bool:
    """False for text holding lone surrogates: bytes that were not UTF-8 (a file name, an argument) or a "\\udxxx"
    escape, which no store, file or terminal can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def not_a_source(source: str) -> str:
    """The one-line message for replacing the facts of a source that is a stored document."""
    return f"'{source}' is a stored document, not a seed source; `kgnlp remove {source}` removes a document."


def not_a_file(path: object) -> str:
    """The one-line message for a path to read that is not a file: a folder, or nothing."""
    from pathlib import Path

    return f"'{path}' is a folder, not a file." if Path(str(path)).is_dir() else f"File '{path}' does not exist."
