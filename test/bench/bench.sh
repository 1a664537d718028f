#!/usr/bin/env bash
# Benchmark of a full baton-mattermost sync against a large, real Mattermost server
# (make bench; see docs/benchmarks.md).
#
# For each data shape and size it starts a fresh local server
# (test/localserver/mattermost.sh up), bulk-loads users, teams, memberships and
# private channels into its PostgreSQL (test/bench/load), restarts the server and
# checks through the API that it serves them. Then, on the same data, for each
# pass (the default configuration, then --skip-last-login), BENCH_PAIRS pairs of
# runs, alternating which side goes first:
#   - the reference fetcher (test/bench/reference: only the pages a sync needs,
#     fetched one at a time and decoded, nothing kept; without the /reports/users
#     pages in the skip-last-login pass), and
#   - a full baton-mattermost sync to a c1z,
# each run under test/bench/measure (wall time, CPU, peak RSS and Pss of the whole
# process tree). Pair 1 of each pass goes through a counting proxy
# (test/bench/countproxy): the requests, bytes, duplicate requests and per-user
# calls of each side. It prints a markdown table of medians and per-pair ratios
# and writes every raw result to BENCH_OUT/<shape>/<users>/<pass>/.
#
# Settings (environment):
#   BENCH_SIZES        user counts, default "10000 50000 100000"
#   BENCH_SHAPES       data shapes, default "zipf"; any of (n = users):
#                        zipf          n/100 teams, Zipf sizes (1/rank), ~4 teams a user,
#                                      n/500 private channels of ~20 members
#                        skewed        n/100 teams, 3.57 teams a user, the largest team
#                                      22% of the users (11,000 at 50k), no private channels
#                        manyteams     n/20 teams, 2 teams a user, 5 private channels
#                        manychannels  n/100 teams, ~4 teams a user, n/10 private channels
#                                      of ~10 members
#                      every shape: 2% of users deactivated, 2 public channels a team
#   BENCH_PASSES       default "default skip-last-login"; "default" alone for a quick run
#   BENCH_PAIRS        timed pairs per pass, default 3
#   BENCH_OUT          results directory, default <repo>/dist/bench/results
#   BENCH_CONNECTOR    connector binary to measure, default: built from this checkout
#   BENCH_SYNC_ARGS    extra sync flags for every pass, e.g. "--storage-engine pebble"
#   BENCH_KEEP_SERVER  1: leave the server of the last size running
#   MM_STATE_DIR, MM_PORT, MM_PG_PORT: the local server's (see test/localserver/README.md);
#                      its database is replaced, as by `mattermost.sh up`.
# A quick look: BENCH_SIZES=10000 BENCH_PAIRS=1 BENCH_PASSES=default make bench
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SIZES=${BENCH_SIZES:-"10000 50000 100000"}
SHAPES=${BENCH_SHAPES:-zipf}
PASSES=${BENCH_PASSES:-"default skip-last-login"}
PAIRS=${BENCH_PAIRS:-3}
OUT=${BENCH_OUT:-$REPO/dist/bench/results}
BIN=$REPO/dist/bench/bin
export MM_STATE_DIR=${MM_STATE_DIR:-$REPO/.localserver}
MMSH=$REPO/test/localserver/mattermost.sh
read -r -a EXTRA_ARGS <<<"${BENCH_SYNC_ARGS:-}"

say() { printf '[bench] %s\n' "$*" >&2; }
die() {
	printf '[bench] ERROR: %s\n' "$*" >&2
	exit 1
}

PROXY_PID=
cleanup() {
	if [[ -n $PROXY_PID ]]; then kill "$PROXY_PID" 2>/dev/null || true; fi
	if [[ ${BENCH_KEEP_SERVER:-} != 1 ]]; then bash "$MMSH" down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

command -v jq >/dev/null || die "jq is required"
PSQL=$(command -v psql || printf '%s\n' /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)
[[ $PAIRS =~ ^[1-9][0-9]*$ ]] || die "BENCH_PAIRS must be a positive number, got '$PAIRS'"
for pass in $PASSES; do
	[[ $pass == default || $pass == skip-last-login ]] || die "BENCH_PASSES: unknown pass '$pass' (default, skip-last-login)"
done

# shape_flags SHAPE USERS: the loader's flags for a data shape.
shape_flags() {
	local n=$2
	case $1 in
	zipf) echo "-teams $((n / 100)) -memberships-per-user 4 -private-channels $((n / 500)) -channel-members 20" ;;
	skewed) echo "-teams $((n / 100)) -memberships-per-user 3.57 -largest $((n * 22 / 100)) -private-channels 0" ;;
	manyteams) echo "-teams $((n / 20)) -memberships-per-user 2 -private-channels 5 -channel-members 20" ;;
	manychannels) echo "-teams $((n / 100)) -memberships-per-user 4 -private-channels $((n / 10)) -channel-members 10" ;;
	*) return 1 ;;
	esac
}
for shape in $SHAPES; do
	shape_flags "$shape" 1000 >/dev/null || die "BENCH_SHAPES: unknown shape '$shape' (zipf, skewed, manyteams, manychannels)"
