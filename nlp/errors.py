"""The root error of the ``nlp`` package."""


class NLPError(Exception):
    """Anything the language layer refuses or cannot do; the message says how to fix it."""
