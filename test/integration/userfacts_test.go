//go:build integration

package integration

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// reportRow is the part of a /reports/users row these tests compare.
type reportRow struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	LastLogin int64  `json:"last_login"`
}

// lastLogins walks the server's whole user report and returns last logins by user id.
func lastLogins(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	q := url.Values{"page_size": {"100"}}
	for {
		var rows []reportRow
		adminAPI(t).get("/reports/users?"+q.Encode(), &rows)
		for _, r := range rows {
			out[r.ID] = r.LastLogin
		}
		if len(rows) < 100 {
			return out
		}
		q.Set("from_column_value", rows[len(rows)-1].Username)
		q.Set("from_id", rows[len(rows)-1].ID)
	}
}

// login signs a user in with their password, which is what sets last_login.
func login(t *testing.T, username, password string) {
	t.Helper()
	if _, code := signIn(t, username, password); code != http.StatusOK {
		t.Fatalf("login as %s: HTTP %d", username, code)
	}
}

// TestLastLoginMatchesReport: every synced user's last login is what the
// server's user report says, and a fresh login shows up.
func TestLastLoginMatchesReport(t *testing.T) {
	loginUser := adminAPI(t).userByName(server["MM_LOGIN_USERNAME"])
	before := lastLogins(t)[loginUser.ID]
	login(t, server["MM_LOGIN_USERNAME"], server["MM_LOGIN_PASSWORD"])
	want := lastLogins(t)
	if want[loginUser.ID] <= before {
		t.Fatalf("the server's report did not record the login: %d, before %d", want[loginUser.ID], before)
	}

	res := syncResult(t, nil)
	users := res.ResourcesOfType("user")
	withLogin := 0
	for _, u := range getAll[serverUser](adminAPI(t), "/users") {
		r := users[u.ID]
		if r == nil {
			t.Errorf("user %s not synced", u.Username)
			continue
		}
		trait, err := resource.GetUserTrait(r)
		if err != nil {
			t.Fatal(err)
		}
		got := int64(0)
		if ll := trait.GetLastLogin(); ll != nil {
			got = ll.AsTime().UnixMilli()
			withLogin++
		}
		if got != want[u.ID] {
			t.Errorf("%s (bot %v): last login %d, server's report %d", u.Username, u.IsBot, got, want[u.ID])
		}
	}
	if withLogin < 2 {
		t.Errorf("only %d users with a last login: the comparison proves little", withLogin)
	}

	res = syncResult(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"})
	for id, r := range res.ResourcesOfType("user") {
		if trait, _ := resource.GetUserTrait(r); trait.GetLastLogin() != nil {
			t.Errorf("user %s has a last login with skip-last-login", id)
		}
	}
}

// TestUserFactsOnProfile: guests, SSO, MFA and remote users are told apart
// on the user trait and profile as the server reports them.
func TestUserFactsOnProfile(t *testing.T) {
	type fullUser struct {
		serverUser
		MFAActive bool   `json:"mfa_active"`
		RemoteID  string `json:"remote_id"`
	}
	res := syncResult(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"})
	users := res.ResourcesOfType("user")
	sso := 0
	for _, u := range getAll[fullUser](adminAPI(t), "/users") {
		r := users[u.ID]
		trait, err := resource.GetUserTrait(r)
		if err != nil {
			t.Fatal(err)
		}
		f := r.GetProfile().GetFields()
		if got := trait.GetSsoStatus().GetSsoEnabled(); got != (u.AuthService != "") {
			t.Errorf("%s: SSO %v, auth_service %q", u.Username, got, u.AuthService)
		}
		if u.AuthService != "" {
			sso++
		}
		if got := trait.GetMfaStatus().GetMfaEnabled(); got != u.MFAActive {
			t.Errorf("%s: MFA %v, server %v", u.Username, got, u.MFAActive)
		}
		if f["is_guest"].GetBoolValue() != strings.Contains(u.Roles, "system_guest") ||
			f["is_remote"].GetBoolValue() != (u.RemoteID != "") || f["auth_service"].GetStringValue() != u.AuthService {
			t.Errorf("%s: profile %v disagrees with the server's %+v", u.Username, f, u)
		}
	}
	if sso == 0 {
		t.Error("no SSO user on the server: the comparison proves little")
	}
}

// TestGroupsOnUnlicensedServer: the local server has no license, so there
// are no groups; that costs one log line, not a failure.
func TestGroupsOnUnlicensedServer(t *testing.T) {
	var lic map[string]string
	adminAPI(t).get("/license/client?format=old", &lic)
	if lic["IsLicensed"] != "false" {
		t.Skip("the server is licensed")
	}
	path := filepath.Join(t.TempDir(), "sync.c1z")
	r := runConnector(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"}, "-f", path)
	if r.ExitCode != 0 {
		t.Fatalf("sync exited %d:\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	if n := strings.Count(r.Stderr, "no user groups synced"); n != 1 {
		t.Errorf("%d log lines about groups, want 1:\n%s", n, tail(r.Stderr, 3000))
	}
	if n := len(synctest.Read(t, path).ResourcesOfType("group")); n != 0 {
		t.Errorf("%d groups on an unlicensed server", n)
	}
}
