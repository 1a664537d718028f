GOOS ?= $(shell go env GOOS)
GOARCH ?= $(shell go env GOARCH)
BUILD_DIR = dist/$(GOOS)_$(GOARCH)
BINARY = $(BUILD_DIR)/baton-mattermost
GENERATED_CONF := pkg/config/conf.gen.go
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(shell go env GOPATH)/bin/golangci-lint
# Release tools, built from source at exact versions, each in its own directory
# so that another version on PATH is never used by mistake.
TOOLS := $(shell go env GOPATH)/tools
ACTIONLINT_VERSION := v1.7.7
ACTIONLINT := $(TOOLS)/actionlint-$(ACTIONLINT_VERSION)/actionlint
GORELEASER_VERSION := v2.12.0
GORELEASER := $(TOOLS)/goreleaser-$(GORELEASER_VERSION)/goreleaser
# The version `baton-mattermost --version` shows (goreleaser stamps release builds the same way).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build build-lambda generate test test-unit test-integration lint metadata check-metadata release-check release release-images demo bench run clean

build: $(GENERATED_CONF)
	go build -ldflags "$(LDFLAGS)" -o $(BINARY) ./cmd/baton-mattermost

# The AWS Lambda build (Dockerfile.lambda runs its `lambda` command).
build-lambda: $(GENERATED_CONF)
	go build -tags baton_lambda_support -ldflags "$(LDFLAGS)" -o $(BINARY)-lambda ./cmd/baton-mattermost

$(GENERATED_CONF): pkg/config/config.go go.mod
	go generate ./pkg/config

generate: $(GENERATED_CONF) metadata

# The whole suite, as CI runs it: unit tests, then integration tests against a real local
# Mattermost server that it builds, starts and stops.
test:
	bash scripts/test.sh

# Unit tests only (fakes; no server needed).
test-unit:
	go test -race ./...

# Integration tests only, against a server already started with `make mattermost-up`.
test-integration:
	go test -tags integration -count=1 -timeout 45m ./test/integration/

lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run --allow-parallel-runners --build-tags integration ./...

$(GOLANGCI_LINT):
	GOFLAGS= go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# baton_capabilities.json and config_schema.json are generated from the binary.
metadata: build
	$(BINARY) capabilities > baton_capabilities.json
	$(BINARY) config > config_schema.json

# Fails when the committed metadata differs from what the code generates.
check-metadata: build
	@$(BINARY) capabilities | diff -u baton_capabilities.json - || (echo "baton_capabilities.json is stale: run make metadata"; exit 1)
	@$(BINARY) config | diff -u config_schema.json - || (echo "config_schema.json is stale: run make metadata"; exit 1)

# What can be checked of the release without publishing: the Lambda build runs its
# `lambda --help`, the workflows pass actionlint, the goreleaser files pass goreleaser check.
release-check: build-lambda $(ACTIONLINT) $(GORELEASER)
	$(BINARY)-lambda lambda --help
	$(ACTIONLINT) -color=false
	$(GORELEASER) check --config .goreleaser.yaml
	$(GORELEASER) check --config .goreleaser.docker.yaml

# Publishing, from the release workflow (a v* tag, GITHUB_TOKEN; images: IMAGE_REPO and a
# docker login). goreleaser writes to dist/release*, which --clean empties first.
release: $(GORELEASER)
	$(GORELEASER) release --clean --config .goreleaser.yaml

release-images: $(GORELEASER)
	$(GORELEASER) release --clean --config .goreleaser.docker.yaml

$(ACTIONLINT):
	GOFLAGS= GOBIN=$(dir $@) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(GORELEASER):
	GOFLAGS= GOBIN=$(dir $@) go install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

# The newcomer's first command: a real local server with sample data, synced and summarised.
demo:
	bash scripts/demo.sh

# Benchmark against a large local server (needs jq; see test/bench/bench.sh for its settings).
bench:
	bash test/bench/bench.sh

run: build
	$(BINARY) -f sync.c1z

clean:
	rm -rf dist

include test/localserver/localserver.mk
