# Local Mattermost server harness (test/localserver/README.md).
# Included by the main Makefile:  include test/localserver/localserver.mk
# Settings come from the environment: MM_STATE_DIR, MM_PORT, MM_PG_PORT, MM_<SECTION>_<FIELD>.

LOCALSERVER_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
MATTERMOST_SH := bash $(LOCALSERVER_DIR)/mattermost.sh

.PHONY: mattermost-build mattermost-up mattermost-down mattermost-status mattermost-restart-server

mattermost-build: ## Build (or reuse the cached) Mattermost server binary
	$(MATTERMOST_SH) build

mattermost-up: ## Fresh PostgreSQL + Mattermost on 127.0.0.1, seeded; writes .localserver/server.env
	$(MATTERMOST_SH) up

mattermost-down: ## Stop Mattermost and PostgreSQL
	$(MATTERMOST_SH) down

mattermost-status: ## Show whether the local server runs
	$(MATTERMOST_SH) status

mattermost-restart-server: ## Restart only Mattermost (same DB), with the caller's MM_* settings
	$(MATTERMOST_SH) restart-server
