//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Servers, or proxies in front of them, that misbehave on purpose: the real
// server behind a front that rewrites some answers. Every run must end by
// itself, with the exit code and message of its case (issue 15).

// hostileFront is a reverse proxy to the local server that records every
// request and lets the test answer some itself.
type hostileFront struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string
	// answer, when it returns true, has answered the request instead of the server.
	answer func(w http.ResponseWriter, r *http.Request) bool
}

func startFront(t *testing.T, answer func(w http.ResponseWriter, r *http.Request) bool) *hostileFront {
	t.Helper()
	up, _ := url.Parse(server["MM_URL"])
	f := &hostileFront{answer: answer}
	rp := httputil.NewSingleHostReverseProxy(up)
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.RequestURI)
		f.mu.Unlock()
		if f.answer == nil || !f.answer(w, r) {
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *hostileFront) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// userList tells the plain user list (GET /users?page=&per_page=) from the
// filtered listings of role holders and channel members.
func userList(r *http.Request) bool {
	q := r.URL.Query()
	return r.Method == http.MethodGet && r.URL.Path == "/api/v4/users" && !q.Has("role") && !q.Has("in_channel")
}

// madeUpUsers is a full page of users that do not exist, numbered from first.
func madeUpUsers(first int) []map[string]any {
	users := make([]map[string]any, 200)
	for i := range users {
		n := first + i
		users[i] = map[string]any{"id": fmt.Sprintf("madeup%020d", n), "username": fmt.Sprintf("madeup%08d", n),
			"email": fmt.Sprintf("madeup%08d@example.com", n), "roles": "system_user"}
	}
	return users
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// TestEndlessUserListEndsTheRun: a server (or caching proxy) that answers the
// same full page of /users whatever page is asked, or makes up new pages
// without end, ends the sync with exit 10 and a message that says so.
func TestEndlessUserListEndsTheRun(t *testing.T) {
	// The list may go on to 2*count+1000 users (user_pages.go), so the page
	// that passes it is the one after floor(bound/200) full pages; 2 more
	// are fetched ahead of it.
	var stats struct {
		Total int `json:"total_users_count"`
	}
	adminAPI(t).get("/users/stats/filtered?include_deleted=true&include_bots=true&include_remote_users=true", &stats)
	bound := 2*stats.Total + 1000
	for _, tc := range []struct {
		name     string
		page     func(page int) []map[string]any
		want     string
		maxPages int64
	}{
		{"the same page whatever page is asked", func(int) []map[string]any { return madeUpUsers(0) },
			"ignores the page parameter", 1 + 1 + 2},
		{"new pages without end", func(page int) []map[string]any { return madeUpUsers(page * 200) },
			fmt.Sprintf("goes on past %d items, far more than the server counts", bound), int64(bound/200 + 1 + 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var pages atomic.Int64
			front := startFront(t, func(w http.ResponseWriter, r *http.Request) bool {
				if !userList(r) {
					return false
				}
				pages.Add(1)
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				writeJSON(w, tc.page(page))
				return true
			})
			path := c1zPath(t)
			run := runBounded(t, 3*time.Minute, map[string]string{"BATON_BASE_URL": front.URL}, "-f", path)
			assertCleanFailure(t, run, 10, "GET /api/v4/users", tc.want)
			assertNotComplete(t, path)
			if n := pages.Load(); n > tc.maxPages {
				t.Errorf("%d user pages asked, want at most %d", n, tc.maxPages)
			}
			t.Logf("exit %d after %d user pages; error: %s", run.ExitCode, pages.Load(), finalError(run.Stderr))
		})
	}
}

// TestEndlessBodyEndsWithBoundedMemory: a /users answer that streams without
// end is read up to the 32 MiB bound only; the run ends with exit 9, and no
// process of the run grew anywhere near what the body would take.
func TestEndlessBodyEndsWithBoundedMemory(t *testing.T) {
	var streamed atomic.Int64
	done := make(chan struct{})
	front := startFront(t, func(w http.ResponseWriter, r *http.Request) bool {
		if !userList(r) {
			return false
		}
		defer close(done)
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(`{"id":"endless0000000000000000","username":"endless"},`, 1000))
		_, _ = w.Write([]byte("["))
		for r.Context().Err() == nil {
			n, err := w.Write(chunk)
			streamed.Add(int64(n))
			if err != nil || streamed.Load() > 4<<30 {
				break // the client stopped reading; 4 GiB ends a client that never does
			}
		}
		return true
	})
	path := c1zPath(t)
	run := runMeasured(t, 3*time.Minute, map[string]string{"BATON_BASE_URL": front.URL, "BATON_SKIP_LAST_LOGIN": "true"}, "-f", path)
	assertCleanFailure(t, run, 9, "GET /api/v4/users", "larger than 32 MiB")
	assertNotComplete(t, path)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the endless answer was still being read after the run ended")
	}
	const mib = 1 << 20
	if got := streamed.Load(); got > 64*mib {
		t.Errorf("the server could write %d MiB before the client stopped reading, want about 32", got/mib)
	}
	if run.PeakRSS == 0 || run.PeakRSS > 200*mib {
		t.Errorf("peak resident memory of the run's processes: %d MiB, want well under 200", run.PeakRSS/mib)
	}
	t.Logf("streamed %d MiB before the client stopped; peak RSS %d MiB; error: %s",
		streamed.Load()/mib, run.PeakRSS/mib, finalError(run.Stderr))
}

