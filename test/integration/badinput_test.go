//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
)

// badInputCase is one run of the binary that must fail with a specific message.
type badInputCase struct {
	name     string
	env      map[string]string
	wantExit int
	wantText []string
	secret   string // must appear nowhere in the output
}

func runBadInput(t *testing.T, tc badInputCase) {
	t.Helper()
	path := c1zPath(t)
	r := runBounded(t, 2*time.Minute, tc.env, "-f", path)
	assertCleanFailure(t, r, tc.wantExit, tc.wantText...)
	assertNotComplete(t, path)
	if tc.secret != "" && (strings.Contains(r.Stderr, tc.secret) || strings.Contains(r.Stdout, tc.secret)) {
		t.Errorf("the output shows the secret %q", tc.secret)
	}
	t.Logf("exit %d: %s", r.ExitCode, finalError(r.Stderr))
}

func TestBadURLsAndTokensAreExplained(t *testing.T) {
	admin := server["MM_ADMIN_TOKEN"]
	for _, tc := range []badInputCase{
		{name: "no scheme", env: map[string]string{"BATON_BASE_URL": "chat.example.com"},
			wantExit: 3, wantText: []string{"base-url", "has no scheme", "https://chat.example.com"}},
		{name: "not http", env: map[string]string{"BATON_BASE_URL": "ftp://chat.example.com"},
			wantExit: 3, wantText: []string{"base-url", "must start with https://"}},
		{name: "malformed", env: map[string]string{"BATON_BASE_URL": "http://[::1"},
			wantExit: 3, wantText: []string{"base-url", "not a valid URL"}},
		{name: "credentials in the URL", env: map[string]string{"BATON_BASE_URL": "https://admin:s3cretpw@chat.example.com"},
			wantExit: 3, wantText: []string{"base-url", "must not contain a user name or password", "api-token"}, secret: "s3cretpw"},
		{name: "credentials in a malformed URL", env: map[string]string{"BATON_BASE_URL": "https://admin:s3cretpw@[::1"},
			wantExit: 3, wantText: []string{"base-url"}, secret: "s3cretpw"},
		{name: "credentials without a scheme", env: map[string]string{"BATON_BASE_URL": "admin:s3cretpw@chat.example.com"},
			wantExit: 3, wantText: []string{"base-url"}, secret: "s3cretpw"},
		{name: "query string", env: map[string]string{"BATON_BASE_URL": "https://chat.example.com/?access_token=s3cretqs"},
			wantExit: 3, wantText: []string{"base-url", "must not contain a query string"}, secret: "s3cretqs"},
		{name: "quoted token", env: map[string]string{"BATON_API_TOKEN": `"` + admin + `"`},
			wantExit: 3, wantText: []string{"api-token", "quote"}, secret: admin},
		{name: "token with a space inside", env: map[string]string{"BATON_API_TOKEN": admin[:10] + " " + admin[10:]},
			wantExit: 3, wantText: []string{"api-token", "white space"}, secret: admin[10:]},
		{name: "Bearer prefix", env: map[string]string{"BATON_API_TOKEN": "Bearer " + admin},
			wantExit: 3, wantText: []string{"api-token", `"Bearer "`}, secret: admin},
		{name: "blank token", env: map[string]string{"BATON_API_TOKEN": "  \t "},
			wantExit: 3, wantText: []string{"api-token is empty"}},
		// Empty is caught by baton-sdk itself, before the connector runs.
		{name: "empty token", env: map[string]string{"BATON_API_TOKEN": ""},
			wantExit: 2, wantText: []string{"api-token"}},
	} {
		t.Run(tc.name, func(t *testing.T) { runBadInput(t, tc) })
	}
}

func TestTokenWithSurroundingWhiteSpaceWorks(t *testing.T) {
	// A trailing newline is the usual residue of `echo token > file` and of
	// Kubernetes secrets: invisible, so it is trimmed rather than refused.
	path := syncToFile(t, map[string]string{"BATON_API_TOKEN": "  " + server["MM_ADMIN_TOKEN"] + "\n"})
	if !synctest.HasFinishedSync(t, path) {
		t.Fatal("no finished sync")
	}
}

