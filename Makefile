# smelt: the README's commands. Everything installs from requirements.lock (the one pinned, hashed lock).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export DO_NOT_TRACK := 1


.PHONY: help install demo run check test lint lock clean tools images cluster-up cluster-down screenshots

help:
	@echo "make demo   run the whole pipeline on embedded defaults (simulator, local lake, DuckDB), then serve the dashboard"
	@echo "make run    the pipeline alone, non-interactive"
	@echo "make check  lint, then the tests that need no Go tool, browser, control plane or container (under 3 min)"
	@echo "make test   every suite; the tools and images build meanwhile (cold: 22-41 min, then cached outside the tree)"
	@echo "make lint   ruff, and mypy on workflows/"
	@echo "make lock   re-pin requirements.lock from pyproject.toml"
	@echo "make tools  build-or-reuse helm, kubeconform, argo and the local control plane (cached in SMELT_TOOLS_DIR)"
	@echo "make images build the images with buildah (no Docker engine; base made from Debian packages if absent)"
	@echo "make cluster-up / cluster-down   a real kube-apiserver + Argo controller + kwok node on 127.0.0.1"
	@echo "SMELT_NODE=real make cluster-up / cluster-down   the same with a real node (containerd + kubelet +"
	@echo "           controller-manager, pods really run, hostNetwork on loopback; needs root and Debian's containerd)"
	@echo "make screenshots   a PNG of each dashboard page into docs/screenshots/ (Debian's chromium)"

# The stamp makes install a no-op until the lock or the project metadata change. uv itself comes from the
# lock too (its block, hashes included), so every byte installed is pinned and verified.
$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "smelt needs Python 3.11+; $(PYTHON) is $$($(PYTHON) --version 2>&1)" >&2; exit 1; }
	@started=$$(date +%s); \
	echo "install: creating $(VENV) from requirements.lock (pinned, hashed; bytecode compiled once here)"; \
	{ test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
	  { echo "cannot create $(VENV): install the venv module (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }; } && \
	awk '/^uv==/{p=1} p{print; if ($$0 !~ /\\$$/) exit}' requirements.lock > $(VENV)/uv.requirements && \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(VENV)/uv.requirements && \
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes requirements.lock && \
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --no-deps -e . && \
	echo "install: done in $$(( $$(date +%s) - started ))s"
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/smelt run

demo: install
	$(BIN)/smelt run
	$(BIN)/smelt summary
	$(BIN)/smelt dashboard

# Every suite; the tools and images build in the background meanwhile (warm: no-ops) and the tests that need
# them run last, waiting for their build (scripts/test.sh). They fail, never skip, when a build fails.
test: install
	PYTHON=$(BIN)/python scripts/test.sh

# The fast lane while working: the tests are selected by their marks (pyproject.toml), and tests/marks.py
# fails a test that uses a Go tool, Chromium, the control plane or containers without its mark.
FAST_LANE := not (slow or tools or browser or cluster or images)
check: lint
	$(BIN)/python -m pytest -m "$(FAST_LANE)"

lint: install
	$(BIN)/ruff check workflows dashboard tests bench
	$(BIN)/ruff format --check workflows dashboard tests bench
	$(BIN)/mypy

# One lock pins everything (all extras + dev tools); each image installs a runtime-only export of it,
# compiled with the lock as constraints so every pin is the lock's own (tests/foundation checks it).
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --generate-hashes --quiet
lock: install
	$(UV_COMPILE) --all-extras -o requirements.lock
	$(UV_COMPILE) --extra sim --extra duckdb --extra snowflake -c requirements.lock -o requirements-pipeline.lock
	$(UV_COMPILE) --extra dashboard --extra snowflake -c requirements.lock -o requirements-dashboard.lock
	$(BIN)/uv pip compile images/s3/requirements.in --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --generate-hashes --quiet -c requirements.lock -o requirements-s3.lock

screenshots: install
	$(BIN)/python -m bench.dashboard_screenshots --out docs/screenshots

clean:
	rm -rf .smelt dbt/target dbt/logs .pytest_cache .mypy_cache .ruff_cache

# Tools the tests and the local control plane use, built from the Go module proxy and Debian packages into
# ${SMELT_TOOLS_DIR:-~/.cache/smelt/tools} (outside the work tree). Cold: 22-41 min on 2 cores; warm: a no-op.
# `make tools TOOLSET=offline` builds only helm, kubeconform and argo; `all` includes the real node's tools
# (TOOLSET=node: kubelet, kube-controller-manager, argoexec, the node's controller, pause).
TOOLSET ?= all
tools:
	scripts/tools/install.sh $(TOOLSET)

# Both Dockerfiles with buildah, no Docker engine (apt-get install buildah mmdebstrap); cached in
# ${SMELT_IMAGES_DIR:-~/.cache/smelt/images}. SMELT_CONTAINERD_SOCK=... also imports them into that containerd.
images:
	scripts/images/build.sh

# SMELT_NODE=real: the real node (scripts/cluster/node/), beside the kwok control plane if that runs too.
SMELT_NODE ?= kwok
cluster-up:
	scripts/tools/install.sh cluster $(if $(filter real,$(SMELT_NODE)),node)
	SMELT_NODE=$(SMELT_NODE) scripts/cluster/up.sh

cluster-down:
	SMELT_NODE=$(SMELT_NODE) scripts/cluster/down.sh
