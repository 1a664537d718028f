package connector

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// addUsers gives the fake n more users, u0000, u0001, ... (ids sort as usernames).
func addUsers(fake *mmfake.Server, n int) {
	for i := range n {
		id := fmt.Sprintf("u%04d", i)
		fake.Users = append(fake.Users, mattermost.User{ID: id, Username: id, Email: id + "@example.com", Roles: "system_user"})
	}
}

// A sync asks for every page once: each /users page, /teams page and team
// members page exactly once, and nothing per user.
func TestSyncRequestsEveryPageOnce(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	addUsers(fake, 2*mattermost.PerPage+37) // 3 pages of users in all
	for i := range mattermost.PerPage + 5 { // 2 pages of members
		fake.AddTeamMember("t2", fmt.Sprintf("u%04d", i), false, false)
	}
	if _, err := synctest.Sync(t, newTestConnector(t, fake, Options{})); err != nil {
		t.Fatalf("sync: %v", err)
	}
	counts := map[string]int{}
	for _, r := range fake.Requests() {
		counts[r]++
	}
	var lists, others []string
	for r, n := range counts {
		if n > 1 {
			t.Errorf("%s requested %d times", r, n)
		}
		if strings.Contains(r, "page=") {
			lists = append(lists, r)
		} else {
			others = append(others, r)
		}
	}
	slices.Sort(lists)
	// users: 3 pages; teams: 1; members of t1 and t2 (t3 is archived): 1 + 2.
	if len(lists) != 3+1+1+2 {
		t.Errorf("list pages requested: %d, want 7:\n%s", len(lists), strings.Join(lists, "\n"))
	}
	for _, r := range others {
		if r != "GET /api/v4/users/me" {
			t.Errorf("unexpected call outside the lists: %s", r)
		}
	}
}

// Grants name their team by id only: the team's profile is not copied into
// every membership's grant.
func TestTeamGrantsCarryOnlyTheTeamsID(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	team, err := teamResource(&mattermost.Team{ID: "t1", Name: "eng", DisplayName: "Engineering", Description: "Builders", Type: "O"})
	if err != nil {
		t.Fatal(err)
	}
	s := newTeamSyncer(newTestConnector(t, fake, Options{}).client, Options{})
	grants, _, err := s.Grants(context.Background(), team, resource.SyncOpAttrs{})
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) != 4 { // alice member+admin, bob, gina
		t.Fatalf("got %d grants, want 4", len(grants))
	}
	for _, g := range grants {
		r := g.GetEntitlement().GetResource()
		if r.GetId().GetResource() != "t1" || r.GetId().GetResourceType() != "team" {
			t.Errorf("grant %s names %v", g.GetId(), r.GetId())
		}
		if r.GetDisplayName() != "" || r.GetDescription() != "" || len(r.GetAnnotations()) > 0 {
			t.Errorf("grant %s carries the whole team: %v", g.GetId(), r)
		}
	}
}

// The user list runs one page ahead, but a page is still requested once,
// pages are served in order, a page fetched ahead for another sync is not
// served, and a failed prefetch is asked again in the caller's call.
func TestUserPagesAreFetchedAheadOnce(t *testing.T) {
	fake := mmfake.New(t)
	addUsers(fake, 2*mattermost.PerPage+10)
	var failPage2 atomic.Bool
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v4/users" && r.URL.Query().Get("page") == "2" && failPage2.CompareAndSwap(true, false) {
			mmfake.WriteError(w, http.StatusForbidden, "api.context.permissions.app_error", "no")
			return true
		}
		return false
	}
	s := newUserSyncer(newTestConnector(t, fake, Options{}).client)
	list := func(syncID, token string) ([]string, string) {
		t.Helper()
		rs, res, err := s.List(context.Background(), nil, resource.SyncOpAttrs{SyncID: syncID, PageToken: pagination.Token{Token: token}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.GetId().GetResource())
		}
		return ids, res.NextPageToken
	}
	usersPages := func() []string {
		var pages []string
		for _, r := range fake.Requests() {
			if strings.HasPrefix(r, "GET /api/v4/users?") {
				pages = append(pages, r)
			}
		}
		return pages
	}

	first, next := list("sync1", "")
	if len(first) != mattermost.PerPage || first[0] != "admin" || next != "1" {
		t.Fatalf("page 0: %d users from %q, next %q", len(first), first[0], next)
	}
	second, next := list("sync1", next)
	if len(second) != mattermost.PerPage || second[0] != "u0199" || next != "2" {
		t.Fatalf("page 1: %d users from %q, next %q", len(second), second[0], next)
	}
	// Page 2 was fetched ahead for sync1: another sync asks for it afresh.
	third, next := list("sync2", "2")
	if len(third) != 11 || next != "" {
		t.Fatalf("page 2: %d users, next %q", len(third), next)
	}
	// The page fetched ahead for sync1 may still be on its way: wait for it.
	for deadline := time.Now().Add(10 * time.Second); len(usersPages()) < 4 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := usersPages(); len(got) != 4 {
		t.Errorf("requests: %v, want pages 0, 1, 2 and 2 again for the other sync", got)
	}

	// A prefetch that fails is retried by the call that wants the page.
	failPage2.Store(true)
	list("sync3", "")
	list("sync3", "1") // starts fetching page 2 ahead; that request fails
	third, _ = list("sync3", "2")
	if len(third) != 11 {
		t.Fatalf("page 2 after a failed prefetch: %d users", len(third))
	}
	if failPage2.Load() {
		t.Error("the prefetch of page 2 did not run")
	}
}