// newPAT creates a personal access token for a user and returns (token id, token).
func newPAT(t *testing.T, userID string) (string, string) {
	t.Helper()
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if code := adminAPI(t).do(http.MethodPost, "/users/"+userID+"/tokens", map[string]string{"description": "issue8"}, &tok); code != http.StatusOK {
		t.Fatalf("creating a token: HTTP %d", code)
	}
	return tok.ID, tok.Token
}

// newSystemAdminToken creates a System Admin and a token of theirs, and
// checks that the token works, so that its later rejection has one cause.
// It returns the user id, the token id and the token.
func newSystemAdminToken(t *testing.T, label string) (string, string, string) {
	t.Helper()
	userID := newUser(t, label)
	if code := adminAPI(t).do(http.MethodPut, "/users/"+userID+"/roles", map[string]string{"roles": "system_user system_admin"}, nil); code != http.StatusOK {
		t.Fatalf("making %s a System Admin: HTTP %d", label, code)
	}
	// Leave no extra active System Admin behind: other tests count them.
	t.Cleanup(func() {
		a := adminAPI(t)
		a.do(http.MethodPut, "/users/"+userID+"/roles", map[string]string{"roles": "system_user"}, nil)
		a.do(http.MethodDelete, "/users/"+userID, nil, nil)
	})
	tokenID, token := newPAT(t, userID)
	var me serverUser
	if code := (&api{t: t, token: token}).do(http.MethodGet, "/users/me", nil, &me); code != http.StatusOK || !strings.Contains(me.Roles, "system_admin") {
		t.Fatalf("the new token does not work: HTTP %d, roles %q", code, me.Roles)
	}
	return userID, tokenID, token
}

// sessionToken signs a user in and returns the session token.
func sessionToken(t *testing.T, username, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"login_id": username, "password": password})
	resp, err := http.Post(server["MM_URL"]+"/api/v4/users/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Token") == "" {
		t.Fatalf("login %s: HTTP %d", username, resp.StatusCode)
	}
	return resp.Header.Get("Token")
}

// TestRevokedDeactivatedAndExpiredTokensExit16 adds to TestRejectedTokenExits16
// (an unknown token) the ways a once valid token stops working.
func TestRevokedDeactivatedAndExpiredTokensExit16(t *testing.T) {
	// A System Admin's token, revoked.
	_, revokedID, revoked := newSystemAdminToken(t, "revoked-token")
	if code := adminAPI(t).do(http.MethodPost, "/users/tokens/revoke", map[string]string{"token_id": revokedID}, nil); code != http.StatusOK {
		t.Fatalf("revoking: HTTP %d", code)
	}
	// A System Admin deactivated after creating a token.
	gone, _, goneToken := newSystemAdminToken(t, "deactivated-owner")
	if code := adminAPI(t).do(http.MethodDelete, "/users/"+gone, nil, nil); code != http.StatusOK {
		t.Fatalf("deactivating: HTTP %d", code)
	}
	// A session that ended (logged out): an expired token.
	session := sessionToken(t, server["MM_LOGIN_USERNAME"], server["MM_LOGIN_PASSWORD"])
	if code := (&api{t: t, token: session}).do(http.MethodPost, "/users/logout", nil, nil); code != http.StatusOK {
		t.Fatalf("logout: HTTP %d", code)
	}

	rejected := []string{"api-token was rejected", "revoked", "api.context.session_expired.app_error"}
	for _, tc := range []badInputCase{
		{name: "revoked token", env: map[string]string{"BATON_API_TOKEN": revoked}, wantExit: 16, wantText: rejected, secret: revoked},
		{name: "deactivated owner", env: map[string]string{"BATON_API_TOKEN": goneToken}, wantExit: 16, wantText: rejected, secret: goneToken},
		{name: "expired session", env: map[string]string{"BATON_API_TOKEN": session}, wantExit: 16, wantText: rejected, secret: session},
	} {
		t.Run(tc.name, func(t *testing.T) { runBadInput(t, tc) })
	}
}

