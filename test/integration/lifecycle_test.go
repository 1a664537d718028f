//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/config"
	"github.com/baton-mattermost/baton-mattermost/pkg/connector"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/types/known/structpb"
)

// lifecycle drives the account lifecycle: the binary's one-shot account
// creation and user actions, and the server's own answers to check them.
type lifecycle struct {
	t     *testing.T
	admin *api
}

func newLifecycle(t *testing.T) *lifecycle { return &lifecycle{t: t, admin: adminAPI(t)} }

// unique returns prefix plus a random suffix: the server outlives test runs.
func (l *lifecycle) unique(prefix string) string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		l.t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// createAccount runs `baton-mattermost --create-account-profile <profile>`.
func (l *lifecycle) createAccount(profile map[string]any) Run {
	l.t.Helper()
	js, err := json.Marshal(profile)
	if err != nil {
		l.t.Fatal(err)
	}
	return runConnector(l.t, nil, "-f", filepath.Join(l.t.TempDir(), "sync.c1z"), "--create-account-profile", string(js))
}

// invoke runs a user action with the binary and returns the run and the
// action's result.
func (l *lifecycle) invoke(action, userID string) (Run, map[string]*structpb.Value) {
	l.t.Helper()
	r := runConnector(l.t, nil, "-f", filepath.Join(l.t.TempDir(), "sync.c1z"), "--invoke-action", action,
		"--invoke-action-resource-type", "user", "--invoke-action-args", `{"user_id":"`+userID+`"}`)
	return r, actionResult(l.t, action+" "+userID, r)
}

