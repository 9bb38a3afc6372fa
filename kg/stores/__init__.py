"""Graph store backends: ``embedded`` (SQLite), ``rdf`` (rdflib) and ``neo4j`` (Bolt)."""
