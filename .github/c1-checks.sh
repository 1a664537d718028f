#!/usr/bin/env bash
# ConductorOne's public connector checks, run on the built binary against the local server
# (test/localserver, already up): from ConductorOne/github-workflows, actions/sync-test
# (grant-revoke.sh for each kind of entitlement, auth-error.sh), actions/account-provisioning
# (the e-mail-only, e-mail + login and e-mail + profile forms) and
# actions/account-status-lifecycle-test (disable_user / enable_user without a resource type).
# Their action.yaml files first download a prebuilt baton (actions/get-baton); this runs their
# scripts with the inputs those files pass, and a baton built from source instead.
#
# usage: .github/c1-checks.sh C1_WORKFLOWS_CHECKOUT CONNECTOR_BINARY BATON_BINARY_DIR
set -euo pipefail
c1=$(cd "$1" && pwd)/actions
connector=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
batondir=$(cd "$3" && pwd)
export PATH="$batondir:$PATH"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v baton >/dev/null || { echo "no baton in $3" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }

# shellcheck disable=SC1091
source "$repo/.localserver/server.env"
export BATON_BASE_URL=$MM_URL BATON_API_TOKEN=$MM_ADMIN_TOKEN
# The scripts sync to ./sync.c1z and read it back with baton.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

api() { # METHOD PATH [JSON]
	curl -fsS -X "$1" -H "Authorization: Bearer $MM_ADMIN_TOKEN" -H 'Content-Type: application/json' \
		${3:+--data "$3"} "$MM_URL/api/v4$2"
}
# Mattermost usernames have at most 22 characters.
suffix=$(($(date +%s) % 100000))$RANDOM
user=$(api POST /users "{\"username\":\"c1check$suffix\",\"email\":\"c1check$suffix@example.com\",\"password\":\"C1-Check-$suffix\"}" | jq -r .id)
team=$(api GET /teams/name/sales | jq -r .id)
channel=$(api GET "/teams/$team/channels/name/deals" | jq -r .id)

step() { printf '\n===== %s\n' "$*"; }

# Team grants first: a channel grant needs the user in the channel's team.
for entitlement in "team:$team:member" "team:$team:admin" "channel:$channel:member" "channel:$channel:admin" \
	role:system_user_access_token:assigned; do
	step "sync-test grant-revoke: $entitlement to user $user"
	BATON_CONNECTOR=$connector BATON_ENTITLEMENT=$entitlement BATON_PRINCIPAL=$user BATON_PRINCIPAL_TYPE=user \
		BATON=baton bash "$c1/sync-test/grant-revoke.sh"
done

step "sync-test auth-error"
BATON_CONNECTOR=$connector bash "$c1/sync-test/auth-error.sh"

for form in email login profile; do
	step "account-provisioning: --create-account-email with $form"
	email="c1acct-$form-$suffix@example.com"
	login='' profile=
	case $form in
	login) login="c1login$suffix" ;;
	profile) profile="{\"email\":\"$email\",\"first_name\":\"Casey\",\"last_name\":\"Check\"}" ;;
	esac
	BATON_CONNECTOR=$connector ACCOUNT_EMAIL=$email ACCOUNT_LOGIN=$login ACCOUNT_DISPLAY_NAME='' ACCOUNT_PROFILE=$profile \
		ACCOUNT_TYPE=user SEARCH_METHOD=email bash "$c1/account-provisioning/account-provisioning.sh"
	# The script passes when it finds the account in a re-sync; make sure it was this run's.
	api GET "/users/email/$email" | jq -e --arg e "$email" '.email == $e' >/dev/null
done

step "account-status-lifecycle-test: disable_user, enable_user for user $user"
BATON_CONNECTOR=$connector CONNECTOR_ACCOUNT_ID_STATUS=$user ENABLE_ACTION_NAME=enable_user \
	DISABLE_ACTION_NAME=disable_user ID_PARAMETER_NAME=user_id TEST_FLOW=disable-enable \
	bash "$c1/account-status-lifecycle-test/account-status-lifecycle-test.sh"

step "all ConductorOne checks passed"