// actionResult reads an action's result from the CLI's "ActionInvoke
// response" log line (a failed action's error is in its "error" field).
func actionResult(t *testing.T, what string, r Run) map[string]*structpb.Value {
	t.Helper()
	var result *structpb.Struct
	sc := bufio.NewScanner(strings.NewReader(r.Stderr))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg  string `json:"msg"`
			Resp string `json:"resp"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "ActionInvoke response" || line.Resp == "" {
			continue
		}
		result = &structpb.Struct{}
		if err := prototext.Unmarshal([]byte(line.Resp), result); err != nil {
			t.Fatalf("%s: reading the action result %q: %v", what, line.Resp, err)
		}
	}
	if result == nil {
		t.Fatalf("%s: no action result in the output (exit %d)\nstderr:\n%s", what, r.ExitCode, tail(r.Stderr, 3000))
	}
	return result.GetFields()
}

// wantChange checks a successful action's result.
func (l *lifecycle) wantChange(action string, r Run, rv map[string]*structpb.Value, changed bool, status, msg string) {
	l.t.Helper()
	if r.ExitCode != 0 || !rv["success"].GetBoolValue() || rv["changed"].GetBoolValue() != changed ||
		rv["status"].GetStringValue() != status || !strings.Contains(rv["message"].GetStringValue(), msg) {
		l.t.Fatalf("%s: exit %d, result %v; want changed=%v status=%s message containing %q", action, r.ExitCode, rv, changed, status, msg)
	}
}

// createdByEmail fetches an account the test had created, and retires it when the test ends.
func (l *lifecycle) createdByEmail(email string) serverUser {
	l.t.Helper()
	var u serverUser
	l.admin.get("/users/email/"+email, &u)
	l.retire(u.ID, false)
	return u
}

func (l *lifecycle) user(id string) serverUser {
	l.t.Helper()
	var u serverUser
	l.admin.get("/users/"+id, &u)
	return u
}

// retire deactivates an account the test made once the test ends: an
// unlicensed server refuses new and re-activated accounts beyond 250 active
// users, and the local server outlives test runs. DELETE /users/{id} is the
// soft deactivation that also works for LDAP accounts; bots use their own API.
func (l *lifecycle) retire(id string, bot bool) {
	l.t.Cleanup(func() {
		method, path := http.MethodDelete, "/users/"+id
		if bot {
			method, path = http.MethodPost, "/bots/"+id+"/disable"
		}
		if code := l.admin.do(method, path, nil, nil); code != http.StatusOK {
			l.t.Logf("cleanup: %s %s: HTTP %d", method, path, code)
		}
	})
}

// newPasswordUser creates a fixture account with the admin API and a known password.
func (l *lifecycle) newPasswordUser(prefix string) (serverUser, string) {
	l.t.Helper()
	name := l.unique(prefix)
	password := "Lc-" + l.unique("pw") + "-Aa1!"
	var u serverUser
	if code := l.admin.do(http.MethodPost, "/users", map[string]any{"email": name + "@example.com", "username": name,
		"password": password, "email_verified": true, "disable_welcome_email": true}, &u); code != http.StatusCreated {
		l.t.Fatalf("creating fixture user %s: HTTP %d", name, code)
	}
	l.retire(u.ID, false)
	return u, password
}

// signIn logs in with a password (POST /users/login) and returns the session
// token from the Token header, or "" and the HTTP status.
func signIn(t *testing.T, loginID, password string) (string, int) {
	t.Helper()
	b, err := json.Marshal(map[string]string{"login_id": loginID, "password": password})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(server["MM_URL"]+"/api/v4/users/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.Header.Get("Token"), resp.StatusCode
}

// meStatus is the status of GET /users/me with a token: 200 while it works, 401 once revoked.
func (l *lifecycle) meStatus(token string) int {
	l.t.Helper()
	return (&api{t: l.t, token: token}).do(http.MethodGet, "/users/me", nil, nil)
}

// accessToken creates a personal access token for a user.
func (l *lifecycle) accessToken(userID string) string {
	l.t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	if code := l.admin.do(http.MethodPost, "/users/"+userID+"/tokens", map[string]string{"description": "lifecycle test"}, &tok); code != http.StatusOK {
		l.t.Fatalf("creating a personal access token: HTTP %d", code)
	}
	return tok.Token
}

// welcomeAttempts counts the server's log lines about welcome e-mails to
// accounts created by an admin. The local server has e-mail off, so each
// attempt logs "Failed to send welcome email to the new user, created by system admin".
func welcomeAttempts(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(server["MM_SERVER_LOG"])
	if err != nil {
		t.Fatalf("reading the server log: %v", err)
	}
	return strings.Count(string(data), "Failed to send welcome email to the new user, created by system admin")
}

func TestLifecycleCreateAccountThroughTheBinary(t *testing.T) {
	l := newLifecycle(t)
	if server["MM_SERVER_LOG"] == "" {
		t.Fatal("server.env lacks MM_SERVER_LOG")
	}
	welcomeBefore := welcomeAttempts(t)

	// SSO account, welcome e-mail off. The CLI always asks for a random
	// password; auth_service in the profile makes an account without one.
	ssoName := l.unique("lc.sso.")
	r := l.createAccount(map[string]any{"email": ssoName + "@example.com", "auth_service": "saml",
		"auth_data": ssoName + "-idp", "disable_welcome_email": true})
	if r.ExitCode != 0 {
		t.Fatalf("SSO create: exit %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	sso := l.createdByEmail(ssoName + "@example.com")
	if sso.AuthService != "saml" || sso.AuthData != ssoName+"-idp" || sso.Username != ssoName {
		t.Errorf("SSO account on the server: %+v", sso)
	}
	if _, code := signIn(t, sso.Email, "any-password-1A!"); code == http.StatusOK {
		t.Error("the SSO account accepts a password")
	}

	// E-mail account with a random password, username derived from the e-mail, welcome e-mail on.
	name := l.unique("lc.new.")
	email := "Lc.New." + strings.TrimPrefix(name, "lc.new.") + "+tag@Example.com"
	r = l.createAccount(map[string]any{"email": email, "first_name": "Lena", "last_name": "Cycle"})
	if r.ExitCode != 0 {
		t.Fatalf("create: exit %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	created := l.createdByEmail(strings.ToLower(email))
	if created.Username != name || created.FirstName != "Lena" || created.LastName != "Cycle" || created.AuthService != "" ||
		created.Roles != "system_user" || created.DeleteAt != 0 {
		t.Errorf("new account on the server: %+v (want username %s)", created, name)
	}
	if !strings.Contains(r.Stderr, `"user_id":"`+created.ID+`"`) || !strings.Contains(r.Stderr, "created account") {
		t.Errorf("the binary's output does not report the new account %s:\n%s", created.ID, tail(r.Stderr, 2000))
	}

	// Exactly one welcome e-mail attempt: for the password account, none for the SSO one,
	// which was created first and would have logged first.
	deadline := time.Now().Add(20 * time.Second)
	for welcomeAttempts(t) < welcomeBefore+1 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if got := welcomeAttempts(t) - welcomeBefore; got != 1 {
		t.Errorf("welcome e-mail attempts: %d, want 1 (on for the password account, off for the SSO account)", got)
	}

	// Creating it again reports the existing account and creates nothing.
	r = l.createAccount(map[string]any{"email": strings.ToLower(email), "username": name})
	if r.ExitCode != 0 || !strings.Contains(r.Stderr, "already exists") || !strings.Contains(r.Stderr, created.ID) {
		t.Fatalf("create again: exit %d, want success reporting the existing account %s\n%s", r.ExitCode, created.ID, tail(r.Stderr, 3000))
	}
	r = l.createAccount(map[string]any{"email": strings.ToLower(email)})
	if r.ExitCode != 0 || !strings.Contains(r.Stderr, "already exists") {
		t.Fatalf("create again with a derived username: exit %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	if code := l.admin.do(http.MethodGet, "/users/username/"+name+"2", nil, nil); code != http.StatusNotFound {
		t.Errorf("a second account %s2 was created (HTTP %d)", name, code)
	}

	// The username of this account, asked for with another e-mail address, is refused.
	r = l.createAccount(map[string]any{"email": l.unique("lc.other.") + "@example.com", "username": name})
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "is taken by another Mattermost account") {
		t.Errorf("taken username: exit %d, want a failure naming the taken username\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	// ... while a username derived from such an address is varied.
	otherEmail := name + "@other.example.com"
	r = l.createAccount(map[string]any{"email": otherEmail})
	if r.ExitCode != 0 {
		t.Fatalf("derived taken username: exit %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	if u := l.createdByEmail(otherEmail); u.Username != name+"2" {
		t.Errorf("derived username for %s = %q, want %s2", otherEmail, u.Username, name)
	}
}

// The CLI's one-shot --create-account-* always asks for a random password and
// encrypts the returned credentials to a key it generates and throws away, so
// the password never reaches the binary's output. The password, and the other
// credential options C1 can choose, are tested through C1's path instead: the
// connector over gRPC, with our own key.
func TestLifecycleCreateAccountOverGRPC(t *testing.T) {
	l := newLifecycle(t)
	ctx := context.Background()
	cb, _, err := connector.New(ctx, &config.Mattermost{BaseURL: server["MM_URL"], APIToken: server["MM_ADMIN_TOKEN"]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cc := synctest.Serve(t, ctx, cb)

	// Random password: returned encrypted, and it signs in.
	email := l.unique("lc.pw.") + "@example.com"
	resp, plain, err := synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, email, "", map[string]any{"first_name": "Pat"}),
		synctest.RandomPassword(20))
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 1 || plain[0].GetName() != "password" {
		t.Fatalf("want one password credential, got %d", len(plain))
	}
	created := l.createdByEmail(email)
	if got := resp.GetSuccess().GetResource().GetId().GetResource(); got != created.ID {
		t.Fatalf("response names user %q, the server has %q", got, created.ID)
	}
	token, code := signIn(t, email, string(plain[0].GetBytes()))
	if code != http.StatusOK || token == "" {
		t.Fatalf("login with the generated password: HTTP %d", code)
	}
	var me serverUser
	(&api{t: t, token: token}).get("/users/me", &me)
	if me.ID != created.ID {
		t.Errorf("signed in as %s, want %s", me.ID, created.ID)
	}
	if _, code := signIn(t, email, string(plain[0].GetBytes())+"x"); code != http.StatusUnauthorized {
		t.Errorf("login with a wrong password: HTTP %d, want 401", code)
	}

	// No password: an SSO account from the profile; without auth_service it is refused.
	noPassword := v2.CredentialOptions_builder{NoPassword: &v2.CredentialOptions_NoPassword{}}.Build()
	email = l.unique("lc.oidc.") + "@example.com"
	resp, plain, err = synctest.CreateAccount(t, ctx, cc,
		synctest.AccountInfo(t, email, "", map[string]any{"auth_service": "openid", "auth_data": "sub-" + email}), noPassword)
	if err != nil || resp.GetSuccess() == nil || len(plain) != 0 {
		t.Fatalf("no-password SSO account: %v, %v, %d credentials", resp, err, len(plain))
	}
	if u := l.createdByEmail(email); u.AuthService != "openid" || u.AuthData != "sub-"+email {
		t.Errorf("no-password account on the server: %+v", u)
	}
	refused := l.unique("lc.refused.") + "@example.com"
	if _, _, err := synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, refused, "", nil), noPassword); status.Code(err) != codes.InvalidArgument {
		t.Errorf("no password for an e-mail account: err = %v, want InvalidArgument", err)
	}
	if code := l.admin.do(http.MethodGet, "/users/email/"+refused, nil, nil); code != http.StatusNotFound {
		t.Errorf("the refused account exists (HTTP %d)", code)
	}

	// SSO option naming the service.
	sso := v2.CredentialOptions_builder{Sso: v2.CredentialOptions_SSO_builder{SsoProvider: "gitlab"}.Build()}.Build()
	// auth_data is unique on the server, and accounts outlive test runs.
	gitlabID := l.unique("4242")
	email = l.unique("lc.gitlab.") + "@example.com"
	if _, _, err := synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, email, "", map[string]any{"auth_data": gitlabID}), sso); err != nil {
		t.Fatal(err)
	}
	if u := l.createdByEmail(email); u.AuthService != "gitlab" || u.AuthData != gitlabID {
		t.Errorf("SSO-option account on the server: %+v", u)
	}
}

func TestLifecycleDisableAndEnable(t *testing.T) {
	l := newLifecycle(t)
	u, password := l.newPasswordUser("lc.off.")
	session, code := signIn(t, u.Username, password)
	if code != http.StatusOK {
		t.Fatalf("fixture login: HTTP %d", code)
	}
	pat := l.accessToken(u.ID)
	if l.meStatus(session) != http.StatusOK || l.meStatus(pat) != http.StatusOK {
		t.Fatal("fixture tokens do not work")
	}

	r, rv := l.invoke("disable_user", u.ID)
	l.wantChange("disable_user", r, rv, true, "disabled", `deactivated user "`+u.Username)
	if got := l.user(u.ID).DeleteAt; got == 0 {
		t.Fatal("the server still has the user active")
	}
	if l.meStatus(session) != http.StatusUnauthorized || l.meStatus(pat) != http.StatusUnauthorized {
		t.Errorf("after disable_user: session HTTP %d, access token HTTP %d, want 401 for both", l.meStatus(session), l.meStatus(pat))
	}
	if _, code := signIn(t, u.Username, password); code == http.StatusOK {
		t.Error("a deactivated user can still sign in")
	}
	if st := syncResult(t, nil).ResourcesOfType("user")[u.ID].GetStatus().GetStatus(); st != v2.Status_RESOURCE_STATUS_DISABLED {
		t.Errorf("next sync: status %v, want DISABLED", st)
	}

	r, rv = l.invoke("disable_user", u.ID)
	l.wantChange("disable_user again", r, rv, false, "disabled", "already disabled")

	r, rv = l.invoke("enable_user", u.ID)
	l.wantChange("enable_user", r, rv, true, "enabled", `re-activated user "`+u.Username)
	if st := syncResult(t, nil).ResourcesOfType("user")[u.ID].GetStatus().GetStatus(); st != v2.Status_RESOURCE_STATUS_ENABLED {
		t.Errorf("sync after enable_user: status %v, want ENABLED", st)
	}
	if _, code := signIn(t, u.Username, password); code != http.StatusOK {
		t.Errorf("login after enable_user: HTTP %d", code)
	}
	r, rv = l.invoke("enable_user", u.ID)
	l.wantChange("enable_user again", r, rv, false, "enabled", "already enabled")
}

