package connector

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// seedManyUsers adds n users, every seventh a bot, every third never logged
// in; the others logged in at a time derived from their index (bots too, to
// check that a bot's login time is not taken from a neighbour's row).
func seedManyUsers(fake *mmfake.Server, n int) {
	for i := range n {
		u := mmfake.User{ID: fmt.Sprintf("id%04d", i), Username: fmt.Sprintf("user%04d", i), Roles: "system_user", IsBot: i%7 == 3}
		fake.Users = append(fake.Users, u)
		if i%3 != 0 {
			fake.LastLogins[u.ID] = lastLoginOf(i)
		}
	}
}

func lastLoginOf(i int) int64 { return 1_750_000_000_000 + int64(i)*60_000 }

func countRequests(fake *mmfake.Server, prefix string) int {
	n := 0
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// checkLastLogins checks every synced user's last login against the fake's.
func checkLastLogins(t *testing.T, fake *mmfake.Server, users map[string]*v2.Resource) {
	t.Helper()
	for _, u := range fake.Users {
		r := users[u.ID]
		if r == nil {
			t.Fatalf("user %s not synced", u.ID)
		}
		trait, err := resource.GetUserTrait(r)
		if err != nil {
			t.Fatal(err)
		}
		want := fake.LastLogins[u.ID]
		if u.IsBot {
			want = 0 // the report has no bots
		}
		got := trait.GetLastLogin()
		switch {
		case want == 0 && got != nil:
			t.Errorf("%s: last login %v, want none", u.Username, got.AsTime())
		case want != 0 && (got == nil || got.AsTime().UnixMilli() != want):
			t.Errorf("%s: last login %v, want %d", u.Username, got, want)
		}
		if _, ok := r.GetProfile().GetFields()["last_login_at"]; ok != (want != 0) {
			t.Errorf("%s: last_login_at on profile = %v, want %v", u.Username, ok, want != 0)
		}
	}
}

func TestSyncLastLoginAlongsideUserPages(t *testing.T) {
	fake := mmfake.New(t)
	seedManyUsers(fake, 649) // with the admin: 650 users, 4 /users pages
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	checkLastLogins(t, fake, res.ResourcesOfType("user"))

	// 650 users of whom 93 bots: the /users pages hold 172, 171, 171 and 43
	// people, so 2+2+2+1 report pages: the fewest 100-row pages that can
	// cover each /users page, and each /users page fetched once (plus the
	// empty page past the end, fetched ahead: see user_pages.go).
	if got := countRequests(fake, "GET /api/v4/users?page=") - roleListRequests(fake); got != 5 {
		t.Errorf("/users pages: %d, want 5", got)
	}
	if got := countRequests(fake, "GET /api/v4/reports/users"); got != 7 {
		t.Errorf("/reports/users pages: %d, want 7", got)
	}
}

func TestSkipLastLoginMakesNoReportRequest(t *testing.T) {
	fake := mmfake.New(t)
	seedManyUsers(fake, 20)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if got := countRequests(fake, "GET /api/v4/reports/users"); got != 0 {
		t.Errorf("/reports/users requested %d times with skip-last-login", got)
	}
	for id, r := range res.ResourcesOfType("user") {
		if trait, _ := resource.GetUserTrait(r); trait.GetLastLogin() != nil {
			t.Errorf("%s has a last login with skip-last-login", id)
		}
	}
}

// TestLastLoginReportUnavailable: an older server (404) costs one request and
// one log line, and the sync goes on without last logins.
func TestLastLoginReportUnavailable(t *testing.T) {
	for _, code := range []int{http.StatusNotFound, http.StatusForbidden, http.StatusNotImplemented} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			fake := mmfake.New(t)
			seedManyUsers(fake, 450)
			fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path == "/api/v4/reports/users" {
					mmfake.WriteError(w, code, "api.context.404.app_error", "refused")
					return true
				}
				return false
			}
			core, logs := observer.New(zap.InfoLevel)
			ctx := ctxzap.ToContext(context.Background(), zap.New(core))
			s := newUserSyncer(newTestConnector(t, fake, Options{}).client, Options{})
			users := 0
			for tok := ""; ; {
				page, res, err := s.List(ctx, nil, resource.SyncOpAttrs{PageToken: paginationToken(tok)})
				if err != nil {
					t.Fatalf("List: %v", err)
				}
				users += len(page)
				for _, r := range page {
					if trait, _ := resource.GetUserTrait(r); trait.GetLastLogin() != nil {
						t.Fatalf("%s has a last login", r.GetId().GetResource())
					}
				}
				if res == nil || res.NextPageToken == "" {
					break
				}
				tok = res.NextPageToken
			}
			if users != 451 {
				t.Errorf("users: %d, want 451", users)
			}
			if got := countRequests(fake, "GET /api/v4/reports/users"); got != 1 {
				t.Errorf("/reports/users requested %d times, want once", got)
			}
			if got := logs.FilterMessageSnippet("last login").Len(); got != 1 {
				t.Errorf("%d log lines about last login, want 1: %v", got, logs.All())
			}
		})
	}
}

// TestLastLoginWhenTheServerChangesBetweenRequests: a user missing from the
// report pages where expected (here: renamed meanwhile, so hidden in the
// first answer) is looked for once more, at bounded cost.
func TestLastLoginWhenTheServerChangesBetweenRequests(t *testing.T) {
	fake := mmfake.New(t)
	seedManyUsers(fake, 198) // one /users page: admin + 198, of whom 171 people
	// The report page for the second hundred people starts after the 100th
	// person; hide one of the second hundred from that first answer.
	var once sync.Once
	hidden := "id0180"
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v4/reports/users" || r.URL.Query().Get("from_id") == "" {
			return false
		}
		answered := false
		once.Do(func() {
			fake.Mu.Lock()
			i := indexOfUser(fake, hidden)
			fake.Users[i].IsBot = true // bots are not in the report
			fake.Mu.Unlock()
			fake.Mux.ServeHTTP(w, r)
			fake.Mu.Lock()
			fake.Users[i].IsBot = false
			fake.Mu.Unlock()
			answered = true
		})
		return answered
	}
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	checkLastLogins(t, fake, res.ResourcesOfType("user"))
	if got := countRequests(fake, "GET /api/v4/reports/users"); got != 3 {
		t.Errorf("/reports/users pages: %d, want 3 (2 + 1 to find the missing user)", got)
	}
}

// roleListRequests counts the /users?role= requests of the role syncer.
func roleListRequests(fake *mmfake.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if strings.HasPrefix(r, "GET /api/v4/users?") && strings.Contains(r, "role=") {
			n++
		}
	}
	return n
}

func indexOfUser(fake *mmfake.Server, id string) int {
	for i, u := range fake.Users {
		if u.ID == id {
			return i
		}
	}
	panic("no user " + id)
}
