"""nlp: documents in, linked mentions and facts with provenance out; graph QA. Imports only from kg."""
from nlp.errors import NLPError

__all__ = ["NLPError"]