func TestLifecycleRevokeSessions(t *testing.T) {
	l := newLifecycle(t)
	u, password := l.newPasswordUser("lc.sess.")
	web, _ := signIn(t, u.Username, password)
	mobile, _ := signIn(t, u.Email, password)
	pat := l.accessToken(u.ID)
	for _, tok := range []string{web, mobile, pat} {
		if l.meStatus(tok) != http.StatusOK {
			t.Fatal("fixture tokens do not work")
		}
	}

	r, rv := l.invoke("revoke_sessions", u.ID)
	l.wantChange("revoke_sessions", r, rv, true, "enabled", "personal access tokens")
	if n := rv["sessions_revoked"].GetNumberValue(); n != 3 {
		t.Errorf("sessions_revoked = %v, want 3 (two logins and the access token's session)", n)
	}
	if l.meStatus(web) != http.StatusUnauthorized || l.meStatus(mobile) != http.StatusUnauthorized {
		t.Errorf("after revoke_sessions: sessions answer %d and %d, want 401", l.meStatus(web), l.meStatus(mobile))
	}
	if l.user(u.ID).DeleteAt != 0 {
		t.Error("revoke_sessions deactivated the user")
	}
	r, rv = l.invoke("revoke_sessions", u.ID)
	l.wantChange("revoke_sessions again", r, rv, false, "enabled", "no sessions")

	// Personal access tokens are not sessions: they stay valid, as the action says.
	if l.meStatus(pat) != http.StatusOK {
		t.Error("the personal access token stopped working; the action's description says it stays valid")
	}
}

