package connector

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	cfg "github.com/baton-mattermost/baton-mattermost/pkg/config"
	sdksync "github.com/conductorone/baton-sdk/pkg/sync"
)

// seedGroups makes the fake an Enterprise server with a custom group, an LDAP
// group linked to the group-constrained team t1 (its members team admins)
// and another LDAP group linked to the unconstrained team t2.
func seedGroups(fake *mmfake.Server) {
	fake.Licensed("enterprise", "LDAPGroups", "CustomPermissionsSchemes")
	fake.Users = append(fake.Users,
		mmfake.User{ID: "alice000000000000000000000", Username: "alice", Roles: "system_user"},
		mmfake.User{ID: "bob00000000000000000000000", Username: "bob", Roles: "system_user"},
		mmfake.User{ID: "carol000000000000000000000", Username: "carol", Roles: "system_user"},
		mmfake.User{ID: "dave", Username: "dave", Roles: "system_user", DeleteAt: 1},
	)
	constrained := true
	fake.Teams = []mmfake.Team{
		{ID: "t1000000000000000000000000", Name: "eng", DisplayName: "Engineering", Type: "I", GroupConstrained: &constrained},
		{ID: "t2000000000000000000000000", Name: "sales", DisplayName: "Sales", Type: "I"},
	}
	fake.AddTeamMember("t1000000000000000000000000", "alice000000000000000000000", true, false)
	fake.AddTeamMember("t1000000000000000000000000", "bob00000000000000000000000", true, false)
	fake.AddTeamMember("t2000000000000000000000000", "carol000000000000000000000", false, false)
	fake.Groups = []mmfake.Group{
		{ID: "gcustom0000000000000000000", Name: "oncall", DisplayName: "On call", Source: "custom", AllowReference: true},
		{ID: "gldap000000000000000000000", Name: "eng-ldap", DisplayName: "Engineers", Source: "ldap", RemoteID: "cn=eng"},
		{ID: "gsales00000000000000000000", Name: "sales-ldap", DisplayName: "Sales people", Source: "ldap", RemoteID: "cn=sales"},
		{ID: "gold0000000000000000000000", Name: "old", DisplayName: "Archived", Source: "custom", DeleteAt: 1},
	}
	fake.GroupMembers["gcustom0000000000000000000"] = []string{"carol000000000000000000000", "dave"}
	fake.GroupMembers["gldap000000000000000000000"] = []string{"alice000000000000000000000", "bob00000000000000000000000"}
	fake.GroupMembers["gsales00000000000000000000"] = []string{"carol000000000000000000000", "bob00000000000000000000000"}
	fake.TeamGroups["t1000000000000000000000000"] = []mmfake.GroupLink{{GroupID: "gldap000000000000000000000", SchemeAdmin: true}}
	fake.TeamGroups["t2000000000000000000000000"] = []mmfake.GroupLink{{GroupID: "gsales00000000000000000000"}}
}

func TestSyncGroupsAndGroupConstrainedTeams(t *testing.T) {
	fake := mmfake.New(t)
	seedGroups(fake)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	groups := res.ResourcesOfType("group")
	if fmt.Sprint(keys(groups)) != "[gcustom0000000000000000000 gldap000000000000000000000 gsales00000000000000000000]" {
		t.Fatalf("groups: %v, want the live ones", keys(groups))
	}
	gt, err := resource.GetGroupTrait(groups["gldap000000000000000000000"])
	if err != nil || gt.GetGroupSourceType() != string(resource.GroupSourceTypeDirectorySynced) {
		t.Errorf("LDAP group trait: %v %v", gt, err)
	}

	got := res.GrantIDs()
	for _, id := range []string{
		// memberships (dave is deactivated: not a member per the server)
		"group:gcustom0000000000000000000:member:user:carol000000000000000000000",
		"group:gldap000000000000000000000:member:user:alice000000000000000000000",
		"group:gldap000000000000000000000:member:user:bob00000000000000000000000",
		"group:gsales00000000000000000000:member:user:carol000000000000000000000", "group:gsales00000000000000000000:member:user:bob00000000000000000000000",
		// the constrained team's link, and what the SDK expanded from it
		"team:t1000000000000000000000000:member:group:gldap000000000000000000000", "team:t1000000000000000000000000:admin:group:gldap000000000000000000000",
		"team:t1000000000000000000000000:member:user:alice000000000000000000000", "team:t1000000000000000000000000:member:user:bob00000000000000000000000",
		"team:t1000000000000000000000000:admin:user:alice000000000000000000000", "team:t1000000000000000000000000:admin:user:bob00000000000000000000000",
	} {
		if !got[id] {
			t.Errorf("grant %s missing", id)
		}
	}
	for _, id := range []string{
		"group:gcustom0000000000000000000:member:user:dave",
		"team:t2000000000000000000000000:member:group:gsales00000000000000000000",
		"team:t2000000000000000000000000:member:user:bob00000000000000000000000",
	} {
		if got[id] {
			t.Errorf("unexpected grant %s (unconstrained links claim nothing)", id)
		}
	}
	for _, g := range res.Grants {
		annos := annotations.Annotations(g.GetAnnotations())
		immutable := annos.Contains(&v2.GrantImmutable{})
		id := g.GetId()
		wantImmutable := strings.HasPrefix(id, "group:gldap000000000000000000000:") ||
			strings.HasPrefix(id, "group:gsales00000000000000000000:") || strings.HasSuffix(id, ":group:gldap000000000000000000000")
		if immutable != wantImmutable {
			t.Errorf("grant %s immutable = %v, want %v", id, immutable, wantImmutable)
		}
		if strings.HasSuffix(id, ":group:gldap000000000000000000000") {
			exp := &v2.GrantExpandable{}
			if ok, _ := annos.Pick(exp); !ok || fmt.Sprint(exp.GetEntitlementIds()) != "[group:gldap000000000000000000000:member]" {
				t.Errorf("grant %s expandable = %v", id, exp)
			}
		}
	}
	// The expanded team grants say where they come from.
	for _, g := range res.Grants {
		if g.GetId() == "team:t1000000000000000000000000:admin:user:bob00000000000000000000000" {
			if _, ok := g.GetSources().GetSources()["group:gldap000000000000000000000:member"]; !ok {
				t.Errorf("expanded grant %s: sources %v lack group:gldap000000000000000000000:member", g.GetId(), g.GetSources())
			}
		}
	}
	// Only the constrained team's groups were read.
	if n := countRequests(fake, "GET /api/v4/teams/t1000000000000000000000000/groups"); n != 1 {
		t.Errorf("GET /teams/t1000000000000000000000000/groups: %d requests, want 1", n)
	}
	if n := countRequests(fake, "GET /api/v4/teams/t2000000000000000000000000/groups"); n != 0 {
		t.Errorf("GET /teams/t2000000000000000000000000/groups: %d requests, want 0 (not group-constrained)", n)
	}
}

