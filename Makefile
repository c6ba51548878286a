# Multi-region payments platform: every workflow starts here. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
OPS := $(PY) -m ops
export TF_CLI_CONFIG_FILE := $(CURDIR)/.local/terraform.rc

STACK ?=
NAME ?=
LOCK_ID ?=
# Unit test processes (pytest-xdist); each has its own synthesized apps, emulators and PostgreSQL databases.
UNIT_WORKERS ?= 2
VERSION ?=
FORCE ?=
FORCE_FLAG := $(if $(FORCE),--force,)
CONFIRM ?=
PYTEST_ARGS ?=
TARGET ?=

.PHONY: help install postgres-binaries lock synth stacks check-config diff deploy deploy-primary deploy-secondary \
        destroy destroy-primary destroy-secondary outputs output bootstrap preflight local-up local-down test test-fast test-unit \
        test-integration lint typecheck format clean bench bench-load drift plan-report unlock state-restore state-status security docs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# `source .venv/bin/activate` also sources $(ACTIVATE_EXTRA): rewritten on each install, hooked into activate once.
ACTIVATE_EXTRA := $(VENV)/bin/payments-env.sh
ACTIVATE_HOOK := . "$$VIRTUAL_ENV/bin/payments-env.sh"  \# payments platform: Terraform config, quiet tooling

install: $(VENV)/.installed node_modules/.installed .local/terraform.rc $(ACTIVATE_EXTRA) ## venv, pinned Python + npm deps, Terraform CLI config (idempotent)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $@

$(ACTIVATE_EXTRA): $(VENV)/.installed ops/core/tool_env.py
	@$(OPS) shell-env > $@
	@sed -i '/^# payments platform: the project Terraform config and quiet tooling$$/,+4d' $(VENV)/bin/activate  # copies appended by older installs
	@grep -qF '$(ACTIVATE_HOOK)' $(VENV)/bin/activate || printf '\n%s\n' '$(ACTIVATE_HOOK)' >> $(VENV)/bin/activate

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.local/terraform.rc: $(VENV)/.installed ops/terraform/cli_config.py
	@$(OPS) tfconfig

LOCK := CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
        --strip-extras --no-emit-index-url --no-emit-find-links

lock: $(VENV)/.installed ## re-pin requirements.txt / requirements-dev.txt (with hashes) from the .in files
	$(LOCK) --output-file requirements.txt requirements.in
	$(LOCK) --output-file requirements-dev.txt requirements-dev.in

check-config: install ## validate the configuration (PAYMENTS_ENV, .env)
	@$(OPS) check-config

synth: install ## synthesize all eight stacks into cdktf.out (skipped when nothing changed)
	@$(OPS) synth

stacks: install ## list stacks and their dependencies
	@$(OPS) stacks

diff: install ## plan one stack: make diff STACK=network-primary [REFRESH=1: plan even if unchanged since its apply]
	@test -n "$(STACK)" || { echo "error: STACK is required, e.g. make diff STACK=network-primary"; exit 2; }
	@$(OPS) diff $(STACK) $(if $(REFRESH),--refresh)

bootstrap: install ## create or converge the state bucket, lock table and per-account, per-region settings (idempotent)
	@$(OPS) bootstrap

preflight: install ## aws target: check credentials, account, quotas, versions, AZs and bucket names (one line each)
	@$(OPS) preflight

deploy-primary: install postgres-binaries ## deploy the primary region's four stacks (aws target: preflight first)
	@$(OPS) deploy primary $(FORCE_FLAG)

deploy-secondary: install postgres-binaries ## deploy the secondary region's four stacks (primary first; aws: preflight first)
	@$(OPS) deploy secondary $(FORCE_FLAG)

deploy: install postgres-binaries ## deploy both regions, primary first (aws target: preflight first)
	@$(OPS) deploy all $(FORCE_FLAG)

destroy-secondary: install ## destroy the secondary region (reverse order); prod needs CONFIRM=prod
	@$(OPS) destroy secondary --confirm "$(CONFIRM)"

destroy-primary: install ## destroy the primary region (after the secondary); prod needs CONFIRM=prod
	@$(OPS) destroy primary --confirm "$(CONFIRM)"

destroy: install ## destroy both regions, secondary first
	@$(OPS) destroy all --confirm "$(CONFIRM)"

unlock: install ## release a stale state lock: make unlock STACK=x LOCK_ID=... (asks; CONFIRM=yes skips)
	@test -n "$(STACK)" -a -n "$(LOCK_ID)" || { echo "error: STACK and LOCK_ID are required, e.g. make unlock STACK=network-primary LOCK_ID=<id from the lock error>"; exit 2; }
	@$(OPS) unlock $(STACK) $(LOCK_ID) --confirm "$(CONFIRM)"

state-restore: install ## list state versions (make state-restore STACK=x) or restore one (VERSION=<id>; asks)
	@test -n "$(STACK)" || { echo "error: STACK is required, e.g. make state-restore STACK=network-primary"; exit 2; }
	@if [ -z "$(VERSION)" ]; then $(OPS) state-versions $(STACK); else $(OPS) state-restore $(STACK) $(VERSION) --confirm "$(CONFIRM)"; fi

