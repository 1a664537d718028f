package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A server (or a caching proxy in front of it) whose user list never ends
// must end the sync with an explained error, user pages fetched ahead included.

// endlessUsers answers every GET /users page with a full page: the same one
// (repeat) or one made up for the page asked (and so never the same), and
// counts the pages asked.
func endlessUsers(fake *mmfake.Server, repeat bool, pages *int) {
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v4/users" || r.URL.Query().Has("role") || r.URL.Query().Has("in_channel") {
			return false
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if repeat {
			page = 0
		}
		users := make([]mmfake.User, mattermost.PerPage)
		for i := range users {
			n := page*mattermost.PerPage + i
			users[i] = mmfake.User{ID: fmt.Sprintf("made%022d", n), Username: fmt.Sprintf("made%08d", n), Roles: "system_user"}
		}
		fake.Mu.Lock()
		*pages++
		fake.Mu.Unlock()
		mmfake.WriteJSON(w, http.StatusOK, users)
		return true
	}
}

func TestEndlessUserListEndsTheSync(t *testing.T) {
	for _, tc := range []struct {
		name     string
		repeat   bool
		want     string
		maxPages int
	}{
		// The second page repeats the first: seen when that page is served,
		// though it was fetched ahead (before the first page was known).
		{"the same page whatever page is asked", true, "ignores the page parameter", 1 + userPagesAhead + 1},
		// The fake counts 1 account: the list may hold 1002 (userListRoom),
		// so the sixth page (items 1001..1200) is past any plausible end.
		{"new pages without end", false, "goes on past 1002 items", 6 + userPagesAhead + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := mmfake.New(t)
			pages := 0
			endlessUsers(fake, tc.repeat, &pages)
			_, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("sync: %v, want an error saying %q", err, tc.want)
			}
			fake.Mu.Lock()
			defer fake.Mu.Unlock()
			if pages > tc.maxPages {
				t.Errorf("%d user pages asked, want at most %d", pages, tc.maxPages)
			}
		})
	}
}

func TestUserListBoundLeavesRoomForGrowth(t *testing.T) {
	// The count is taken once, at the start: accounts created during the sync
	// (here 300 of them, more than the 250 counted) are listed without complaint.
	fake := mmfake.New(t)
	for i := range 250 {
		fake.Users = append(fake.Users, mmfake.User{ID: fmt.Sprintf("grow%022d", i), Username: fmt.Sprintf("grow%05d", i), Roles: "system_user"})
	}
	var grow sync.Once
	fake.Intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v4/users" && r.URL.Query().Get("page") == "0" {
			grow.Do(func() {
				fake.Mu.Lock()
				defer fake.Mu.Unlock()
				for i := 250; i < 550; i++ {
					fake.Users = append(fake.Users, mmfake.User{ID: fmt.Sprintf("grow%022d", i), Username: fmt.Sprintf("grow%05d", i), Roles: "system_user"})
				}
			})
		}
		return false
	}
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.ResourcesOfType("user")); got != 551 {
		t.Errorf("%d users synced, want 551", got)
	}
	const count = "GET /api/v4/users/stats/filtered?include_bots=true&include_deleted=true&include_remote_users=true"
	if !slices.Contains(fake.Requests(), count) {
		t.Error("the user count was not asked with deactivated, bot and remote accounts included")
	}
}

