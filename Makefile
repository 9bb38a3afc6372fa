# kgnlp: the two commands of the README.
#   make demo   create .venv, install (torch 2.13.0 CPU first), run `kgnlp demo` on the sample data
#   make test   same install plus test tools, start the Bolt test server, run pytest (one worker per core,
#               pytest-xdist, at most 4: each loads torch and spaCy), stop the server
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: install install-test demo test bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[embeddings]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[embeddings,test]'
	bash .ci/arcadedb.sh install
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/kgnlp demo --workspace kgnlp-workspace --out kgnlp-graph.html

test: install-test
	bash .ci/arcadedb.sh start
	$(BIN)/python -m pytest -n auto --maxprocesses 4; status=$$?; bash .ci/arcadedb.sh stop; exit $$status

# the benchmark scripts (extraction_train/_gpu/_report and hetionet_data are their helpers)
BENCHMARKS = sample_data qa pubmedqa_ask stores extraction cnn_grid vote_select ingest_cli embeddings retrieval fusion ner_cli pubmedqa_graph_reach fusion_speed train_precision fpb_neighbours store_writes lookup drug_names

bench-quick: install
	for b in $(BENCHMARKS); do $(BIN)/python benchmarks/$$b.py --quick || exit 1; done

clean:
	rm -rf $(VENV) kgnlp-workspace kgnlp-graph.html .pytest_cache
