package connector

import (
	"fmt"
	"slices"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

func newTestConnector(t *testing.T, fake *mmfake.Server, opts Options) *Connector {
	t.Helper()
	client, err := mattermost.New(mattermost.Config{BaseURL: fake.URL, Token: mmfake.Token})
	if err != nil {
		t.Fatal(err)
	}
	return NewWithClient(client, opts)
}

// seedSmallOrg gives the fake a handful of accounts of every kind and two teams.
func seedSmallOrg(fake *mmfake.Server) {
	fake.Users = append(fake.Users,
		mmfake.User{ID: "alice", Username: "alice", FirstName: "Alice", LastName: "Archer", Email: "alice@example.com", Roles: "system_user", CreateAt: 1_700_000_000_000},
		mmfake.User{ID: "bob", Username: "bob", Email: "bob@example.com", Roles: "system_user", DeleteAt: 1_710_000_000_000},
		mmfake.User{ID: "robot", Username: "robot", Roles: "system_user", IsBot: true},
		mmfake.User{ID: "gina", Username: "gina", Email: "gina@example.com", Roles: "system_guest", AuthService: "saml", MFAActive: true},
	)
	fake.Teams = []mmfake.Team{
		{ID: "t1", Name: "eng", DisplayName: "Engineering", Type: "O", AllowOpenInvite: true},
		{ID: "t2", Name: "sales", DisplayName: "Sales", Type: "I"},
		{ID: "t3", Name: "old", DisplayName: "Old", Type: "I", DeleteAt: 1_720_000_000_000},
	}
	fake.AddTeamMember("t1", "alice", true, false)
	fake.AddTeamMember("t1", "bob", false, false)
	fake.AddTeamMember("t1", "gina", false, true)
	fake.AddTeamMember("t2", "robot", false, false)
	fake.AddTeamMember("t3", "alice", false, false)
	fake.TeamMembers["t2"] = append(fake.TeamMembers["t2"], mmfake.TeamMember{TeamID: "t2", Member: mmfake.Member{UserID: "alice", SchemeUser: true}, DeleteAt: 1})
}

func TestSyncUsersTeamsAndGrants(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}

	users := res.ResourcesOfType("user")
	if len(users) != 5 {
		t.Fatalf("users: got %d, want 5", len(users))
	}
	checkUser := func(id string, wantStatus v2.Status_ResourceStatus, wantType v2.UserTrait_AccountType) {
		t.Helper()
		r := users[id]
		if r == nil {
			t.Fatalf("user %s missing", id)
		}
		if got := r.GetStatus().GetStatus(); got != wantStatus {
			t.Errorf("user %s resource status = %v, want %v", id, got, wantStatus)
		}
		ut, err := resource.GetUserTrait(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := ut.GetStatus().GetStatus(); int32(got) != int32(wantStatus) { //nolint:staticcheck // the legacy trait status must match the resource status
			t.Errorf("user %s trait status = %v, want %v", id, got, wantStatus)
		}
		if got := ut.GetAccountType(); got != wantType {
			t.Errorf("user %s account type = %v, want %v", id, got, wantType)
		}
	}
	checkUser("alice", v2.Status_RESOURCE_STATUS_ENABLED, v2.UserTrait_ACCOUNT_TYPE_HUMAN)
	checkUser("bob", v2.Status_RESOURCE_STATUS_DISABLED, v2.UserTrait_ACCOUNT_TYPE_HUMAN)
	checkUser("robot", v2.Status_RESOURCE_STATUS_ENABLED, v2.UserTrait_ACCOUNT_TYPE_SERVICE)
	if got := users["alice"].GetDisplayName(); got != "Alice Archer" {
		t.Errorf("alice display name = %q", got)
	}
	if got := users["bob"].GetDisplayName(); got != "bob" {
		t.Errorf("bob display name = %q, want the username", got)
	}
	gina, _ := resource.GetUserTrait(users["gina"])
	if !gina.GetMfaStatus().GetMfaEnabled() || !gina.GetSsoStatus().GetSsoEnabled() {
		t.Errorf("gina: want MFA and SSO on, got %v %v", gina.GetMfaStatus(), gina.GetSsoStatus())
	}
	if got := users["gina"].GetProfile().GetFields()["roles"].GetStringValue(); got != "system_guest" {
		t.Errorf("gina roles on profile = %q", got)
	}

	teams := res.ResourcesOfType("team")
	if len(teams) != 2 || teams["t1"] == nil || teams["t2"] == nil {
		t.Fatalf("teams: got %v, want t1 and t2 (archived t3 skipped)", keys(teams))
	}
	if got := teams["t1"].GetProfile().GetFields()["type"].GetStringValue(); got != "open" {
		t.Errorf("t1 type = %q", got)
	}

	want := map[string]bool{
		"team:t1:member:user:alice": true, "team:t1:admin:user:alice": true,
		"team:t1:member:user:bob": true, "team:t1:member:user:gina": true,
		"team:t2:member:user:robot": true,
	}
	got := res.GrantIDsOn("team")
	if fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
		t.Errorf("grants:\n got %v\nwant %v", keys(got), keys(want))
	}
	for _, g := range res.Grants {
		md := &v2.GrantMetadata{}
		annos := annotations.Annotations(g.GetAnnotations())
		isGuest, _ := annos.Pick(md)
		wantGuest := g.GetId() == "team:t1:member:user:gina"
		if isGuest != wantGuest || (isGuest && !md.GetMetadata().GetFields()["guest"].GetBoolValue()) {
			t.Errorf("grant %s guest metadata = %v, want %v", g.GetId(), isGuest, wantGuest)
		}
	}
	if n := len(res.EntitlementsOn("team")); n != 4 {
		t.Errorf("entitlements: got %d, want 4 (member and admin of two teams)", n)
	}
}

func TestSyncIncludesArchivedTeamsWhenAsked(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{IncludeArchivedTeams: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	old := res.ResourcesOfType("team")["t3"]
	if old == nil {
		t.Fatal("archived team t3 not synced with IncludeArchivedTeams")
	}
	if !old.GetProfile().GetFields()["archived"].GetBoolValue() || old.GetStatus().GetStatus() != v2.Status_RESOURCE_STATUS_DISABLED {
		t.Errorf("t3 not marked archived: %v", old.GetProfile())
	}
	if !res.GrantIDs()["team:t3:member:user:alice"] {
		t.Error("archived team's membership grant missing")
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