// Ids come from ConductorOne (or the command line) and go into request paths:
// one that is not shaped like a Mattermost id is refused before any request,
// with InvalidArgument naming it.
func TestIDsAreCheckedBeforeAnyRequest(t *testing.T) {
	const carol, t1, town1 = "carol000000000000000000000", "t1000000000000000000000000", "town1000000000000000000000"
	bad := []string{"", ".", "..", "t1", "a/b", "x?y=1", "%2e%2e", "T1000000000000000000000000", "t100000000000000000000000/", strings.Repeat("a", 27)}
	p := newProvisioning(t)
	before := len(p.fake.Requests())
	wantRefused := func(what string, err error, id string) {
		t.Helper()
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), quoteID(id)) ||
			!strings.Contains(err.Error(), "26 lower-case letters and digits") {
			t.Errorf("%s with id %q: %v, want InvalidArgument naming the id", what, id, err)
		}
	}
	for _, id := range bad {
		for _, ent := range []*v2.Entitlement{entitlementOf(teamResourceType, id, "member"), entitlementOf(channelResourceType, id, "admin")} {
			_, _, err := p.grant(ent, carol)
			wantRefused("grant "+ent.GetId(), err, id)
			_, err = p.revoke(ent, carol)
			wantRefused("revoke "+ent.GetId(), err, id)
		}
		for _, ent := range []*v2.Entitlement{entitlementOf(teamResourceType, t1, "admin"), entitlementOf(channelResourceType, town1, "member"),
			entitlementOf(roleResourceType, "system_admin", "assigned")} {
			_, _, err := p.grant(ent, id)
			wantRefused("grant "+ent.GetId()+" to a user", err, id)
			_, err = p.revoke(ent, id)
			wantRefused("revoke "+ent.GetId()+" from a user", err, id)
		}
		for _, action := range []string{actionDisableUser, actionEnableUser, actionRevokeSessions} {
			st, rv := invoke(t, p.client, "", action, map[string]any{"user_id": id})
			wantFailure(t, action+" "+id, st, rv, "user_id must be a Mattermost user id (26 lower-case letters and digits), got "+quoteID(id))
		}
	}
	// Role names are checked against the roles the connector manages.
	for _, role := range []string{"..", "system_admin/../x", "system_admin system_user"} {
		_, _, err := p.grant(entitlementOf(roleResourceType, role, "assigned"), carol)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "not a system role baton-mattermost manages") {
			t.Errorf("grant of role %q: %v, want InvalidArgument", role, err)
		}
	}
	if sent := p.fake.Requests()[before:]; len(sent) > 0 {
		t.Errorf("requests were sent for bad ids: %v", sent)
	}
}

// A system role change writes the whole role string. After a failure the
// server may have applied (a 502 from a proxy, here) it is never sent again:
// the roles are read back instead. Applied, the grant succeeds; not applied,
// it fails, and another admin's change made meanwhile is kept.
func TestRoleChangeIsReadBackNotRepeated(t *testing.T) {
	const plain = "plain000000000000000000000"
	for _, applied := range []bool{true, false} {
		fake := mmfake.New(t)
		seedRoleHolders(fake)
		var puts atomic.Int32
		fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPut || r.URL.Path != "/api/v4/users/"+plain+"/roles" {
				return false
			}
			puts.Add(1)
			var body struct {
				Roles string `json:"roles"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			fake.Mu.Lock()
			for i := range fake.Users {
				if fake.Users[i].ID != plain {
					continue
				}
				if applied {
					fake.Users[i].Roles = body.Roles
				} else {
					fake.Users[i].Roles += " system_post_all" // another admin's change, in between
				}
			}
			fake.Mu.Unlock()
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		p := &provisioning{t: t, fake: fake, client: synctest.Serve(t, context.Background(), newTestConnector(t, fake, Options{}))}
		_, _, err := p.grant(entitlementOf(roleResourceType, "system_user_access_token", "assigned"), plain)
		got := fake.UserRoles(plain)
		switch {
		case applied && (err != nil || got != "system_user system_user_access_token"):
			t.Errorf("applied: %v, roles %q; want success read back", err, got)
		case !applied && (status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "not repeated") || got != "system_user system_post_all"):
			t.Errorf("not applied: %v, roles %q; want an Aborted failure and the other admin's change kept", err, got)
		}
		if n := puts.Load(); n != 1 {
			t.Errorf("applied %v: %d PUT /users/{id}/roles, want 1", applied, n)
		}
	}
}

// A targeted sync's id comes from ConductorOne too: one that is not a
// Mattermost id is refused before any request.
func TestTargetedSyncChecksIDsBeforeAnyRequest(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	c := newTestConnector(t, fake, Options{})
	before := len(fake.Requests())
	for _, get := range []struct {
		kind string
		get  func(ctx context.Context, id *v2.ResourceId, parent *v2.ResourceId) (*v2.Resource, annotations.Annotations, error)
	}{
		{"team", newTeamSyncer(c.client, Options{}).Get},
		{"channel", newChannelSyncer(c.client, Options{}).Get},
		{"user", newUserSyncer(c.client, Options{}).Get},
		{"token", newTokenSyncer(c.client).Get},
	} {
		id := v2.ResourceId_builder{ResourceType: get.kind, Resource: "../users/me"}.Build()
		_, _, err := get.get(context.Background(), id, nil)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `"../users/me" must be a Mattermost `+get.kind+" id") {
			t.Errorf("targeted sync of %s %q: %v, want InvalidArgument naming the id", get.kind, id.GetResource(), err)
		}
	}
	if sent := fake.Requests()[before:]; len(sent) > 0 {
		t.Errorf("requests were sent for bad ids: %v", sent)
	}
}
