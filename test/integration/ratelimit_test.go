//go:build integration

package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/test/faultproxy"
)

// TestSyncUnderServerRateLimits turns on Mattermost's own rate limiting
// (2 requests per second, burst 1, per client address) and syncs through a
// counting proxy: the sync must complete with the c1z of an unthrottled run,
// wait out the 429s instead of hammering the server, and, with the optional
// client-side requests-per-second, stay under the limit.
func TestSyncUnderServerRateLimits(t *testing.T) {
	restartServer(t, "MM_RATELIMITSETTINGS_ENABLE=true", "MM_RATELIMITSETTINGS_PERSEC=2", "MM_RATELIMITSETTINGS_MAXBURST=1")
	// The unthrottled sync to compare with is taken after the throttled ones,
	// on the server restarted without limits: a restart may add accounts of
	// its own (plugin bots), which a sync taken before it would lack.
	var throttled []string
	dir := t.TempDir() // before the Cleanup below, so that it is removed after it runs
	t.Cleanup(func() {
		restartServer(t)
		clean := syncResult(t, nil)
		for _, path := range throttled {
			if diffs := synctest.Diff(clean, synctest.Read(t, path)); len(diffs) > 0 {
				t.Errorf("throttled sync %s differs from the unthrottled one:\n%s", path, strings.Join(diffs, "\n"))
			}
		}
	})

	// The limiter is per client address, and the proxy forwards from the same
	// address as every other client of this test: let the bucket refill first.
	refill := func() { time.Sleep(3 * time.Second) }
	syncThrottled := func(t *testing.T, args ...string) faultproxy.Stats {
		t.Helper()
		p := startProxy(t, faultproxy.Config{})
		path := filepath.Join(dir, fmt.Sprintf("throttled-%d.c1z", len(throttled)))
		refill()
		r := runBounded(t, 5*time.Minute, map[string]string{"BATON_BASE_URL": p.URL}, append([]string{"-f", path}, args...)...)
		st := p.Stats()
		if r.ExitCode != 0 {
			t.Fatalf("exit %d (%v)\nstderr:\n%s", r.ExitCode, st, tail(r.Stderr, 3000))
		}
		throttled = append(throttled, path)
		t.Logf("%s: %v", strings.Join(append([]string{"sync"}, args...), " "), st)
		return st
	}

	var unlimited faultproxy.Stats
	t.Run("no client-side limit", func(t *testing.T) {
		unlimited = syncThrottled(t)
		if unlimited.Upstream[429] == 0 {
			t.Fatalf("the server never answered 429 (%v): the limit was not in force", unlimited)
		}
		// Every 429 is waited out (Retry-After), so the next try finds a
		// token: a tight loop would pile up many 429s per success.
		if unlimited.Upstream[429] > unlimited.Upstream[200] {
			t.Errorf("%d 429s for %d successful requests: retries do not wait", unlimited.Upstream[429], unlimited.Upstream[200])
		}
	})
	t.Run("requests-per-second 1", func(t *testing.T) {
		limited := syncThrottled(t, "--requests-per-second", "1")
		if limited.Upstream[200] != unlimited.Upstream[200] {
			t.Errorf("%d successful requests, unlimited run had %d", limited.Upstream[200], unlimited.Upstream[200])
		}
		// Half the server's rate: the client never goes over it.
		if limited.Upstream[429] != 0 {
			t.Errorf("%d 429s at half the server's rate (unlimited run: %d)", limited.Upstream[429], unlimited.Upstream[429])
		}
	})
}
