"""The root error of the ``kg`` package."""


class KGError(Exception):
    """Anything the graph layer refuses or cannot do; the message says how to fix it."""
