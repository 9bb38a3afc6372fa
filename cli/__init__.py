"""cli: the ``kgnlp`` command. Parsing, wiring and printing only; the logic lives in kg/nlp/fusion."""