done

mkdir -p "$OUT" "$BIN"
say "building the tools and the connector into $BIN"
(cd "$REPO" && for tool in load reference measure countproxy; do go build -o "$BIN/$tool" "./test/bench/$tool"; done)
CONNECTOR=${BENCH_CONNECTOR:-$BIN/baton-mattermost}
if [[ -z ${BENCH_CONNECTOR:-} ]]; then (cd "$REPO" && go build -o "$CONNECTOR" ./cmd/baton-mattermost); fi

# api GET-PATH: one admin API call.
api() { curl -fsS -H "Authorization: Bearer $MM_ADMIN_TOKEN" "$MM_URL/api/v4$1"; }

# private_channel_count: the server's live private channels, all teams.
private_channel_count() {
	curl -fsS -X POST -H "Authorization: Bearer $MM_ADMIN_TOKEN" "$MM_URL/api/v4/channels/search" \
		-d '{"term":"","private":true,"page":0,"per_page":1}' | jq .total_count
}

median() { jq -s 'sort | if length == 0 then null else .[(length - 1) / 2 | floor] end'; }

# run_reference URL LASTLOGIN RESULT: the reference fetcher under measure.
run_reference() {
	MM_API_TOKEN=$MM_ADMIN_TOKEN "$BIN/measure" -o "$3.measure.json" -- \
		"$BIN/reference" -url "$1" -last-login="$2" >"$3.json"
}

# run_sync URL RESULT: a full sync to a fresh c1z under measure, with SYNC_ARGS.
run_sync() {
	local c1z=$WORK/sync.c1z
	rm -f "$c1z"
	BATON_API_TOKEN=$MM_ADMIN_TOKEN "$BIN/measure" -timeline "$2.timeline.tsv" -o "$2.measure.json" -- \
		"$CONNECTOR" --base-url "$1" -f "$c1z" "${SYNC_ARGS[@]}" >"$2.log" 2>&1 ||
		die "sync failed (log: $2.log)"
	[[ -s $c1z ]] || die "sync wrote no c1z (log: $2.log)"
	stat -c %s "$c1z" >"$2.c1z-bytes"
}

bench_size() {
	local shape=$1 users=$2 dir=$OUT/$1/$2
	rm -rf "$dir"
	mkdir -p "$dir"
	WORK=$(mktemp -d)

	say "== $shape, $users users: fresh server"
	bash "$MMSH" up >"$dir/up.log" 2>&1 || die "server start failed ($dir/up.log)"
	# shellcheck disable=SC1091
	source "$MM_STATE_DIR/server.env"
	local users0 teams0 channels0
	users0=$(api /users/stats | jq .total_users_count)
	teams0=$(api '/teams?include_total_count=true&per_page=1' | jq .total_count)
	channels0=$(private_channel_count)

	local flags
	flags=$(shape_flags "$shape" "$users")
	say "loading $users users into PostgreSQL ($flags)"
	local t0=$SECONDS
	# shellcheck disable=SC2086 # the flags are words
	"$BIN/load" -users "$users" $flags -summary "$dir/load.json" 2>"$dir/load.log" |
		"$PSQL" -q -v ON_ERROR_STOP=1 "$MM_PG_DSN" >>"$dir/load.log" 2>&1 || die "load failed ($dir/load.log)"
	echo $((SECONDS - t0)) >"$dir/load-seconds"
	bash "$MMSH" restart-server >>"$dir/up.log" 2>&1 || die "server restart failed ($dir/up.log)"
	say "loaded in $(cat "$dir/load-seconds")s; checking what the server serves"
	verify "$dir/load.json" "$users0" "$teams0" "$channels0" | tee "$dir/verify.txt" >&2

	local pass
	for pass in $PASSES; do
		bench_pass "$dir/$pass" "$pass"
		summarize "$dir/$pass" "$shape" "$pass" "$dir/load.json" >"$dir/$pass/summary.json"
		summaries+=("$dir/$pass/summary.json")
	done
	rm -rf "$WORK"
}

