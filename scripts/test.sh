#!/usr/bin/env bash
# The whole test suite, as CI runs it: unit tests (with the race detector), then the integration
# tests against a real Mattermost server that this script starts, and always stops, itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== unit tests"
go test -race -count=1 ./...

echo "== fuzz targets, a short run each (their seed corpus already ran above)"
# A count of runs, not a duration: with a duration, Go 1.26's fuzz coordinator can report its own
# deadline as a failure ("context deadline exceeded", golang/go#75804) on a loaded machine.
for target in FuzzAPIResponse FuzzNormalizeBaseURL FuzzNormalizeToken; do
	go test ./pkg/mattermost -run '^$' -fuzz "^${target}\$" -fuzztime=30000x
done

echo "== integration tests against a real Mattermost server"
trap 'bash test/localserver/mattermost.sh down' EXIT
bash test/localserver/mattermost.sh up
go test -tags integration -count=1 -timeout 45m -v ./test/integration/
