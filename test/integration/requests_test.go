//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// countingProxy sits between the connector and the server and records every
// request line (method, path, query; never headers, which hold the token).
type countingProxy struct {
	URL      string
	mu       sync.Mutex
	requests []string
}

func startCountingProxy(t *testing.T) *countingProxy {
	t.Helper()
	target, err := url.Parse(server["MM_URL"])
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r.Method+" "+r.URL.RequestURI())
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *countingProxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// idPattern replaces Mattermost ids in paths so that requests group by endpoint.
var idPattern = regexp.MustCompile(`/[a-z0-9]{26}(/|$|\?)`)

// endpoint names a request by method, path with ids replaced, and the query parameters that matter here.
func endpoint(req string) string {
	method, uri, _ := strings.Cut(req, " ")
	u, _ := url.Parse(uri)
	path := idPattern.ReplaceAllString(u.Path, "/{id}$1")
	if u.Query().Has("role") {
		path += "?role="
	}
	return method + " " + path
}

// syncCounted runs a sync through a counting proxy and returns the requests.
func syncCounted(t *testing.T, env map[string]string) []string {
	t.Helper()
	p := startCountingProxy(t)
	all := map[string]string{"BATON_BASE_URL": p.URL}
	for k, v := range env {
		all[k] = v
	}
	syncToFile(t, all)
	return p.Requests()
}

// TestRequestsPerSync: a sync reads each page once, makes no request per
// user, and the last-login report costs one request per 100 people.
func TestRequestsPerSync(t *testing.T) {
	reqs := syncCounted(t, nil)
	counts := map[string]int{}
	seen := map[string]bool{}
	for _, r := range reqs {
		counts[endpoint(r)]++
		if seen[r] && !strings.HasSuffix(r, "/users/me") {
			t.Errorf("requested twice: %s", r)
		}
		seen[r] = true
	}
	var lines []string
	for e, n := range counts {
		lines = append(lines, fmt.Sprintf("%4d  %s", n, e))
	}
	sort.Strings(lines)
	t.Logf("%d requests per sync:\n%s", len(reqs), strings.Join(lines, "\n"))

	if n := counts["GET /api/v4/users/{id}"]; n != 0 {
		t.Errorf("%d per-user requests", n)
	}
	// Private channels come from one server-wide search (fewer than 200 here), not a request per team.
	if n, m := counts["POST /api/v4/channels/search"], counts["GET /api/v4/teams/{id}/channels/private"]; n != 1 || m != 0 {
		t.Errorf("%d private channel searches and %d per-team private channel lists, want 1 and 0", n, m)
	}
	people := 0
	users := getAll[serverUser](adminAPI(t), "/users")
	for _, u := range users {
		if !u.IsBot {
			people++
		}
	}
	userPages := counts["GET /api/v4/users"]
	if max := userPages * ((200 + 99) / 100); counts["GET /api/v4/reports/users"] > max || counts["GET /api/v4/reports/users"] < (people+99)/100 {
		t.Errorf("%d report pages for %d people on %d /users pages", counts["GET /api/v4/reports/users"], people, userPages)
	}
	// One /users?role= page per 200 users the server's substring filter matches.
	rolePages := 0
	for role := range syncResult(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"}).ResourcesOfType("role") {
		matches := 0
		for _, u := range users {
			if strings.Contains(u.Roles, role) {
				matches++
			}
		}
		rolePages += matches/200 + 1
	}
	if n := counts["GET /api/v4/users?role="]; n != rolePages {
		t.Errorf("%d /users?role= requests, want %d", n, rolePages)
	}

	skipped := syncCounted(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"})
	for _, r := range skipped {
		if strings.Contains(r, "/reports/users") {
			t.Errorf("skip-last-login still requested %s", r)
		}
	}
	t.Logf("with skip-last-login: %d requests", len(skipped))
}