# bench_pass DIR PASS: the pairs of one pass on the loaded server.
bench_pass() {
	local dir=$1 pass=$2 lastlogin
	mkdir -p "$dir"
	SYNC_ARGS=("${EXTRA_ARGS[@]}")
	[[ $pass == skip-last-login ]] && SYNC_ARGS+=(--skip-last-login)

	# Pair 1 goes through the counting proxy (the proxy is a local hop, well
	# under 1 ms a request, and both sides of the pair pay it). The sync goes
	# first, so that the reference reads last logins exactly when the sync did.
	"$BIN/countproxy" -upstream "$MM_URL" -addr-file "$WORK/proxy.addr" 2>"$dir/countproxy.log" &
	PROXY_PID=$!
	for _ in $(seq 50); do [[ -s $WORK/proxy.addr ]] && break; sleep 0.1; done
	local proxy
	proxy=$(cat "$WORK/proxy.addr")
	rm -f "$WORK/proxy.addr"
	say "$pass: pair 1/$PAIRS (counted)"
	run_sync "$proxy" "$dir/sync-1"
	curl -fsS "$proxy/_count/report" >"$dir/counted-sync.count.json"
	curl -fsS -X POST "$proxy/_count/reset"
	lastlogin=false
	if jq -e '.by_kind["GET /api/v4/reports/users"] // 0 > 0' "$dir/counted-sync.count.json" >/dev/null; then lastlogin=true; fi
	echo "$lastlogin" >"$dir/last-login"
	run_reference "$proxy" "$lastlogin" "$dir/reference-1"
	curl -fsS "$proxy/_count/report" >"$dir/counted-reference.count.json"
	kill "$PROXY_PID" && wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
	say "  sync $(jq .seconds "$dir/sync-1.measure.json")s, reference $(jq .seconds "$dir/reference-1.measure.json")s"

	local i
	for ((i = 2; i <= PAIRS; i++)); do
		say "$pass: pair $i/$PAIRS"
		if ((i % 2)); then
			run_sync "$MM_URL" "$dir/sync-$i"
			run_reference "$MM_URL" "$lastlogin" "$dir/reference-$i"
		else
			run_reference "$MM_URL" "$lastlogin" "$dir/reference-$i"
			run_sync "$MM_URL" "$dir/sync-$i"
		fi
		say "  reference $(jq .seconds "$dir/reference-$i.measure.json")s, sync $(jq .seconds "$dir/sync-$i.measure.json")s"
	done
}

# verify LOAD-SUMMARY USERS-BEFORE TEAMS-BEFORE PRIVATE-CHANNELS-BEFORE: the server serves what was loaded.
verify() {
	local sum=$1 users0=$2 teams0=$3 channels0=$4 got want tid
	got=$(api /users/stats | jq .total_users_count)
	want=$((users0 + $(jq '.users - .deactivated' "$sum")))
	[[ $got == "$want" ]] || die "/users/stats: $got active users, want $want"
	echo "users/stats: $got active users (loaded $(jq .users "$sum"), $(jq .deactivated "$sum") of them deactivated)"
	got=$(api '/teams?include_total_count=true&per_page=1' | jq .total_count)
	want=$((teams0 + $(jq .teams "$sum")))
	[[ $got == "$want" ]] || die "/teams total_count: $got, want $want"
	echo "teams: $got"
	tid=$(jq -r .largest_team_id "$sum")
	got=$(api "/teams/$tid/stats" | jq .total_member_count)
	want=$(jq .largest "$sum")
	[[ $got == "$want" ]] || die "largest team: $got members, want $want"
	got=$(api "/teams/$tid/members?page=0&per_page=200" | jq length)
	[[ $got == 200 ]] || die "largest team: first members page has $got rows, want 200"
	echo "largest team: $want members (first page: $got)"
	got=$(private_channel_count)
	want=$((channels0 + $(jq .private_channels "$sum")))
	[[ $got == "$want" ]] || die "private channels (POST /channels/search total_count): $got, want $want"
	echo "private channels: $got ($(jq .channel_memberships "$sum") loaded memberships)"
	got=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$MM_URL/api/v4/users/login" \
		-d "{\"login_id\":\"$(jq -r .sample_username "$sum")\",\"password\":\"Bench-Passw0rd!\"}")
	[[ $got == 200 ]] || die "a loaded user cannot log in (HTTP $got)"
	echo "login of a loaded user: HTTP $got"
}