state-status: install ## each stack's state serial in both homes (primary, replica) and the journal's; the home in use
	@$(OPS) state-status

drift: install ## refresh-only plans of every deployed stack, concurrently; exit 2 and a table on drift
	@$(OPS) drift

plan-report: install ## plan every stack without the state lock; write plan-report.md/.json to REPORT_DIR (default .)
	@$(OPS) plan-report --out $(or $(REPORT_DIR),.)

outputs: install ## write outputs/<env>.json (mode 0600) from every deployed stack and print it; sensitive ones masked
	@$(OPS) outputs

output: install ## print one output's value, sensitive ones too: make output STACK=compute-primary NAME=api_endpoint
	@test -n "$(STACK)" -a -n "$(NAME)" || { echo "error: STACK and NAME are required, e.g. make output STACK=compute-primary NAME=api_endpoint"; exit 2; }
	@$(OPS) output $(STACK) $(NAME)

# The local target's databases are PostgreSQL 15 (ops/local/postgres.py). Missing binaries are installed from the
# Debian package when this runs as root with apt-get; otherwise the command names the package and stops. Nothing
# happens for the aws target (or a configuration ops will refuse with its own message).
PG_FOUND := $(PY) -c "from ops.local.postgres import bindir; bindir()" 2>/dev/null
postgres-binaries: install
	@$(PY) -c "from config import load_settings; assert load_settings().is_local" 2>/dev/null || exit 0; \
	$(PG_FOUND) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing postgresql-15 (the local target's stand-in for Aurora)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q postgresql-15 >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q postgresql-15 >/dev/null; }; \
	  fi; \
	  $(PG_FOUND) || { $(PY) -c "from ops.local.postgres import INSTALL_HINT; print('error: ' + INSTALL_HINT)"; exit 1; }; }

local-up: install postgres-binaries ## start the local emulator (moto), its table replication and PostgreSQL (writer + hot standby) on 127.0.0.1; bootstrap remote state
	@$(OPS) local-up

local-down: install ## stop the emulator, the table replication and PostgreSQL started by local-up (all their data is lost)
	@$(OPS) local-down

# pytest exits 5 when it selected no test: a lane that runs nothing fails, unless PYTEST_ARGS narrowed it on purpose.
define pytest_lane
	@$(PY) -m pytest -m "$(2)" $(3) $(PYTEST_ARGS); code=$$?; \
	if [ $$code -eq 5 ]; then $(if $(PYTEST_ARGS),echo "note: no $(1) test matches PYTEST_ARGS"; exit 0,\
	echo "error: the $(1) lane selected no tests (pytest exit 5)"; exit 1); fi; \
	exit $$code
endef

test: test-fast test-integration ## all tests: the fast lane, then the integration lane

test-fast: lint security test-unit ## fast lane: lint (incl. types), checkov, unit tests, terraform validate

test-unit: install postgres-binaries ## unit tests and terraform validate (no emulator)
	$(call pytest_lane,unit,not integration,-n $(UNIT_WORKERS))

test-integration: install postgres-binaries ## integration tests only (deploys to a private emulator)
	$(call pytest_lane,integration,integration,--durations=20)

.venv-security/.installed: requirements-security.txt
	@test -x .venv-security/bin/python || $(PYTHON) -m venv .venv-security
	.venv-security/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-security.txt
	@touch $@

security: install .venv-security/.installed ## checkov over every stack (offline); fails on any check not skipped in code
	@$(OPS) security

lint: install typecheck ## ruff, mypy, the import layers (import-linter contracts in pyproject.toml), actionlint and zizmor over .github/workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/actionlint .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --persona=auditor --no-progress .github/workflows

typecheck: install ## mypy (strict for ops, config, shared, stacks; see [tool.mypy] in pyproject.toml)
	$(VENV)/bin/mypy

format: install ## apply ruff formatting and fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The delivery pipeline (ops/pipeline/, docs/pipeline.md): GitHub Actions workflows generated from the stack graph.
.PHONY: workflows

workflows: install ## write .github/workflows/ and docs/pipeline.md's job graph from the stack graph (commit them)
	@$(OPS) workflows

docs: install ## rewrite the tables in README.md and docs/ that come from code (gaps, targets, settings, graph)
	@$(OPS) docs

clean: ## remove generated output (not the venv or node_modules)
	rm -rf cdktf.out outputs .pytest_cache .ruff_cache .mypy_cache

bench: install ## performance figures vs stock cdktf (private emulators; BENCH_ARGS="--only synth,diff")
	$(PY) -m bench.run $(BENCH_ARGS)

bench-load: install ## 1,000 concurrent payments through the handler, then checks of what was written (LOAD_ARGS="--reuse"; TARGET=http: over HTTP to the server)
	$(PY) -m bench.load $(if $(TARGET),--target $(TARGET)) $(LOAD_ARGS)

# Traffic, failover and per-stack rollback (see ops/traffic/rollout.py, ops/traffic/failover.py, ops/deploy/rollback.py).
TO ?=
STEPS ?=
BAKE ?=
HOLD ?=
RELEASE ?=
UNPLANNED ?=
.PHONY: rollout rollout-status rollout-abort failover failback drill rejoin write-home runbook releases rollback

rollout: install ## staged traffic shift: make rollout TO=secondary STEPS=10,25,50,100 BAKE=300 (ENGINE=local|stepfunctions; HOLD=yes: stop at a last step below 100)
	@$(OPS) rollout --to "$(TO)" --steps "$(STEPS)" --bake "$(BAKE)" --hold "$(HOLD)" --engine "$(ENGINE)"

rollout-status: install ## follow the running rollout execution (Step Functions) or show the last one; Ctrl-C detaches
	@$(OPS) rollout-status

rollout-abort: install ## stop the running rollout execution and revert to its last good split (asks; CONFIRM=yes skips)
	@$(OPS) rollout-abort --confirm "$(CONFIRM)"

failover: install ## Aurora switchover + all traffic to the secondary (BAKE=60; UNPLANNED=yes: the primary region is lost, nothing calls it, may lose data)
	@$(OPS) failover --bake "$(BAKE)" --unplanned "$(UNPLANNED)"

failback: install ## the way back: Aurora switchover + all traffic to the primary (BAKE, UNPLANNED as for failover)
	@$(OPS) failback --bake "$(BAKE)" --unplanned "$(UNPLANNED)"

drill: install ## lose the primary region on a private deployment and recover: RTO, RPO, duplicates (MODE=refuse|timeout|503, BAKE=10)
	@$(OPS) drill --private --mode "$(or $(MODE),refuse)" --bake "$(BAKE)"

rejoin: install ## after an unplanned failover, once the lost region answers: its database, write home and DNS follow the survivor
	@$(OPS) rejoin

write-home: install ## each region's view of the write home, the one region taking payments (exit 1: none agreed)
	@$(OPS) write-home

runbook: install ## the migration runbook (markdown): checklist with live values, the four phases, rollback, failover
	@$(OPS) runbook

releases: install ## list a stack's recorded releases: make releases STACK=compute-primary
	@test -n "$(STACK)" || { echo "error: STACK is required, e.g. make releases STACK=compute-primary"; exit 2; }
	@$(OPS) releases $(STACK)

rollback: install ## re-apply a stack's previous release: make rollback STACK=compute-primary [RELEASE=n] [CONFIRM=yes]
	@test -n "$(STACK)" || { echo "error: STACK is required, e.g. make rollback STACK=compute-primary"; exit 2; }
	@$(OPS) rollback $(STACK) --release "$(RELEASE)" --confirm "$(CONFIRM)"

# The ledger of record (Aurora PostgreSQL; two local PostgreSQL instances on the local target): ops/ledger/.
.PHONY: db-migrate db-status reconcile

db-migrate: install ## apply the ledger's SQL migrations on the writer (idempotent; `make deploy` runs them too)
	@$(OPS) db-migrate

db-status: install ## per region: which database is the writer, which the standby, replication lag, last migration
	@$(OPS) db-status

reconcile: install ## payments in DynamoDB == ledger == audit objects == events, per region; exit 2 and a table if not
	@$(OPS) reconcile

# Region outages on this machine (local target, local.fault_injection = true): ops/local/outage.py, docs/drill.md.
ROLE ?=
MODE ?=
.PHONY: outage outage-clear outage-status

outage: install ## fail a region on the local target: make outage ROLE=primary MODE=refuse|timeout|503 (needs PAYMENTS_LOCAL_FAULT_INJECTION=true)
	@$(OPS) outage --region "$(ROLE)" --mode "$(MODE)"

outage-clear: install ## lift the outage: the region answers again, its PostgreSQL starts again
	@$(OPS) outage --clear

outage-status: install ## the outage in force, the requests it failed per region/service, each PostgreSQL instance
	@$(OPS) outage --status

# The client (ops/client/, docs/client.md): payments sent to api.<zone> the way a customer's client reaches them.
N ?= 20
.PHONY: smoke

smoke: install ## N payments through the client (make smoke N=20): region per payment, totals, duplicates; exit 1 on any non-201
	@$(OPS) smoke --count "$(N)"

# The API keys of the payment routes (one secret, replicated; ops/keys/): docs/security.md#api-keys.
RETIRE ?=
.PHONY: rotate-api-key

rotate-api-key: install ## add an API key and make it current, old key kept (RETIRE=yes: drop the previous key)
	@test -z "$(RETIRE)" -o "$(RETIRE)" = yes || { echo "error: RETIRE must be yes or empty, e.g. make rotate-api-key RETIRE=yes"; exit 2; }
	@$(OPS) rotate-api-key $(if $(RETIRE),--retire,)