// nonLoopbackIPv4 is an address of this machine that is not loopback, or "".
func nonLoopbackIPv4() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil && !ip.IP.IsLoopback() && !ip.IP.IsLinkLocalUnicast() {
			return ip.IP.String()
		}
	}
	return ""
}

// TestCleartextHTTPNeedsAllowHTTP: http:// to a host other than loopback is
// refused (exit 3) before any request, so the token never crosses the
// network in clear text; --allow-http accepts it.
func TestCleartextHTTPNeedsAllowHTTP(t *testing.T) {
	ip := nonLoopbackIPv4()
	if ip == "" {
		// Nothing is sent either way: the refusal is checked on an address nobody serves.
		r := runBounded(t, time.Minute, map[string]string{"BATON_BASE_URL": "http://192.0.2.1:9"}, "-f", c1zPath(t))
		assertCleanFailure(t, r, 3, "http://", "clear text", "allow-http")
		t.Skip("this machine has no non-loopback IPv4 address to serve --allow-http on; only the refusal was checked")
	}
	lis, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse(server["MM_URL"])
	var requests atomic.Int64
	front := &httptest.Server{Listener: lis, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		httputil.NewSingleHostReverseProxy(up).ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}}
	front.Start()
	t.Cleanup(front.Close)
	// No proxy from the environment: the run must reach this address itself.
	env := map[string]string{"BATON_BASE_URL": front.URL, "HTTP_PROXY": "", "http_proxy": ""}

	r := runBounded(t, time.Minute, env, "-f", c1zPath(t))
	assertCleanFailure(t, r, 3, "uses http://", "in clear text", "allow-http", ip)
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d requests reached %s before the refusal", n, front.URL)
	}

	env["BATON_ALLOW_HTTP"] = "true"
	path := c1zPath(t)
	if r := runBounded(t, 3*time.Minute, env, "-f", path); r.ExitCode != 0 {
		t.Fatalf("with allow-http: exit %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	if requests.Load() == 0 {
		t.Fatal("the sync with allow-http never reached the server")
	}
}