func TestLifecycleSpecialAccounts(t *testing.T) {
	l := newLifecycle(t)

	// The connector's own account.
	r, rv := l.invoke("disable_user", server["MM_ADMIN_USER_ID"])
	if r.ExitCode == 0 || !strings.Contains(rv["error"].GetStringValue(), "lock the connector out") {
		t.Errorf("disabling the token's own user: exit %d, result %v", r.ExitCode, rv)
	}
	if l.user(server["MM_ADMIN_USER_ID"]).DeleteAt != 0 {
		t.Fatal("the connector deactivated its own account")
	}

	// An LDAP account: the server refuses, and the connector says where to act.
	ldapName := l.unique("lc.ldap.")
	r = l.createAccount(map[string]any{"email": ldapName + "@example.com", "auth_service": "ldap", "auth_data": "uid=" + ldapName})
	if r.ExitCode != 0 {
		t.Fatalf("creating the LDAP account: exit %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	ldap := l.createdByEmail(ldapName + "@example.com")
	r, rv = l.invoke("disable_user", ldap.ID)
	if r.ExitCode == 0 || !strings.Contains(rv["error"].GetStringValue(), "AD/LDAP synchronization") ||
		!strings.Contains(rv["error"].GetStringValue(), "cannot_modify_status_when_user_is_managed_by_ldap") {
		t.Errorf("disabling an LDAP account: exit %d, result %v", r.ExitCode, rv)
	}

	// A bot is disabled through the bots API, so the bot record agrees.
	var bot struct {
		UserID string `json:"user_id"`
	}
	botName := l.unique("lc-bot-")
	if code := l.admin.do(http.MethodPost, "/bots", map[string]string{"username": botName, "display_name": "Lifecycle bot"}, &bot); code != http.StatusCreated {
		t.Fatalf("creating a bot: HTTP %d", code)
	}
	l.retire(bot.UserID, true)
	r, rv = l.invoke("disable_user", bot.UserID)
	l.wantChange("disable bot", r, rv, true, "disabled", `disabled bot "`+botName)
	var botRec struct {
		DeleteAt int64 `json:"delete_at"`
	}
	l.admin.get("/bots/"+bot.UserID+"?include_deleted=true", &botRec)
	if botRec.DeleteAt == 0 || l.user(bot.UserID).DeleteAt == 0 {
		t.Errorf("bot after disable_user: bot delete_at %d, user delete_at %d", botRec.DeleteAt, l.user(bot.UserID).DeleteAt)
	}
	r, rv = l.invoke("enable_user", bot.UserID)
	l.wantChange("enable bot", r, rv, true, "enabled", `re-activated bot "`+botName)
	l.admin.get("/bots/"+bot.UserID, &botRec)
	if botRec.DeleteAt != 0 {
		t.Error("bot still disabled after enable_user")
	}

	// Another System Admin can be deactivated; the result says it was one.
	admin, _ := l.newPasswordUser("lc.adm.")
	l.admin.setRoles(admin.ID, "system_user system_admin")
	r, rv = l.invoke("disable_user", admin.ID)
	l.wantChange("disable System Admin", r, rv, true, "disabled", `System Admin "`+admin.Username)
	r, rv = l.invoke("enable_user", admin.ID)
	l.wantChange("enable System Admin", r, rv, true, "enabled", `System Admin "`+admin.Username)
}