# summarize DIR SHAPE PASS LOAD-SUMMARY: medians and per-pair ratios of one pass, as JSON.
summarize() {
	local d=$1 i
	m() { cat "$d"/$1-[0-9]*.measure.json | jq "$2" | median; }
	jq -n \
		--arg shape "$2" --arg pass "$3" --slurpfile load "$4" \
		--argjson last_login "$(cat "$d/last-login")" \
		--argjson pairs "$PAIRS" \
		--argjson ref_count "$(cat "$d/counted-reference.count.json")" \
		--argjson sync_count "$(cat "$d/counted-sync.count.json")" \
		--argjson ref_s "$(m reference .seconds)" --argjson sync_s "$(m sync .seconds)" \
		--argjson ref_rss "$(m reference .peak_rss_kb)" --argjson sync_rss "$(m sync .peak_rss_kb)" \
		--argjson ref_pss "$(m reference .peak_pss_kb)" --argjson sync_pss "$(m sync .peak_pss_kb)" \
		--argjson ref_cpu "$(m reference .cpu_seconds)" --argjson sync_cpu "$(m sync .cpu_seconds)" \
		--argjson per_pair "$(for ((i = 1; i <= PAIRS; i++)); do
			jq -n --slurpfile s "$d/sync-$i.measure.json" --slurpfile r "$d/reference-$i.measure.json" \
				'{sync_seconds: $s[0].seconds, reference_seconds: $r[0].seconds, ratio: ($s[0].seconds / $r[0].seconds)}'
		done | jq -s .)" \
		--argjson c1z "$(cat "$d"/sync-[0-9]*.c1z-bytes | median)" \
		'{shape: $shape, pass: $pass, load: $load[0], users: $load[0].users, memberships: $load[0].memberships,
		  last_login: $last_login, pairs: $pairs,
		  reference: {requests: $ref_count.requests, bytes: $ref_count.bytes, seconds: $ref_s, rss_kb: $ref_rss, pss_kb: $ref_pss, cpu_seconds: $ref_cpu},
		  sync: {requests: $sync_count.requests, bytes: $sync_count.bytes, duplicates: $sync_count.duplicates,
		         per_user_calls: $sync_count.per_user_calls, extra: ([$sync_count.by_kind, $ref_count.by_kind] | map(keys) | add | unique | map({key: ., value: (($sync_count.by_kind[.] // 0) - ($ref_count.by_kind[.] // 0))}) | map(select(.value != 0)) | from_entries),
		         seconds: $sync_s, rss_kb: $sync_rss, pss_kb: $sync_pss, cpu_seconds: $sync_cpu, c1z_bytes: $c1z},
		  per_pair: $per_pair,
		  ratio_median_of_pairs: ($per_pair | map(.ratio) | sort | .[(length - 1) / 2 | floor])}'
}

table() {
	echo "| shape | users | memberships | pass | side | requests | bytes (wire) | wall s (median) | peak RSS MB | peak Pss MB | CPU s | sync/reference (median) | per pair |"
	echo "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
	local s
	for s in "$@"; do
		jq -r '
			def mb: . / 1024 | floor;
			def r2: . * 100 | round / 100;
			"| \(.shape) | \(.users) | \(.memberships) | \(.pass) | reference\(if .last_login then " (+last login)" else "" end) | \(.reference.requests) | \(.reference.bytes) | \(.reference.seconds * 10 | round / 10) | \(.reference.rss_kb | mb) | \(.reference.pss_kb | mb) | \(.reference.cpu_seconds * 10 | round / 10) | | |",
			"| | | | | sync | \(.sync.requests) (+\(.sync.requests - .reference.requests); \(.sync.duplicates) dup, \(.sync.per_user_calls) per-user) | \(.sync.bytes) | \(.sync.seconds * 10 | round / 10) | \(.sync.rss_kb | mb) | \(.sync.pss_kb | mb) | \(.sync.cpu_seconds * 10 | round / 10) | \(.ratio_median_of_pairs | r2) | \(.per_pair | map("\(.sync_seconds * 10 | round / 10)/\(.reference_seconds * 10 | round / 10) = \(.ratio | r2)") | join(", ")) |"
		' "$s"
	done
	echo
	echo "Requests beyond the reference's (pair 1, by kind of call; negative: the reference's own):"
	echo
	for s in "$@"; do
		jq -r '"- \(.shape) \(.users) \(.pass): \(.sync.extra | to_entries | map("\(.key) \(if .value > 0 then "+" else "" end)\(.value)") | join(", "))"' "$s"
	done
}

say "shapes: $SHAPES; sizes: $SIZES; passes: $PASSES; $PAIRS timed pairs each; results in $OUT"
summaries=()
for shape in $SHAPES; do
	for users in $SIZES; do
		bench_size "$shape" "$users"
	done
done
{
	echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem/ {print $2}') GB RAM, $(uname -sr); connector $("$CONNECTOR" --version 2>/dev/null | head -n 1 || echo '?')"
	echo "Extra sync flags: ${BENCH_SYNC_ARGS:-(none)}; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	table "${summaries[@]}"
} | tee "$OUT/table.md"
