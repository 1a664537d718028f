#!/usr/bin/env bash
# The newcomer's first command: bring up a real local Mattermost server with a sample
# organisation, sync it with baton-mattermost, and print what was synced.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
t0=$SECONDS

bash test/localserver/mattermost.sh up
# shellcheck disable=SC1091
source .localserver/server.env

# shellcheck source=scripts/progress.sh
source scripts/progress.sh
echo "== building baton-mattermost and its c1z summary tool (cold Go caches: ~3-4 min, most of it downloading modules)"
go_build_with_progress baton-mattermost dist/demo-build dist/baton-mattermost ./cmd/baton-mattermost
go_build_with_progress c1zsummary dist/demo-build dist/c1zsummary ./tools/c1zsummary
out=$PWD/dist/demo.c1z
rm -f "$out"
echo "== baton-mattermost --base-url $MM_URL -f $out (token from BATON_API_TOKEN)"
BATON_API_TOKEN=$MM_ADMIN_TOKEN ./dist/baton-mattermost --base-url "$MM_URL" --sync-public-channels -f "$out" --log-level warn

echo
echo "== What was synced"
./dist/c1zsummary "$out"
cat <<MSG

The c1z is $out. Explore it with:
  go tool baton resources -f $out
  go tool baton grants -f $out
  go tool baton entitlements -f $out
  go tool baton stats -f $out
(make demo took $((SECONDS - t0))s.) The server keeps running at $MM_URL (tokens in .localserver/server.env); stop it with: make mattermost-down
MSG
