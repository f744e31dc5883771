# InfoCenter KB — the two commands of the README:
#   make serve   set up everything, build the demo knowledge base, serve it on http://127.0.0.1:8000
#   make test    set up everything, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
SITE   ?= site
# the demo shows 下载 PDF on every page that has one (KB_PDF=1: WeasyPrint, cached in .cache/kb-pdf;
# a cold run takes a minute or two); `make serve PDF=0` builds without PDFs
PDF    ?= 1
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup serve build test bench clean

# Python packages in a virtual environment, Debian packages when missing.
$(VENV)/.installed: pyproject.toml scripts/system-deps.sh
	./scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

build: setup
	KB_PDF=$(PDF) $(BIN)/mkdocs build --strict -d $(SITE)

serve: build
	$(BIN)/kb serve $(SITE) --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(SITE) .pytest_cache
