#!/usr/bin/env bash
# Real local Mattermost server (Team Edition, built from the Go module proxy) + throw-away
# PostgreSQL cluster, for baton-mattermost tests. See test/localserver/README.md.
#
#   mattermost.sh build            build the server binary (cached on the pinned go.mod/go.sum)
#   mattermost.sh up               build, fresh PostgreSQL cluster + DB, start Mattermost, seed, write server.env
#   mattermost.sh down             stop Mattermost and PostgreSQL (idempotent)
#   mattermost.sh restart-server   restart only Mattermost against the same DB (picks up the caller's MM_* env)
#   mattermost.sh status           show what runs
#
# Settings (environment): MM_STATE_DIR (default <repo>/.localserver), MM_PORT (8065), MM_PG_PORT (55432),
# MM_START_TIMEOUT (seconds, 180). Any other MM_<SECTION>_<FIELD> variable is passed to the server and
# overrides its config, e.g. MM_RATELIMITSETTINGS_ENABLE=true.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MOD_DIR=$HERE/mmserver
MM_PKG=github.com/mattermost/mattermost/server/v8/cmd/mattermost
MM_MOD=github.com/mattermost/mattermost/server/v8

STATE_DIR=${MM_STATE_DIR:-$REPO/.localserver}
SRV=$STATE_DIR/server         # binary, i18n/, templates/, fonts/; the server's working directory
PG=$STATE_DIR/pg              # owned by the postgres user
PGDATA=$PG/data
PGLOG=$PG/postgres.log
RUN_ENV=$STATE_DIR/run.env    # ports chosen at `up`, reused by down/status/restart-server
MM_PIDFILE=$STATE_DIR/mattermost.pid
PG_PIDFILE=$STATE_DIR/postgres.pid
MM_OUT=$STATE_DIR/mattermost.out   # server stdout/stderr
SERVER_ENV=$STATE_DIR/server.env
PG_USER=mmuser
PG_DB=mattermost

# Ports: explicit caller values win; else those recorded by `up`; else defaults.
CALLER_MM_PORT=${MM_PORT-}
CALLER_PG_PORT=${MM_PG_PORT-}
if [[ -f $RUN_ENV ]]; then
	# shellcheck disable=SC1090
	source "$RUN_ENV"
fi
MM_PORT=${CALLER_MM_PORT:-${RECORDED_MM_PORT:-8065}}
MM_PG_PORT=${CALLER_PG_PORT:-${RECORDED_PG_PORT:-55432}}
MM_START_TIMEOUT=${MM_START_TIMEOUT:-180}

# shellcheck source=scripts/progress.sh
source "$REPO/scripts/progress.sh"

say() { printf '[mattermost.sh] %s\n' "$*"; }
die() {
	printf '[mattermost.sh] ERROR: %s\n' "$*" >&2
	exit 1
}

# ---------------------------------------------------------------- helpers

# mmgo runs go for the nested server module (sumdb has no entry for the pinned pseudo-versions).
mmgo() { (cd "$MOD_DIR" && GOWORK=off GONOSUMDB=github.com/mattermost/mattermost GOFLAGS=-mod=mod go "$@"); }

build_key() { cat "$MOD_DIR/go.mod" "$MOD_DIR/go.sum" | sha256sum | cut -c1-16; }

# pids_of PREFIX: pids whose command line starts with PREFIX (no pgrep/procps needed).
pids_of() {
	local prefix=$1 f pid
	local -a argv
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		mapfile -d '' -t argv 2>/dev/null <"$f" || continue
		if [[ "${argv[*]-}" == "$prefix"* ]]; then echo "$pid"; fi
	done
	return 0
}

