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
		mmfake.User{ID: "alice000000000000000000000", Username: "alice", FirstName: "Alice", LastName: "Archer", Email: "alice@example.com", Roles: "system_user", CreateAt: 1_700_000_000_000},
		mmfake.User{ID: "bob00000000000000000000000", Username: "bob", Email: "bob@example.com", Roles: "system_user", DeleteAt: 1_710_000_000_000},
		mmfake.User{ID: "robot000000000000000000000", Username: "robot", Roles: "system_user", IsBot: true},
		mmfake.User{ID: "gina0000000000000000000000", Username: "gina", Email: "gina@example.com", Roles: "system_guest", AuthService: "saml", MFAActive: true},
	)
	fake.Teams = []mmfake.Team{
		{ID: "t1000000000000000000000000", Name: "eng", DisplayName: "Engineering", Type: "O", AllowOpenInvite: true},
		{ID: "t2000000000000000000000000", Name: "sales", DisplayName: "Sales", Type: "I"},
		{ID: "t3000000000000000000000000", Name: "old", DisplayName: "Old", Type: "I", DeleteAt: 1_720_000_000_000},
	}
	fake.AddTeamMember("t1000000000000000000000000", "alice000000000000000000000", true, false)
	fake.AddTeamMember("t1000000000000000000000000", "bob00000000000000000000000", false, false)
	fake.AddTeamMember("t1000000000000000000000000", "gina0000000000000000000000", false, true)
	fake.AddTeamMember("t2000000000000000000000000", "robot000000000000000000000", false, false)
	fake.AddTeamMember("t3000000000000000000000000", "alice000000000000000000000", false, false)
	fake.TeamMembers["t2000000000000000000000000"] = append(fake.TeamMembers["t2000000000000000000000000"], mmfake.TeamMember{TeamID: "t2000000000000000000000000",
		Member: mmfake.Member{UserID: "alice000000000000000000000", SchemeUser: true}, DeleteAt: 1})
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
	checkUser("alice000000000000000000000", v2.Status_RESOURCE_STATUS_ENABLED, v2.UserTrait_ACCOUNT_TYPE_HUMAN)
	checkUser("bob00000000000000000000000", v2.Status_RESOURCE_STATUS_DISABLED, v2.UserTrait_ACCOUNT_TYPE_HUMAN)
	checkUser("robot000000000000000000000", v2.Status_RESOURCE_STATUS_ENABLED, v2.UserTrait_ACCOUNT_TYPE_SERVICE)
	if got := users["alice000000000000000000000"].GetDisplayName(); got != "Alice Archer" {
		t.Errorf("alice000000000000000000000 display name = %q", got)
	}
	if got := users["bob00000000000000000000000"].GetDisplayName(); got != "bob" {
		t.Errorf("bob00000000000000000000000 display name = %q, want the username", got)
	}
	gina, _ := resource.GetUserTrait(users["gina0000000000000000000000"])
	if !gina.GetMfaStatus().GetMfaEnabled() || !gina.GetSsoStatus().GetSsoEnabled() {
		t.Errorf("gina0000000000000000000000: want MFA and SSO on, got %v %v", gina.GetMfaStatus(), gina.GetSsoStatus())
	}
	if got := users["gina0000000000000000000000"].GetProfile().GetFields()["roles"].GetStringValue(); got != "system_guest" {
		t.Errorf("gina0000000000000000000000 roles on profile = %q", got)
	}

	teams := res.ResourcesOfType("team")
	if len(teams) != 2 || teams["t1000000000000000000000000"] == nil || teams["t2000000000000000000000000"] == nil {
		t.Fatalf("teams: got %v, want t1000000000000000000000000 and t2000000000000000000000000 (archived t3000000000000000000000000 skipped)", keys(teams))
	}
	if got := teams["t1000000000000000000000000"].GetProfile().GetFields()["type"].GetStringValue(); got != "open" {
		t.Errorf("t1000000000000000000000000 type = %q", got)
	}

	want := map[string]bool{
		"team:t1000000000000000000000000:member:user:alice000000000000000000000": true, "team:t1000000000000000000000000:admin:user:alice000000000000000000000": true,
		"team:t1000000000000000000000000:member:user:bob00000000000000000000000": true, "team:t1000000000000000000000000:member:user:gina0000000000000000000000": true,
		"team:t2000000000000000000000000:member:user:robot000000000000000000000": true,
	}
	got := res.GrantIDsOn("team")
	if fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
		t.Errorf("grants:\n got %v\nwant %v", keys(got), keys(want))
	}
	for _, g := range res.Grants {
		md := &v2.GrantMetadata{}
		annos := annotations.Annotations(g.GetAnnotations())
		isGuest, _ := annos.Pick(md)
		wantGuest := g.GetId() == "team:t1000000000000000000000000:member:user:gina0000000000000000000000"
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
	old := res.ResourcesOfType("team")["t3000000000000000000000000"]
	if old == nil {
		t.Fatal("archived team t3000000000000000000000000 not synced00000000000000000000 with IncludeArchivedTeams")
	}
	if !old.GetProfile().GetFields()["archived"].GetBoolValue() || old.GetStatus().GetStatus() != v2.Status_RESOURCE_STATUS_DISABLED {
		t.Errorf("t3000000000000000000000000 not marked archived: %v", old.GetProfile())
	}
	if !res.GrantIDs()["team:t3000000000000000000000000:member:user:alice000000000000000000000"] {
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