func TestWrongServersAreExplained(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><html><body><h1>It works!</h1></body></html>"))
	}))
	t.Cleanup(web.Close)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := "http://" + lis.Addr().String()
	_ = lis.Close()

	for _, tc := range []badInputCase{
		{name: "a plain web server", env: map[string]string{"BATON_BASE_URL": web.URL}, wantExit: 9,
			wantText: []string{"does not look like a Mattermost server", "text/html", "It works!"}},
		{name: "unreachable port", env: map[string]string{"BATON_BASE_URL": closedPort}, wantExit: 10,
			wantText: []string{"cannot reach the Mattermost server at " + closedPort, "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) { runBadInput(t, tc) })
	}
}

func TestRedirectsNeverCarryTheTokenElsewhere(t *testing.T) {
	var mu sync.Mutex
	var received []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received = append(received, r.Method+" "+r.URL.Path+" Authorization="+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x","username":"x","roles":"system_admin system_user"}`))
	}))
	t.Cleanup(elsewhere.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	t.Cleanup(redirecting.Close)

	runBadInput(t, badInputCase{env: map[string]string{"BATON_BASE_URL": redirecting.URL}, wantExit: 9,
		wantText: []string{"redirects elsewhere", "refused to follow", elsewhere.URL}})
	mu.Lock()
	defer mu.Unlock()
	if len(received) != 0 {
		t.Fatalf("the other server was reached: %v", received)
	}
}

// reverseProxy is a front for the local server; when prefix is set, requests
// under it are redirected (308) to the same host without it.
func reverseProxy(prefix string) http.Handler {
	up, _ := url.Parse(server["MM_URL"])
	rp := httputil.NewSingleHostReverseProxy(up)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if prefix != "" && strings.HasPrefix(r.URL.Path, prefix+"/") {
			http.Redirect(w, r, strings.TrimPrefix(r.URL.RequestURI(), prefix), http.StatusPermanentRedirect)
			return
		}
		rp.ServeHTTP(w, r)
	})
}

func TestSameOriginRedirectIsFollowed(t *testing.T) {
	clean := syncResult(t, nil)
	front := httptest.NewServer(reverseProxy("/old"))
	t.Cleanup(front.Close)
	got := syncResult(t, map[string]string{"BATON_BASE_URL": front.URL + "/old"})
	if diffs := synctest.Diff(clean, got); len(diffs) > 0 {
		t.Fatalf("sync through a same-origin redirect differs:\n%s", strings.Join(diffs, "\n"))
	}
}

func TestTLSNeedsCABundleForAnInternalCA(t *testing.T) {
	clean := syncResult(t, nil)
	front := httptest.NewTLSServer(reverseProxy(""))
	t.Cleanup(front.Close)

	runBadInput(t, badInputCase{env: map[string]string{"BATON_BASE_URL": front.URL}, wantExit: 9,
		wantText: []string{"TLS certificate", "not trusted", "ca-bundle", "certificate signed by unknown authority"}})

	bundle := filepath.Join(t.TempDir(), "internal-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw})
	if err := os.WriteFile(bundle, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	got := syncResult(t, map[string]string{"BATON_BASE_URL": front.URL, "BATON_CA_BUNDLE": bundle})
	if diffs := synctest.Diff(clean, got); len(diffs) > 0 {
		t.Fatalf("sync over TLS with ca-bundle differs:\n%s", strings.Join(diffs, "\n"))
	}

	runBadInput(t, badInputCase{name: "bundle that is no PEM", env: map[string]string{"BATON_BASE_URL": front.URL,
		"BATON_CA_BUNDLE": filepath.Join(t.TempDir(), "missing.pem")}, wantExit: 3, wantText: []string{"ca-bundle"}})
}

func TestNoOptionDisablesTLSVerification(t *testing.T) {
	r := runBounded(t, time.Minute, nil, "--help")
	help := strings.ToLower(r.Stdout + r.Stderr)
	if !strings.Contains(help, "--ca-bundle") {
		t.Fatalf("--help does not list --ca-bundle:\n%s", help)
	}
	for _, bad := range []string{"insecure", "skip-verify", "skip-tls", "no-verify", "tls-verify"} {
		if strings.Contains(help, bad) {
			t.Errorf("--help offers %q", bad)
		}
	}
}
