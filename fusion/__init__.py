"""fusion: graph embeddings and retrieved facts inside a fine-tuned transformer (issue 6, not built yet)."""
from fusion.errors import FusionError

__all__ = ["FusionError"]
