//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/test/faultproxy"
)

// faultSeeds are the seeds every transient scenario runs with: each seed is
// a different, repeatable choice of failing requests.
var faultSeeds = []uint64{1, 2, 3}

// transientScenarios are faults a sync must ride out: its c1z must equal a
// clean run's.
var transientScenarios = []struct {
	name string
	cfg  faultproxy.Config
	args []string
}{
	{name: "5xx bursts (3 failures in a row)", cfg: faultproxy.Config{Faults: faultproxy.ServerErrors, Burst: 3}},
	{name: "HTML error pages of a reverse proxy", cfg: faultproxy.Config{Faults: []faultproxy.Fault{
		faultproxy.BadGateway, faultproxy.Unavailable, faultproxy.GatewayTimeout}}},
	{name: "connection resets", cfg: faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.Reset}}},
	{name: "truncated bodies", cfg: faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.Truncate}}},
	{name: "answers slower than the timeout", cfg: faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.Slow}, Delay: 3 * time.Second},
		args: []string{"--http-timeout-seconds", "1"}},
	{name: "429 rate limited", cfg: faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.RateLimit}}},
	{name: "all of the above", cfg: faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.InternalError, faultproxy.BadGateway,
		faultproxy.Unavailable, faultproxy.GatewayTimeout, faultproxy.Reset, faultproxy.Truncate, faultproxy.Slow, faultproxy.RateLimit},
		Delay: 3 * time.Second}, args: []string{"--http-timeout-seconds", "1"}},
}

// TestSyncRidesOutTransientFaults syncs through the fault proxy at fault
// rates of 10% and 30% and requires the very c1z content of a clean run.
func TestSyncRidesOutTransientFaults(t *testing.T) {
	clean := syncResult(t, nil)
	if len(clean.Grants) == 0 {
		t.Fatal("the clean sync stored no grants: nothing to compare")
	}

	type row struct {
		scenario string
		rate     float64
		runs     int
		requests int
		faults   int
		exit0    int
		matched  int
	}
	var mu sync.Mutex
	var rows []*row
	t.Cleanup(func() {
		var b strings.Builder
		b.WriteString("\n| scenario | fault rate | runs (seeds) | requests | faults injected | outcome | c1z matched clean run |\n|---|---|---|---|---|---|---|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s | %.0f%% | %d | %d | %d | %d/%d exit 0 | %d/%d |\n",
				r.scenario, r.rate*100, r.runs, r.requests, r.faults, r.exit0, r.runs, r.matched, r.runs)
		}
		t.Log(b.String())
	})

	for _, sc := range transientScenarios {
		for _, rate := range []float64{0.1, 0.3} {
			r := &row{scenario: sc.name, rate: rate}
			rows = append(rows, r)
			t.Run(fmt.Sprintf("%s/%.0f%%", sc.name, rate*100), func(t *testing.T) {
				t.Parallel()
				for _, seed := range faultSeeds {
					cfg := sc.cfg
					cfg.Seed, cfg.Rate = seed, rate
					p := startProxy(t, cfg)
					path := c1zPath(t)
					run := runBounded(t, 5*time.Minute, map[string]string{"BATON_BASE_URL": p.URL},
						append([]string{"-f", path}, sc.args...)...)
					st := p.Stats()
					mu.Lock()
					r.runs++
					r.requests += st.Requests
					r.faults += st.TotalFaults()
					mu.Unlock()
					if run.ExitCode != 0 {
						t.Errorf("seed %d: exit %d (%v)\nstderr:\n%s", seed, run.ExitCode, st, tail(run.Stderr, 3000))
						continue
					}
					got := synctest.Read(t, path)
					diffs := synctest.Diff(clean, got)
					if len(diffs) > 0 {
						// The server itself may have changed since the clean run
						// (Mattermost creates its system-bot lazily, for one): the
						// faulted run must then equal a clean run made now.
						if fresh := synctest.Diff(syncResult(t, nil), got); len(fresh) == 0 {
							t.Logf("seed %d: the server changed since the first clean run (%s); equal to a fresh clean run", seed, strings.Join(diffs, "; "))
							diffs = nil
						}
					}
					mu.Lock()
					r.exit0++
					if len(diffs) == 0 {
						r.matched++
					}
					mu.Unlock()
					if len(diffs) > 0 {
						t.Errorf("seed %d (%v): c1z differs from the clean run:\n%s", seed, st, strings.Join(diffs, "\n"))
					}
				}
				if r.faults == 0 {
					t.Errorf("no fault was injected in %d runs: the scenario proves nothing", r.runs)
				}
			})
		}
	}
}

// teamMembers matches the calls that list a team's members, made after
// Validate and the first listings succeeded: a failure there is mid-sync.
func teamMembers(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/v4/teams/") && strings.HasSuffix(r.URL.Path, "/members")
}

// TestPersistentFaultsEndTheRun checks that a server that keeps failing ends
// the run with a non-zero exit and a clear message, and never leaves a c1z
// that looks complete, including when the failure starts mid-sync.
func TestPersistentFaultsEndTheRun(t *testing.T) {
	cases := []struct {
		name     string
		cfg      faultproxy.Config
		args     []string
		wantExit int
		wantText []string
	}{
		{"503 page on every request", faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.Unavailable}},
			nil, 10, []string{"kept failing", "HTTP 503", "after 6 attempts"}},
		{"connection reset on every request", faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.Reset}},
			nil, 10, []string{"cannot reach the Mattermost server", "connection reset", "after 6 attempts"}},
		{"every answer slower than the timeout", faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.Slow}, Delay: 5 * time.Second},
			[]string{"--http-timeout-seconds", "1"}, 10, []string{"http-timeout-seconds", "after 6 attempts"}},
		{"captive portal: 200 with a web page", faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.HTMLPage}},
			nil, 9, []string{"does not look like a Mattermost server", "text/html"}},
		{"mid-sync: team members always 500", faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.InternalError}, Match: teamMembers},
			nil, 10, []string{"/members", "HTTP 500", "after 6 attempts"}},
		{"mid-sync: team members always cut short", faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.Truncate}, Match: teamMembers},
			nil, 10, []string{"/members", "cut short", "after 6 attempts"}},
		// baton-sdk skips a NotFound as a warning and finishes the sync: a
		// proxy's 404 page must not pass for "this team is gone".
		{"mid-sync: team members answered by a proxy's 404 page", faultproxy.Config{Faults: []faultproxy.Fault{faultproxy.NotFoundPage}, Match: teamMembers},
			nil, 9, []string{"/members", "HTTP 404", "text/html"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Rate = 1
			p := startProxy(t, cfg)
			path := c1zPath(t)
			run := runBounded(t, 5*time.Minute, map[string]string{"BATON_BASE_URL": p.URL}, append([]string{"-f", path}, tc.args...)...)
			assertCleanFailure(t, run, tc.wantExit, tc.wantText...)
			assertNotComplete(t, path)
			st := p.Stats()
			t.Logf("exit %d; %v; error: %s", run.ExitCode, st, finalError(run.Stderr))
			if st.TotalFaults() == 0 {
				t.Error("no fault was injected")
			}
		})
	}
}
