#!/usr/bin/env bash
# The newcomer's first command: bring up a real local Mattermost server with a sample
# organisation, sync it with baton-mattermost, and print what was synced.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash test/localserver/mattermost.sh up
# shellcheck disable=SC1091
source .localserver/server.env

mkdir -p dist
go build -o dist/baton-mattermost ./cmd/baton-mattermost
out=$PWD/dist/demo.c1z
rm -f "$out"
echo "== baton-mattermost --base-url $MM_URL -f $out (token from BATON_API_TOKEN)"
BATON_API_TOKEN=$MM_ADMIN_TOKEN ./dist/baton-mattermost --base-url "$MM_URL" --sync-public-channels -f "$out" --log-level warn

echo
echo "== What was synced"
go run ./tools/c1zsummary "$out"
cat <<MSG

The c1z is $out. Explore it with:
  go tool baton resources -f $out
  go tool baton grants -f $out
  go tool baton entitlements -f $out
  go tool baton stats -f $out
The server keeps running at $MM_URL (tokens in .localserver/server.env); stop it with: make mattermost-down
MSG