// TestDotDotIDsAreRefusedBeforeAnyRequest: a server that names a user "..",
// so that it reaches the c1z, and then a grant to it and a revoke from it:
// each is refused with InvalidArgument (exit 3) naming the id. A server that
// names a team ".." ends the sync. No request addresses anything through "..".
// (A team or channel ".." in a grant cannot reach the c1z, as its sync
// fails; the unit test TestIDsAreCheckedBeforeAnyRequest covers those.)
func TestDotDotIDsAreRefusedBeforeAnyRequest(t *testing.T) {
	team := newTeam(t, "dotdot")
	user := newUser(t, "dotdot")
	addToTeam(t, team, user)
	var dotDotTeam atomic.Bool
	front := startFront(t, func(w http.ResponseWriter, r *http.Request) bool {
		// The server's own answer, with a ".." row added.
		add := func(row map[string]any) bool {
			rec := httptest.NewRecorder()
			r.Header.Del("Accept-Encoding") // a body to decode, not a gzip stream
			httputil.NewSingleHostReverseProxy(mustParse(server["MM_URL"])).ServeHTTP(rec, r)
			var rows []map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &rows) != nil {
				return false
			}
			writeJSON(w, append(rows, row))
			return true
		}
		first := r.Method == http.MethodGet && r.URL.Query().Get("page") == "0"
		switch {
		case first && userList(r):
			return add(map[string]any{"id": "..", "username": "zz.dotdot", "email": "dotdot@example.com", "roles": "system_user"})
		case first && r.URL.Path == "/api/v4/teams/"+team+"/members":
			return add(map[string]any{"team_id": team, "user_id": "..", "roles": "team_user", "scheme_user": true})
		case first && r.URL.Path == "/api/v4/teams" && dotDotTeam.Load():
			return add(map[string]any{"id": "..", "display_name": "Dot Dot", "name": "dotdot", "type": "O"})
		}
		return false
	})
	env := map[string]string{"BATON_BASE_URL": front.URL}
	noDotDot := func(from int) {
		t.Helper()
		for _, req := range front.sent()[from:] {
			target := strings.ToLower(strings.SplitN(req, " ", 2)[1])
			if strings.Contains(target, "/..") || strings.Contains(target, "%2e%2e") {
				t.Errorf("a request went out through \"..\": %s", req)
			}
		}
	}

	c1z := syncToFile(t, env)
	if !readGrants(t, c1z)["team:"+team+":member:user:.."] {
		t.Fatal("the sync did not store the grant to user \"..\": the revoke below would prove nothing")
	}
	before := len(front.sent())
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"grant to user ..", grantArgs(c1z, "team:"+team+":admin", "..")},
		{"revoke from user ..", []string{"-f", c1z, "--revoke-grant", "team:" + team + ":member:user:.."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBounded(t, 2*time.Minute, env, tc.args...)
			assertCleanFailure(t, r, 3, `".." must be a Mattermost user id (26 lower-case letters and digits)`)
			t.Logf("exit %d: %s", r.ExitCode, finalError(r.Stderr))
		})
	}
	noDotDot(before)

	dotDotTeam.Store(true)
	before = len(front.sent())
	path := c1zPath(t)
	r := runBounded(t, 2*time.Minute, env, "-f", path)
	assertCleanFailure(t, r, 3, `".." is not a valid id for a request path`)
	assertNotComplete(t, path)
	t.Logf("sync with a team \"..\": exit %d: %s", r.ExitCode, finalError(r.Stderr))
	noDotDot(before)
	if member, _ := membership(t, "team", team, user); !member {
		t.Error("the refused runs changed the team's membership")
	}
}

func mustParse(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return u
}

// TestEmailWithPathCharactersIsLookedUp: an account whose e-mail address has
// "/", "?" and "%" is found by e-mail when it is created a second time.
func TestEmailWithPathCharactersIsLookedUp(t *testing.T) {
	l := newLifecycle(t)
	name := l.unique("esc.")
	email := "a/b?c%41." + strings.TrimPrefix(name, "esc.") + "@example.com"
	profile := map[string]any{"email": email, "username": name}
	if r := l.createAccount(profile); r.ExitCode != 0 || !strings.Contains(r.Stderr, "created account") {
		t.Fatalf("create: exit %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	var created serverUser
	l.admin.get("/users/username/"+name, &created)
	if created.Email != email {
		t.Fatalf("the server stored %q, want %q", created.Email, email)
	}
	r := l.createAccount(profile)
	if r.ExitCode != 0 || !strings.Contains(r.Stderr, "already exists") || !strings.Contains(r.Stderr, created.ID) {
		t.Fatalf("create again: exit %d, want the existing account %s found by e-mail\n%s", r.ExitCode, created.ID, tail(r.Stderr, 3000))
	}
}
