# shellcheck shell=bash
# Progress lines for long, silent Go steps (sourced by scripts/demo.sh and
# test/localserver/mattermost.sh): on a cold machine, downloading modules and
# compiling take minutes without a word from go itself.

# go_build_with_progress LABEL LOGDIR OUT PACKAGE [GO-COMMAND...] downloads
# the modules PACKAGE needs, then builds it into OUT, printing every
# PROGRESS_EVERY seconds (default 20) how far each step is. GO-COMMAND is how to
# run go (default: go; e.g. a function that runs it in another module). The
# steps log to LOGDIR/download.log and LOGDIR/build.log.
go_build_with_progress() {
	local label=$1 logdir=$2 out=$3 pkg=$4
	shift 4
	local -a gocmd=("${@:-go}")
	mkdir -p "$logdir"
	# `go list -deps` fetches exactly the modules the build needs (-x logs each
	# fetch) and lists the packages to compile.
	_with_progress "$label: downloading Go modules" "$logdir/download.log" '\.zip: 200 OK' '' \
		"${gocmd[@]}" list -x -deps "$pkg" || return 1
	_with_progress "$label: compiling packages" "$logdir/build.log" '' "$(wc -l <"$logdir/download.log.out")" \
		"${gocmd[@]}" build -v -o "$out" "$pkg"
}

# _with_progress WHAT LOG PATTERN TOTAL CMD... runs CMD, its stdout in LOG.out
# and its stderr in LOG; every PROGRESS_EVERY seconds it prints how many LOG
# lines match PATTERN (all lines when PATTERN is empty), out of TOTAL if given.
_with_progress() {
	local what=$1 log=$2 pattern=$3 total=$4
	shift 4
	local every=${PROGRESS_EVERY:-20} t0=$SECONDS next n pid rc=0
	"$@" >"$log.out" 2>"$log" &
	pid=$!
	next=$((SECONDS + every))
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if ((SECONDS >= next)); then
			if [[ -n $pattern ]]; then n=$(grep -c -- "$pattern" "$log" || true); else n=$(wc -l <"$log"); fi
			printf '  ... %s: %d%s so far (%ds)\n' "$what" "$n" "${total:+ of $total}" $((SECONDS - t0))
			next=$((SECONDS + every))
		fi
	done
	wait "$pid" || rc=$?
	if ((rc != 0)); then
		tail -n 30 "$log" >&2
		printf '%s failed (log: %s)\n' "$what" "$log" >&2
		return "$rc"
	fi
	if ((SECONDS - t0 >= every)); then printf '  ... %s: done in %ds\n' "$what" $((SECONDS - t0)); fi
}
