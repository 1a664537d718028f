package connector

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// A sync asks for every page once: no request is repeated, and nothing is
// asked per user that the user list already returned.
func TestSyncRequestsEveryPageOnce(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	seedManyUsers(fake, 2*mattermost.PerPage+37) // 3 pages of users in all, and the empty one past the end fetched ahead
	for i := range mattermost.PerPage + 5 {      // 2 pages of members
		fake.AddTeamMember("t2000000000000000000000000", fmt.Sprintf("id%04d", i), false, false)
	}
	if _, err := synctest.Sync(t, newTestConnector(t, fake, Options{})); err != nil {
		t.Fatalf("sync: %v", err)
	}
	counts := map[string]int{}
	var userPages, memberPages int
	for _, r := range fake.Requests() {
		counts[r]++
		switch {
		case userListPage.MatchString(r):
			userPages++
		case strings.HasPrefix(r, "GET /api/v4/teams/t2000000000000000000000000/members?"):
			memberPages++
		case perUserCall.MatchString(r):
			t.Errorf("a call about one user: %s", r)
		}
	}
	for r, n := range counts {
		if n > 1 {
			t.Errorf("%s requested %d times", r, n)
		}
	}
	if userPages != 4 || memberPages != 2 {
		t.Errorf("user pages %d (want 3+1), t2000000000000000000000000 member pages %d (want 2)", userPages, memberPages)
	}
}

// userListPage matches a page of the plain user list (not filtered by role).
var userListPage = regexp.MustCompile(`^GET /api/v4/users\?page=\d+&per_page=200$`)

// perUserCall matches a GET about one user (/users/{id}...), /users/me excepted.
var perUserCall = regexp.MustCompile(`^GET /api/v4/users/(id\d{4}|alice|bob|gina|robot)([/?]|$)`)

// Grants name their team by id only: the team's profile is not copied into
// every membership's grant.
func TestTeamGrantsCarryOnlyTheTeamsID(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	team, err := teamResource(&mattermost.Team{ID: "t1000000000000000000000000", Name: "eng", DisplayName: "Engineering", Description: "Builders", Type: "O"})
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
		if r.GetId().GetResource() != "t1000000000000000000000000" || r.GetId().GetResourceType() != "team" {
			t.Errorf("grant %s names %v", g.GetId(), r.GetId())
		}
		if r.GetDisplayName() != "" || r.GetDescription() != "" || len(r.GetAnnotations()) > 0 {
			t.Errorf("grant %s carries the whole team: %v", g.GetId(), r)
		}
	}
}