func TestGroupsOnAnUnlicensedServer(t *testing.T) {
	fake := mmfake.New(t)
	seedGroups(fake)
	fake.License = map[string]string{"IsLicensed": "false"}
	constrained := true
	fake.Teams[1].GroupConstrained = &constrained // a leftover of an expired license
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync on an unlicensed server: %v", err)
	}
	if n := len(res.ResourcesOfType("group")); n != 0 {
		t.Errorf("%d groups synced00000000000000000000 without a license", n)
	}
	if n := countRequests(fake, "GET /api/v4/license/client"); n != 1 {
		t.Errorf("license checked %d times, want once", n)
	}
	if n := countRequests(fake, "GET /api/v4/groups"); n != 0 {
		t.Errorf("/groups requested %d times without a license", n)
	}
	if !res.GrantIDs()["team:t1000000000000000000000000:member:user:alice000000000000000000000"] {
		t.Error("team memberships lost when the team's groups cannot be read")
	}

	// One informative line.
	core, logs := observer.New(zap.InfoLevel)
	ctx := ctxzap.ToContext(context.Background(), zap.New(core))
	out, next, err := newGroupSyncer(newTestConnector(t, fake, Options{}).client).List(ctx, nil, resource.SyncOpAttrs{})
	if err != nil || len(out) != 0 || next != nil {
		t.Errorf("List: %v %v %v", out, next, err)
	}
	if logs.Len() != 1 || !strings.Contains(logs.All()[0].Message, "license") {
		t.Errorf("log lines: %v, want one about the license", logs.All())
	}
}

// TestSyncResourceTypesSkipsGroupLinks: with --sync-resource-types team,user
// the links of group-constrained teams are not read, as their groups are not synced.
func TestSyncResourceTypesSkipsGroupLinks(t *testing.T) {
	fake := mmfake.New(t)
	seedGroups(fake)
	types := []string{"team", "user"}
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true, SyncResourceTypes: types}),
		sdksync.WithSyncResourceTypes(types))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if n := countRequests(fake, "GET /api/v4/teams/t1000000000000000000000000/groups"); n != 0 {
		t.Errorf("GET /teams/t1000000000000000000000000/groups requested %d times although groups are not synced00000000000000000000", n)
	}
	for _, r := range []string{"POST /api/v4/roles/names", "GET /api/v4/license/client", "GET /api/v4/users?page=0&per_page=200&role="} {
		if n := countRequests(fake, r); n != 0 {
			t.Errorf("%s requested %d times for types %v", r, n, types)
		}
	}
	if !res.GrantIDs()["team:t1000000000000000000000000:member:user:alice000000000000000000000"] || res.GrantIDs()["team:t1000000000000000000000000:member:group:gldap000000000000000000000"] {
		t.Errorf("team grants: %v", keys(res.GrantIDs()))
	}
}

// TestNewWiresSyncResourceTypes: the CLI's --sync-resource-types reaches the connector.
func TestNewWiresSyncResourceTypes(t *testing.T) {
	conf := &cfg.Mattermost{BaseURL: "https://chat.example.com", APIToken: mmfake.Token}
	for _, tc := range []struct {
		opts *cli.ConnectorOpts
		want bool
	}{
		{nil, true},
		{&cli.ConnectorOpts{}, true},
		{&cli.ConnectorOpts{SyncResourceTypeIDs: []string{"team", "group"}}, true},
		{&cli.ConnectorOpts{SyncResourceTypeIDs: []string{"team", "user"}}, false},
	} {
		cb, _, err := New(context.Background(), conf, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := cb.(*Connector).opts.willSync("group"); got != tc.want {
			t.Errorf("opts %v: willSync(group) = %v, want %v", tc.opts, got, tc.want)
		}
	}
}
