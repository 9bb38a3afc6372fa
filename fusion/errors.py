"""The root error of the ``fusion`` package."""


class FusionError(Exception):
    """Anything the fusion layer refuses or cannot do; the message says how to fix it."""
