//go:build integration

package integration

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/test/faultproxy"
)

// assertTokenNowhere checks that the token appears in no output of a run and
// in no byte of its c1z, compressed or not, nor in any stored object.
func assertTokenNowhere(t *testing.T, token string, r Run, c1z string) {
	t.Helper()
	if strings.Contains(r.Stdout, token) {
		t.Error("stdout contains the token")
	}
	if strings.Contains(r.Stderr, token) {
		t.Error("stderr contains the token")
	}
	if _, err := os.Stat(c1z); err != nil {
		return // a run that failed before syncing writes no c1z
	}
	for name, b := range synctest.Uncompressed(t, c1z) {
		if bytes.Contains(b, []byte(token)) {
			t.Errorf("%s contains the token", name)
		}
	}
	if synctest.HasFinishedSync(t, c1z) {
		if found := synctest.Find(synctest.Read(t, c1z), token); len(found) > 0 {
			t.Errorf("stored objects contain the token: %v", found)
		}
	}
}

func TestTokenAppearsNowhere(t *testing.T) {
	token := server["MM_ADMIN_TOKEN"]
	// The token on the command line as well as in the environment: the SDK
	// passes both on to its _connector-service child.
	debug := []string{"--log-level", "debug", "--api-token", token}

	for _, engine := range []string{"pebble", "sqlite"} {
		t.Run("successful sync, "+engine, func(t *testing.T) {
			path := c1zPath(t)
			r := runBounded(t, 5*time.Minute, nil, append([]string{"-f", path, "--storage-engine", engine}, debug...)...)
			if r.ExitCode != 0 {
				t.Fatalf("exit %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
			}
			if !strings.Contains(r.Stderr, `"level":"debug"`) {
				t.Fatal("no debug log: the test would prove nothing")
			}
			if len(synctest.Read(t, path).Grants) == 0 {
				t.Fatal("no grants synced")
			}
			assertTokenNowhere(t, token, r, path)
			if engine == "sqlite" {
				// Control: the scan reads stored data, so it would see a token stored the same way.
				username := []byte(server["MM_USER_USERNAME"])
				found := false
				for _, b := range synctest.Uncompressed(t, path) {
					found = found || bytes.Contains(b, username)
				}
				if !found {
					t.Errorf("the uncompressed c1z does not even contain the username %s: the scan proves nothing", username)
				}
			}
		})
	}

	t.Run("sync failing mid-way with retries", func(t *testing.T) {
		p := startProxy(t, faultproxy.Config{Rate: 1, Faults: []faultproxy.Fault{faultproxy.InternalError}, Match: teamMembers})
		path := c1zPath(t)
		r := runBounded(t, 5*time.Minute, map[string]string{"BATON_BASE_URL": p.URL}, append([]string{"-f", path}, debug...)...)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "retrying after a transient failure") {
			t.Fatalf("exit %d, want a failure after retries\n%s", r.ExitCode, tail(r.Stderr, 3000))
		}
		assertTokenNowhere(t, token, r, path)
	})

	t.Run("failing behind a proxy that echoes the token", func(t *testing.T) {
		// A misconfigured proxy's error page that repeats the request headers.
		echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><pre>upstream error for request with Authorization: " + r.Header.Get("Authorization") + "</pre></html>"))
		}))
		t.Cleanup(echo.Close)
		path := c1zPath(t)
		r := runBounded(t, 5*time.Minute, map[string]string{"BATON_BASE_URL": echo.URL}, append([]string{"-f", path}, debug...)...)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "[REDACTED]") {
			t.Fatalf("exit %d, want a failure showing [REDACTED]\n%s", r.ExitCode, tail(r.Stderr, 3000))
		}
		assertTokenNowhere(t, token, r, path)
	})
}
