//go:build integration

package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// serverUser and friends are the server's own answers, decoded independently of the connector.
type serverUser struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DeleteAt    int64  `json:"delete_at"`
	IsBot       bool   `json:"is_bot"`
	Roles       string `json:"roles"`
	Email       string `json:"email"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	AuthService string `json:"auth_service"`
	AuthData    string `json:"auth_data"`
}

type serverTeam struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	DeleteAt    int64  `json:"delete_at"`
}

type serverTeamMember struct {
	UserID      string `json:"user_id"`
	DeleteAt    int64  `json:"delete_at"`
	SchemeAdmin bool   `json:"scheme_admin"`
}

// TestSyncMatchesServer compares users, teams and team grants in the c1z with the server's answers.
func TestSyncMatchesServer(t *testing.T) {
	res := syncResult(t, nil)
	a := adminAPI(t)

	users := getAll[serverUser](a, "/users")
	synced := res.ResourcesOfType("user")
	if len(synced) != len(users) {
		t.Errorf("synced %d users, server has %d", len(synced), len(users))
	}
	disabled := 0
	for _, u := range users {
		r := synced[u.ID]
		if r == nil {
			t.Errorf("user %s not synced", u.Username)
			continue
		}
		wantStatus := v2.Status_RESOURCE_STATUS_ENABLED
		if u.DeleteAt > 0 {
			wantStatus = v2.Status_RESOURCE_STATUS_DISABLED
			disabled++
		}
		if got := r.GetStatus().GetStatus(); got != wantStatus {
			t.Errorf("user %s: status %v, want %v", u.Username, got, wantStatus)
		}
		ut, err := resource.GetUserTrait(r)
		if err != nil {
			t.Fatal(err)
		}
		wantType := v2.UserTrait_ACCOUNT_TYPE_HUMAN
		if u.IsBot {
			wantType = v2.UserTrait_ACCOUNT_TYPE_SERVICE
		}
		if ut.GetAccountType() != wantType {
			t.Errorf("user %s: account type %v, want %v", u.Username, ut.GetAccountType(), wantType)
		}
		if ut.GetLogin() != u.Username {
			t.Errorf("user %s: login %q", u.Username, ut.GetLogin())
		}
		if u.Email != "" && (len(ut.GetEmails()) == 0 || ut.GetEmails()[0].GetAddress() != u.Email) {
			t.Errorf("user %s: emails %v, want %s", u.Username, ut.GetEmails(), u.Email)
		}
		fields := r.GetProfile().GetFields()
		if fields["roles"].GetStringValue() != u.Roles || fields["auth_service"].GetStringValue() != u.AuthService {
			t.Errorf("user %s: profile roles %q auth %q, server %q %q", u.Username,
				fields["roles"].GetStringValue(), fields["auth_service"].GetStringValue(), u.Roles, u.AuthService)
		}
	}
	if disabled == 0 {
		t.Error("the seeded server has no deactivated user: the test proves nothing about DISABLED")
	}

	teams := getAll[serverTeam](a, "/teams")
	syncedTeams := res.ResourcesOfType("team")
	wantGrants := map[string]bool{}
	archived, admins := 0, 0
	for _, team := range teams {
		if team.DeleteAt > 0 {
			archived++
			if syncedTeams[team.ID] != nil {
				t.Errorf("archived team %s synced by default", team.DisplayName)
			}
			continue
		}
		if syncedTeams[team.ID] == nil {
			t.Errorf("team %s not synced", team.DisplayName)
			continue
		}
		for _, m := range getAll[serverTeamMember](a, "/teams/"+team.ID+"/members") {
			if m.DeleteAt > 0 {
				continue
			}
			wantGrants[fmt.Sprintf("team:%s:member:user:%s", team.ID, m.UserID)] = true
			if m.SchemeAdmin {
				admins++
				wantGrants[fmt.Sprintf("team:%s:admin:user:%s", team.ID, m.UserID)] = true
			}
		}
	}
	if archived == 0 || admins == 0 {
		t.Errorf("seed lacks an archived team (%d) or team admins (%d)", archived, admins)
	}
	if len(syncedTeams) != len(teams)-archived {
		t.Errorf("synced %d teams, want %d", len(syncedTeams), len(teams)-archived)
	}
	gotGrants := map[string]bool{}
	for id := range res.GrantIDs() {
		if strings.HasPrefix(id, "team:") {
			gotGrants[id] = true
		}
	}
	if missing, extra := diffSets(wantGrants, gotGrants); len(missing)+len(extra) > 0 {
		t.Errorf("team grants differ from the server's memberships:\nmissing %v\nextra %v", missing, extra)
	}
}

// TestLeftMemberHasNoGrant checks that a member who left a team (its membership row has
// delete_at > 0) holds no grant for it.
func TestLeftMemberHasNoGrant(t *testing.T) {
	res := syncResult(t, nil)
	a := adminAPI(t)
	grants := res.GrantIDs()
	found := 0
	for _, team := range getAll[serverTeam](a, "/teams") {
		if team.DeleteAt > 0 {
			continue
		}
		for _, u := range getAll[serverUser](a, "/users") {
			var m serverTeamMember
			if a.do("GET", "/teams/"+team.ID+"/members/"+u.ID, nil, &m) != 200 || m.DeleteAt == 0 {
				continue
			}
			found++
			if id := fmt.Sprintf("team:%s:member:user:%s", team.ID, u.ID); grants[id] {
				t.Errorf("%s left %s but holds %s", u.Username, team.DisplayName, id)
			}
		}
	}
	if found == 0 {
		t.Fatal("the seeded server has no member who left a team")
	}
}

func TestArchivedTeamsOnRequest(t *testing.T) {
	res := syncResult(t, nil, "--include-archived-teams")
	for _, team := range getAll[serverTeam](adminAPI(t), "/teams") {
		r := res.ResourcesOfType("team")[team.ID]
		if r == nil {
			t.Errorf("team %s missing with --include-archived-teams", team.DisplayName)
			continue
		}
		if got := r.GetProfile().GetFields()["archived"].GetBoolValue(); got != (team.DeleteAt > 0) {
			t.Errorf("team %s archived=%v, server delete_at=%d", team.DisplayName, got, team.DeleteAt)
		}
	}
}

func TestRejectedTokenExits16(t *testing.T) {
	r := runConnector(t, map[string]string{"BATON_API_TOKEN": "notavalidtoken0000000000aa"}, "-f", t.TempDir()+"/x.c1z")
	if r.ExitCode != 16 || !strings.Contains(r.Stderr, "api-token was rejected by the Mattermost server at "+server["MM_URL"]) {
		t.Fatalf("exit %d, stderr:\n%s", r.ExitCode, tail(r.Stderr, 2000))
	}
	if strings.Contains(r.Stdout+r.Stderr, "notavalidtoken0000000000aa") {
		t.Error("the rejected token appears in the output")
	}
}

func TestNonAdminTokenExits7(t *testing.T) {
	r := runConnector(t, map[string]string{"BATON_API_TOKEN": server["MM_USER_TOKEN"]}, "-f", t.TempDir()+"/x.c1z")
	if r.ExitCode != 7 {
		t.Fatalf("exit %d, want 7; stderr:\n%s", r.ExitCode, tail(r.Stderr, 2000))
	}
	for _, want := range []string{server["MM_USER_USERNAME"], "System Admin", "manage_system"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, tail(r.Stderr, 2000))
		}
	}
}

// TestBotAdminTokenSyncs checks that a System Admin bot's token works as well as a person's.
func TestBotAdminTokenSyncs(t *testing.T) {
	res := syncResult(t, map[string]string{"BATON_API_TOKEN": server["MM_BOT_ADMIN_TOKEN"]})
	if len(res.ResourcesOfType("user")) == 0 || len(res.ResourcesOfType("team")) == 0 {
		t.Fatal("bot token synced no users or teams")
	}
}

func diffSets(want, got map[string]bool) ([]string, []string) {
	return sortedMissing(want, got), sortedMissing(got, want)
}

// sortedMissing lists the keys of a that b lacks.
func sortedMissing(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