# alive PID: the process exists and is not a zombie (PID 1 here may reap late).
alive() {
	local stat
	[[ -n ${1-} ]] && kill -0 "$1" 2>/dev/null || return 1
	IFS= read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	[[ ${stat##*) } != Z* ]]
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ping PORT: true when GET /api/v4/system/ping answers 200.
ping_ok() {
	local status
	status=$(
		exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /api/v4/system/ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		IFS= read -r -t 5 line <&3 || exit 1
		echo "$line"
	) 2>/dev/null || return 1
	[[ $status == *" 200"* ]]
}

pg_bindir() {
	local initdb
	initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
	if [[ -x $initdb ]]; then dirname "$initdb"; fi
}

# as_pg runs a command as the postgres user when we are root (initdb refuses root).
as_pg() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

export_default() { # NAME VALUE: export unless the caller already set NAME
	if [[ -z ${!1+x} ]]; then export "$1=$2"; fi
}

show_log_tail() {
	local f
	for f in "$MM_OUT" "$STATE_DIR/logs/mattermost.log"; do
		[[ -s $f ]] || continue
		echo "----- last lines of $f -----" >&2
		tail -n 15 "$f" >&2
	done
}

# ---------------------------------------------------------------- build

cmd_build() {
	command -v go >/dev/null || die "go is not installed"
	local key
	key=$(build_key)
	if [[ -x $SRV/mattermost && -d $SRV/i18n && -f $SRV/.build-key && $(cat "$SRV/.build-key") == "$key" ]]; then
		say "build: cached ($SRV/mattermost, key $key)"
		return 0
	fi
	say "build: the Mattermost server from its Go modules (cold Go caches: ~300 MB of downloads, then ~6-14 min of compiling on 2 cores) ..."
	mkdir -p "$SRV"
	local t0=$SECONDS
	rm -f "$SRV/.build-key"
	go_build_with_progress build "$STATE_DIR" "$SRV/mattermost.tmp" "$MM_PKG" mmgo || die "build failed (logs: $STATE_DIR/download.log, $STATE_DIR/build.log)"
	mv -f "$SRV/mattermost.tmp" "$SRV/mattermost"
	local moddir d
	moddir=$(mmgo list -m -f '{{.Dir}}' "$MM_MOD")
	[[ -d $moddir/i18n ]] || die "no i18n/ in $moddir"
	for d in i18n templates fonts; do
		rm -rf "${SRV:?}/$d"
		cp -R "$moddir/$d" "$SRV/$d"
	done
	chmod -R u+w "$SRV" # the module cache is read-only
	build_key >"$SRV/.build-key"
	say "build: done in $((SECONDS - t0))s ($("$SRV/mattermost" version 2>/dev/null | grep -m1 '^Version' || echo 'version unknown'))"
}

# ---------------------------------------------------------------- postgres

ensure_postgres_installed() {
	if [[ -z $(pg_bindir) ]]; then
		((EUID == 0)) || die "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb); install it or run as root"
		say "postgres: installing PostgreSQL with apt-get ..."
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >"$STATE_DIR/apt.log" 2>&1 || { tail -n 20 "$STATE_DIR/apt.log" >&2; die "apt-get update failed"; }
		apt-get install -y -qq postgresql >>"$STATE_DIR/apt.log" 2>&1 || { tail -n 20 "$STATE_DIR/apt.log" >&2; die "apt-get install postgresql failed"; }
	fi
	[[ -n $(pg_bindir) ]] || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb"
}

pg_running() { [[ -f $PGDATA/postmaster.pid ]] && alive "$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null)"; }

start_postgres_fresh() {
	local bin
	bin=$(pg_bindir)
	port_in_use "$MM_PG_PORT" && die "port 127.0.0.1:$MM_PG_PORT is taken (set MM_PG_PORT to another port)"
	rm -rf "$PG"
	mkdir -p "$PG"
	if ((EUID == 0)); then chown postgres:postgres "$PG"; fi
	as_pg test -w "$PG" || die "the postgres user cannot write $PG (is a parent of $STATE_DIR not traversable? set MM_STATE_DIR)"
	say "postgres: initdb $PGDATA ($(basename "$(dirname "$bin")"))"
	as_pg "$bin/initdb" -D "$PGDATA" -U "$PG_USER" --auth=trust -E UTF8 --locale=C >"$PG/initdb.log" 2>&1 ||
		{ cat "$PG/initdb.log" >&2; die "initdb failed"; }
	# Throw-away cluster: loopback only, no unix socket (the default socket dir may not exist), no durability.
	as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null <<EOF

# --- test/localserver/mattermost.sh ---
listen_addresses = '127.0.0.1'
port = $MM_PG_PORT
unix_socket_directories = ''
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
	start_postgres
	"$bin/createdb" -h 127.0.0.1 -p "$MM_PG_PORT" -U "$PG_USER" "$PG_DB"
	say "postgres: database $PG_DB ready on 127.0.0.1:$MM_PG_PORT"
}

start_postgres() {
	local bin
	bin=$(pg_bindir)
	as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 start >/dev/null ||
		{ tail -n 20 "$PGLOG" >&2 || true; die "PostgreSQL did not start"; }
	head -n 1 "$PGDATA/postmaster.pid" >"$PG_PIDFILE"
}

stop_postgres() {
	local bin
	bin=$(pg_bindir)
	if [[ -n $bin && -d $PGDATA ]] && pg_running; then
		say "postgres: stopping (pid $(head -n 1 "$PGDATA/postmaster.pid"))"
		as_pg "$bin/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1 ||
			as_pg "$bin/pg_ctl" -D "$PGDATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
	# Anything still running on our data dir (e.g. a stale pid file was removed by hand).
	local pids
	mapfile -t pids < <(pids_of "$bin/postgres -D $PGDATA"; pids_of "$bin/postmaster -D $PGDATA")
	if ((${#pids[@]})); then
		say "postgres: killing leftover processes ${pids[*]}"
		kill -TERM "${pids[@]}" 2>/dev/null || true
		sleep 2
		kill -KILL "${pids[@]}" 2>/dev/null || true
	fi
	rm -f "$PG_PIDFILE"
}

# ---------------------------------------------------------------- mattermost

mm_pid() {
	local pid
	pid=$(cat "$MM_PIDFILE" 2>/dev/null || true)
	if alive "$pid" && [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == "$SRV/mattermost"* ]]; then
		echo "$pid"
	fi
}

start_mattermost() {
	[[ -x $SRV/mattermost ]] || die "no server binary; run: $0 build"
	pg_running || die "PostgreSQL is not running; run: $0 up"
	[[ -n $(mm_pid) ]] && die "Mattermost already runs (pid $(mm_pid))"
	port_in_use "$MM_PORT" && die "port 127.0.0.1:$MM_PORT is taken (set MM_PORT to another port)"

	local caller
	caller=$(env | grep -o '^MM_[A-Z0-9]*SETTINGS_[A-Z0-9_]*=' | tr -d = | sort | tr '\n' ' ' || true)
	local dsn="postgres://$PG_USER@127.0.0.1:$MM_PG_PORT/$PG_DB?sslmode=disable&connect_timeout=10"
	# Fixed: where the data lives and where to listen.
	export MM_SQLSETTINGS_DRIVERNAME=postgres
	export MM_SQLSETTINGS_DATASOURCE=$dsn
	export MM_CONFIG=$dsn # config kept in the DB, no config.json
	export MM_SERVICESETTINGS_LISTENADDRESS=127.0.0.1:$MM_PORT
	export MM_SERVICESETTINGS_SITEURL=http://127.0.0.1:$MM_PORT
	export MM_FILESETTINGS_DIRECTORY=$STATE_DIR/data/
	export MM_LOGSETTINGS_FILELOCATION=$STATE_DIR/logs/
	# Defaults the caller may override by exporting the same variable.
	export_default MM_SERVICESETTINGS_ENABLEUSERACCESSTOKENS true
	export_default MM_SERVICESETTINGS_ENABLEBOTACCOUNTCREATION true
	export_default MM_SERVICESETTINGS_ENABLEDEVELOPER true
	export_default MM_SERVICESETTINGS_ENABLESECURITYFIXALERT false
	export_default MM_PLUGINSETTINGS_ENABLE false
	export_default MM_TEAMSETTINGS_MAXUSERSPERTEAM 100000
	export_default MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS false
	export_default MM_LOGSETTINGS_CONSOLELEVEL ERROR
	export_default MM_LOGSETTINGS_ENABLEDIAGNOSTICS false
	export_default MM_ANNOUNCEMENTSETTINGS_ADMINNOTICESENABLED false
	export_default MM_ANNOUNCEMENTSETTINGS_USERNOTICESENABLED false
	export_default MM_SQLSETTINGS_MAXOPENCONNS 100

	mkdir -p "$STATE_DIR/data" "$STATE_DIR/logs"
	echo "=== start $(date -u +%FT%TZ)" >>"$MM_OUT"
	say "mattermost: starting on http://127.0.0.1:$MM_PORT"
	[[ -z $caller ]] || say "mattermost: caller settings: $caller"
	# setsid: own session, so the server outlives this script and the caller's terminal.
	(cd "$SRV" && exec setsid "$SRV/mattermost" server >>"$MM_OUT" 2>&1 </dev/null) &
	local pid=$!
	echo "$pid" >"$MM_PIDFILE"

	local t0=$SECONDS
	until ping_ok "$MM_PORT"; do
		if ! alive "$pid"; then
			show_log_tail
			die "Mattermost exited during start-up (logs above; $MM_OUT)"
		fi
		if ((SECONDS - t0 >= MM_START_TIMEOUT)); then
			show_log_tail
			die "Mattermost did not answer /api/v4/system/ping within ${MM_START_TIMEOUT}s (pid $pid still running; logs above)"
		fi
		sleep 1
	done
	say "mattermost: up in $((SECONDS - t0))s (pid $pid)"
}

stop_mattermost() {
	local pid i
	local -a pids
	pid=$(mm_pid)
	if [[ -n $pid ]]; then
		say "mattermost: stopping (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 60; i++)); do
			alive "$pid" || break
			sleep 0.5
		done
		if alive "$pid"; then
			say "mattermost: still running after 30s, killing"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	mapfile -t pids < <(pids_of "$SRV/mattermost")
	if ((${#pids[@]})); then
		say "mattermost: killing leftover processes ${pids[*]}"
		kill -KILL "${pids[@]}" 2>/dev/null || true
	fi
	for ((i = 0; i < 20; i++)); do
		[[ -z $(pids_of "$SRV/mattermost") ]] && break
		sleep 0.5
	done
	rm -f "$MM_PIDFILE"
}

# ---------------------------------------------------------------- commands

cmd_down() {
	stop_mattermost
	stop_postgres
	local left
	mapfile -t left < <(pids_of "$SRV/mattermost"; pids_of "$(pg_bindir)/postgres -D $PGDATA")
	((${#left[@]} == 0)) || die "processes still running: ${left[*]}"
	say "down: nothing of $STATE_DIR runs"
}

cmd_up() {
	local t0=$SECONDS
	mkdir -p "$STATE_DIR"
	cmd_build
	cmd_down >/dev/null
	ensure_postgres_installed
	rm -rf "$STATE_DIR/data" "$STATE_DIR/logs" "$SERVER_ENV"
	: >"$MM_OUT"
	start_postgres_fresh
	printf 'RECORDED_MM_PORT=%s\nRECORDED_PG_PORT=%s\n' "$MM_PORT" "$MM_PG_PORT" >"$RUN_ENV"
	start_mattermost
	say "seed: bootstrapping the admin and seeding the sample org ..."
	(cd "$REPO" && go run ./test/localserver/seed -url "http://127.0.0.1:$MM_PORT" -out "$SERVER_ENV" \
		-set "MM_PORT=$MM_PORT" -set "MM_PG_PORT=$MM_PG_PORT" -set "MM_PG_DATA=$PGDATA" \
		-set "MM_PG_DSN=postgres://$PG_USER@127.0.0.1:$MM_PG_PORT/$PG_DB?sslmode=disable" \
		-set "MM_STATE_DIR=$STATE_DIR" -set "MM_SERVER_LOG=$STATE_DIR/logs/mattermost.log") ||
		die "seeding failed (server still up; see $MM_OUT and $STATE_DIR/logs/)"
	say "up: ready in $((SECONDS - t0))s; credentials in $SERVER_ENV (source it)"
}

cmd_restart_server() {
	[[ -f $RUN_ENV ]] || die "nothing to restart; run: $0 up"
	pg_running || die "PostgreSQL is not running; run: $0 up"
	stop_mattermost
	start_mattermost
}

cmd_status() {
	local pid rc=0
	say "state dir: $STATE_DIR"
	if [[ -x $SRV/mattermost ]]; then
		say "binary: $SRV/mattermost (build key $(cat "$SRV/.build-key" 2>/dev/null || echo none), current $(build_key))"
	else
		say "binary: not built"
	fi
	if pg_running; then
		say "postgres: running (pid $(head -n 1 "$PGDATA/postmaster.pid"), 127.0.0.1:$MM_PG_PORT)"
	else
		say "postgres: stopped"
		rc=1
	fi
	pid=$(mm_pid)
	if [[ -n $pid ]]; then
		if ping_ok "$MM_PORT"; then
			say "mattermost: running (pid $pid), http://127.0.0.1:$MM_PORT ping OK"
		else
			say "mattermost: running (pid $pid) but http://127.0.0.1:$MM_PORT/api/v4/system/ping fails"
			rc=1
		fi
	else
		say "mattermost: stopped"
		rc=1
	fi
	[[ -f $SERVER_ENV ]] && say "env: $SERVER_ENV"
	return $rc
}

case ${1-} in
build) cmd_build ;;
up) cmd_up ;;
down) cmd_down ;;
restart-server) cmd_restart_server ;;
status) cmd_status ;;
*)
	sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
