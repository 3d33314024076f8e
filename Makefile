# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser run test bench fuzz lint notebooks train clean

install: $(STAMP)

# torch is installed first and pinned: pip then finds the local CPU wheel instead of a CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser tests drive Debian's Chromium through its ChromeDriver (root, or sudo, installs them).
browser:
	@command -v chromedriver >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -q >/dev/null && \
		  $$SUDO apt-get install -y -q chromium chromium-driver >/dev/null; }; }

# The demo data and accounts (passwords printed on first use), then polling and the web UI.
run: install
	$(BIN)/rufwacht demo
	$(BIN)/rufwacht run

test: install browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -rs

bench: install
	$(BIN)/python -m scripts.bench

# The API against its own OpenAPI spec with many more examples than `make test` tries.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(BIN)/python -m pytest -q tests/test_api_fuzz.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m scripts.notebooks check

# Every notebook headless on a sample (SAMPLE rows per training file, default 200: a few
# minutes, most of it the e5 notebook) against a seeded database, its exported labels and a
# scratch registry in scratch/notebooks, checking what each wrote (tests/test_notebooks.py,
# which `make test` runs too). Committed notebooks must carry no outputs.
SAMPLE ?= 200
notebooks: install
	$(BIN)/python -m scripts.notebooks check
	SAMPLE=$(SAMPLE) NOTEBOOKS_OUT=$(CURDIR)/scratch/notebooks \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_notebooks.py

# Retrains every bundled model from ../shared/data: n-gram (~10 min), e5 (~45 min on 2 cores),
# then re-tunes the ensembles for the new members; then triage on our own posts (~5 min),
# measuring the held-out check set once for its model card.
train: install
	$(BIN)/python -m classifiers.training.train_ngram --task all
	$(BIN)/python -m classifiers.training.train_e5 --epochs 2 --threads 2
	$(BIN)/python -m classifiers.training.tune_ensemble
	$(BIN)/python -m classifiers.training.train_triage \
		--check tests/data/triage_check.jsonl --check tests/data/triage_check_2.jsonl \
		--check tests/data/triage_check_3.jsonl

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache rufwacht.db
