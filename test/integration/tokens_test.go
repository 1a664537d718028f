//go:build integration

package integration

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/protobuf/types/known/structpb"
)

// API tokens: personal access tokens and bot tokens synced as secrets, and
// the global revoke_token / disable_token / enable_token actions, all
// through the binary against the real server; whether a token works is
// asked of the server itself, with the token.

// serverToken is a token as POST /users/{id}/tokens answers: the secret is shown once.
type serverToken struct {
	ID     string `json:"id"`
	Token  string `json:"token"`
	UserID string `json:"user_id"`
}

// newToken creates a token for a user or bot.
func newToken(t *testing.T, userID, description string) serverToken {
	t.Helper()
	var tok serverToken
	if code := adminAPI(t).do(http.MethodPost, "/users/"+userID+"/tokens", map[string]string{"description": description}, &tok); code != http.StatusOK {
		t.Fatalf("creating a token for %s: HTTP %d", userID, code)
	}
	return tok
}

// tokenPerson is a fresh person allowed to own personal access tokens.
func tokenPerson(t *testing.T, l *lifecycle) serverUser {
	t.Helper()
	u, _ := l.newPasswordUser("tok.person.")
	if code := l.admin.do(http.MethodPut, "/users/"+u.ID+"/roles", map[string]string{"roles": "system_user system_user_access_token"}, nil); code != http.StatusOK {
		t.Fatalf("giving %s system_user_access_token: HTTP %d", u.Username, code)
	}
	return u
}

// tokenBot is a fresh bot, System Admin when admin is set.
func tokenBot(t *testing.T, l *lifecycle, admin bool) serverUser {
	t.Helper()
	name := l.unique("tok-bot-")
	var bot struct {
		UserID string `json:"user_id"`
	}
	if code := l.admin.do(http.MethodPost, "/bots", map[string]string{"username": name, "display_name": name}, &bot); code != http.StatusCreated {
		t.Fatalf("creating bot %s: HTTP %d", name, code)
	}
	l.retire(bot.UserID, true)
	if admin {
		if code := l.admin.do(http.MethodPut, "/users/"+bot.UserID+"/roles", map[string]string{"roles": "system_user system_admin"}, nil); code != http.StatusOK {
			t.Fatalf("making bot %s a System Admin: HTTP %d", name, code)
		}
	}
	return serverUser{ID: bot.UserID, Username: name, IsBot: true}
}

// tokenWorks asks the server whether the token is accepted (GET /users/me).
func tokenWorks(t *testing.T, tok serverToken) bool {
	t.Helper()
	switch code := (&api{t: t, token: tok.Token}).do(http.MethodGet, "/users/me", nil, nil); code {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	default:
		t.Fatalf("GET /users/me with token %s: HTTP %d", tok.ID, code)
		return false
	}
}

// tokenAction runs a token action with the binary, as C1 does: no resource
// type, {"token_id": ...}, with the given connector token ("" for the admin's).
func tokenAction(t *testing.T, connectorToken, action, tokenID string) (Run, map[string]*structpb.Value) {
	t.Helper()
	var env map[string]string
	if connectorToken != "" {
		env = map[string]string{"BATON_API_TOKEN": connectorToken}
	}
	r := runConnector(t, env, "-f", c1zPath(t), "--invoke-action", action, "--invoke-action-args", `{"token_id":"`+tokenID+`"}`)
	return r, actionResult(t, action+" "+tokenID, r)
}

func wantTokenChange(t *testing.T, action string, r Run, rv map[string]*structpb.Value, tok serverToken, changed bool, status, msg string) {
	t.Helper()
	if r.ExitCode != 0 || !rv["success"].GetBoolValue() || rv["changed"].GetBoolValue() != changed || rv["status"].GetStringValue() != status ||
		rv["token_id"].GetStringValue() != tok.ID || rv["user_id"].GetStringValue() != tok.UserID ||
		!strings.Contains(rv["message"].GetStringValue(), msg) {
		t.Fatalf("%s: exit %d, result %v; want changed=%v status=%s message containing %q", action, r.ExitCode, rv, changed, status, msg)
	}
	t.Logf("%s %s: exit 0, %s", action, tok.ID, rv["message"].GetStringValue())
}

func wantTokenRefusal(t *testing.T, action string, r Run, rv map[string]*structpb.Value, msg string) {
	t.Helper()
	if r.ExitCode == 0 || !strings.Contains(rv["error"].GetStringValue(), msg) {
		t.Fatalf("%s: exit %d, result %v; want a failure containing %q", action, r.ExitCode, rv, msg)
	}
	t.Logf("%s: exit %d, %s", action, r.ExitCode, rv["error"].GetStringValue())
}

// syncedToken is a token resource of a sync, nil when the sync has none with that id.
func syncedToken(t *testing.T, res *synctest.Result, id string) *v2.Resource {
	t.Helper()
	return res.ResourcesOfType("token")[id]
}

// wantSyncedToken checks a synced token's identity, kind and status.
func wantSyncedToken(t *testing.T, res *synctest.Result, tok serverToken, detail string, status v2.Status_ResourceStatus, reason string) {
	t.Helper()
	r := syncedToken(t, res, tok.ID)
	if r == nil {
		t.Fatalf("token %s of %s is not in the sync", tok.ID, tok.UserID)
	}
	st := &v2.SecretTrait{}
	annos := annotations.Annotations(r.GetAnnotations())
	if ok, err := annos.Pick(st); !ok || err != nil {
		t.Fatalf("token %s has no secret trait (%v)", tok.ID, err)
	}
	if id := st.GetIdentityId(); id.GetResourceType() != "user" || id.GetResource() != tok.UserID || st.GetCredentialDetail() != detail {
		t.Errorf("token %s: identity %v, detail %q; want user %s, %q", tok.ID, id, st.GetCredentialDetail(), tok.UserID, detail)
	}
	if r.GetStatus().GetStatus() != status || !strings.Contains(r.GetStatus().GetDetails(), reason) {
		t.Errorf("token %s: status %v %q, want %v containing %q", tok.ID, r.GetStatus().GetStatus(), r.GetStatus().GetDetails(), status, reason)
	}
}

// TestTokensSynced: the tokens of a person and of a bot are synced with
// their owner as identity; a deactivated owner's token is synced as unusable.
func TestTokensSynced(t *testing.T) {
	l := newLifecycle(t)
	person := tokenPerson(t, l)
	bot := tokenBot(t, l, false)
	personTok := newToken(t, person.ID, "integration: person")
	botTok := newToken(t, bot.ID, "integration: bot")

	res := syncResult(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"})
	wantSyncedToken(t, res, personTok, "mattermost_personal_access_token", v2.Status_RESOURCE_STATUS_ENABLED, "active")
	wantSyncedToken(t, res, botTok, "mattermost_bot_token", v2.Status_RESOURCE_STATUS_ENABLED, "active")
	if name := syncedToken(t, res, personTok.ID).GetDisplayName(); name != "integration: person" {
		t.Errorf("the person's token is named %q, want its description", name)
	}
	// The identities are synced users, and every token of the server is synced.
	users := res.ResourcesOfType("user")
	for _, id := range []string{person.ID, bot.ID} {
		if users[id] == nil {
			t.Errorf("owner %s is not a synced user", id)
		}
	}
	all := getAll[json.RawMessage](adminAPI(t), "/users/tokens")
	if got := len(res.ResourcesOfType("token")); got != len(all) {
		t.Errorf("%d tokens synced, the server has %d", got, len(all))
	}

	// A deactivated owner's token is unusable, though still active itself.
	if code := l.admin.do(http.MethodDelete, "/users/"+person.ID, nil, nil); code != http.StatusOK {
		t.Fatalf("deactivating %s: HTTP %d", person.Username, code)
	}
	if tokenWorks(t, personTok) {
		t.Fatal("the server still takes the token of a deactivated user")
	}
	res = syncResult(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"})
	wantSyncedToken(t, res, personTok, "mattermost_personal_access_token", v2.Status_RESOURCE_STATUS_DISABLED, "is deactivated")
	if p := syncedToken(t, res, personTok.ID).GetProfile().GetFields(); !p["is_active"].GetBoolValue() || p["usable"].GetBoolValue() {
		t.Errorf("profile of a deactivated owner's token: %v", p)
	}
}

// TestTokenActionsThroughTheBinary: disable, enable and revoke a person's
// token, each confirmed by the server (the token's own next request) and by a re-sync.
func TestTokenActionsThroughTheBinary(t *testing.T) {
	l := newLifecycle(t)
	tok := newToken(t, tokenPerson(t, l).ID, "integration: lifecycle")
	if !tokenWorks(t, tok) {
		t.Fatal("a new token is refused")
	}
	sync := func() *synctest.Result { return syncResult(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"}) }

	for _, step := range []struct {
		action, status, msg string
		works               bool
		synced              v2.Status_ResourceStatus
		syncedDetail        string
	}{
		{"disable_token", "disabled", "it fails until it is enabled again", false, v2.Status_RESOURCE_STATUS_DISABLED, "the token is disabled"},
		{"enable_token", "active", "it works again", true, v2.Status_RESOURCE_STATUS_ENABLED, "active"},
	} {
		r, rv := tokenAction(t, "", step.action, tok.ID)
		wantTokenChange(t, step.action, r, rv, tok, true, step.status, step.msg)
		if tokenWorks(t, tok) != step.works {
			t.Fatalf("after %s the server answers the token's own request as if it worked: %v", step.action, !step.works)
		}
		wantSyncedToken(t, sync(), tok, "mattermost_personal_access_token", step.synced, step.syncedDetail)
		r, rv = tokenAction(t, "", step.action, tok.ID)
		wantTokenChange(t, step.action+" again", r, rv, tok, false, step.status, "already "+step.status)
	}

	r, rv := tokenAction(t, "", "revoke_token", tok.ID)
	wantTokenChange(t, "revoke_token", r, rv, tok, true, "revoked", "fails from its next request on")
	if tokenWorks(t, tok) {
		t.Fatal("the revoked token still works")
	}
	if syncedToken(t, sync(), tok.ID) != nil {
		t.Fatal("the revoked token is still in the next sync")
	}
	r, rv = tokenAction(t, "", "revoke_token", tok.ID)
	wantTokenRefusal(t, "revoke_token again", r, rv, "NotFound desc = there is no Mattermost API token with id "+tok.ID)
	if strings.Contains(r.Stderr, tok.Token) {
		t.Error("the token's secret appears in the connector's output")
	}
}

// TestTokenActionsRefuseTheConnectorsOwnToken runs the connector with a
// System Admin bot's own token: revoking or disabling that token is
// refused, and the token keeps working. A second token of the bot is
// refused too once it has been used (the connector cannot tell which of
// the two it runs with); an unused one is not.
func TestTokenActionsRefuseTheConnectorsOwnToken(t *testing.T) {
	l := newLifecycle(t)
	bot := tokenBot(t, l, true)
	own := newToken(t, bot.ID, "integration: the connector's")
	spare := newToken(t, bot.ID, "integration: spare")

	for _, action := range []string{"revoke_token", "disable_token"} {
		r, rv := tokenAction(t, own.Token, action, own.ID)
		wantTokenRefusal(t, action+" of the connector's own token", r, rv,
			"FailedPrecondition desc = refusing to "+strings.TrimSuffix(action, "_token")+` bot token "integration: the connector's"`)
		if !strings.Contains(rv["error"].GetStringValue(), "it is the api-token the connector runs with") {
			t.Errorf("%s: the refusal does not say why: %v", action, rv)
		}
		if strings.Contains(r.Stderr, own.Token) {
			t.Errorf("%s: the connector's api-token appears in its output", action)
		}
	}
	if !tokenWorks(t, own) {
		t.Fatal("the connector's own token stopped working")
	}
	// Given the token itself instead of its id, nothing is sent and the token is not echoed.
	r, rv := tokenAction(t, own.Token, "revoke_token", own.Token)
	wantTokenRefusal(t, "revoke_token of the api-token itself", r, rv, "is the connector's own api-token itself")
	if strings.Contains(rv["error"].GetStringValue(), own.Token) {
		t.Error("the refusal shows the api-token")
	}

	r, rv = tokenAction(t, own.Token, "disable_token", spare.ID)
	wantTokenChange(t, "disable_token of an unused token of the connector's account", r, rv, spare, true, "disabled", "")
	r, rv = tokenAction(t, own.Token, "enable_token", spare.ID)
	wantTokenChange(t, "enable_token of it", r, rv, spare, true, "active", "")
	if !tokenWorks(t, spare) { // now in use
		t.Fatal("the spare token is refused")
	}
	r, rv = tokenAction(t, own.Token, "revoke_token", spare.ID)
	wantTokenRefusal(t, "revoke_token of a second token in use", r, rv, "it may be the api-token the connector runs with")
	if !tokenWorks(t, spare) || !tokenWorks(t, own) {
		t.Fatal("a refused revoke changed a token")
	}
}

// TestTokensWithPersonalAccessTokensOff: with EnableUserAccessTokens off, the
// server refuses people's tokens and keeps taking bots'; a sync (run with a
// bot's token) says so in one log line and syncs people's tokens as unusable.
func TestTokensWithPersonalAccessTokensOff(t *testing.T) {
	l := newLifecycle(t)
	personTok := newToken(t, tokenPerson(t, l).ID, "integration: person, tokens off")
	botTok := newToken(t, tokenBot(t, l, false).ID, "integration: bot, tokens off")

	restartServer(t, "MM_SERVICESETTINGS_ENABLEUSERACCESSTOKENS=false")
	t.Cleanup(func() { restartServer(t) })
	if tokenWorks(t, personTok) || !tokenWorks(t, botTok) {
		t.Fatalf("with personal access tokens off, the server takes the person's token: %v, the bot's: %v",
			tokenWorks(t, personTok), tokenWorks(t, botTok))
	}
	path := c1zPath(t)
	r := runConnector(t, map[string]string{"BATON_API_TOKEN": server["MM_BOT_ADMIN_TOKEN"], "BATON_SKIP_LAST_LOGIN": "true"}, "-f", path)
	if r.ExitCode != 0 {
		t.Fatalf("sync exited %d\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	if n := strings.Count(r.Stderr, "personal access tokens are switched off on this server"); n != 1 {
		t.Errorf("%d log lines about personal access tokens being off, want 1", n)
	}
	res := synctest.Read(t, path)
	wantSyncedToken(t, res, personTok, "mattermost_personal_access_token", v2.Status_RESOURCE_STATUS_DISABLED,
		"personal access tokens are switched off")
	wantSyncedToken(t, res, botTok, "mattermost_bot_token", v2.Status_RESOURCE_STATUS_ENABLED, "active")
}

// TestTokenRequests: the tokens cost a sync one page request per 200
// tokens, one read of each page's owners and one of the client
// configuration; with --sync-resource-types user, none.
func TestTokenRequests(t *testing.T) {
	count := func(reqs []string) map[string]int {
		n := map[string]int{}
		for _, r := range reqs {
			switch e := endpoint(r); e {
			case "GET /api/v4/users/tokens", "POST /api/v4/users/ids", "GET /api/v4/config/client":
				n[e]++
			}
		}
		return n
	}
	tokens := len(getAll[json.RawMessage](adminAPI(t), "/users/tokens"))
	// A page shorter than 200 is the last; an empty one (after an exact multiple) has no owners to read.
	pages, ownerReads := tokens/200+1, (tokens+199)/200
	got := count(syncCounted(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"}))
	if got["GET /api/v4/users/tokens"] != pages || got["POST /api/v4/users/ids"] != ownerReads || got["GET /api/v4/config/client"] != 1 {
		t.Errorf("token requests %v for %d tokens; want %d pages, %d owner reads, 1 configuration read", got, tokens, pages, ownerReads)
	}
	t.Logf("%d tokens: %v", tokens, got)

	p := startCountingProxy(t)
	syncToFile(t, map[string]string{"BATON_BASE_URL": p.URL, "BATON_SKIP_LAST_LOGIN": "true"}, "--sync-resource-types", "user")
	if got := count(p.Requests()); len(got) != 0 {
		t.Errorf("--sync-resource-types user still made token requests: %v", got)
	}
}

// TestTargetedSyncOfATokenThroughTheBinary: --sync-resources bid:r:token/<id>
// stores what a full sync stores about the token, with the token, its owner
// and the configuration as its only reads.
func TestTargetedSyncOfATokenThroughTheBinary(t *testing.T) {
	l := newLifecycle(t)
	tok := newToken(t, tokenPerson(t, l).ID, "integration: targeted")
	full := syncResult(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"})
	run := syncTargeted(t, map[string]string{"BATON_SKIP_LAST_LOGIN": "true"}, "bid:r:token/"+tok.ID)
	want, got := full.About("token", tok.ID), run.res.About("token", tok.ID)
	if len(want.Resources) != 1 {
		t.Fatalf("the full sync holds %d tokens %s", len(want.Resources), tok.ID)
	}
	if diffs := synctest.Diff(want, got); len(diffs) > 0 || len(run.res.Resources) != 1 {
		t.Errorf("the targeted sync stored %d resources, and otherwise than a full sync:\n%s", len(run.res.Resources), strings.Join(diffs, "\n"))
	}
	allowed := []string{"GET /api/v4/users/me", "GET /api/v4/users/tokens/{id}", "GET /api/v4/users/{id}", "GET /api/v4/config/client"}
	for _, r := range run.requests {
		if !slices.Contains(allowed, endpoint(r)) {
			t.Errorf("unexpected request %s", r)
		}
	}
	t.Logf("%d requests: %s", len(run.requests), byEndpoint(run.requests))

	r := runConnector(t, nil, "-f", c1zPath(t), "--sync-resources", "bid:r:token/unknown0000000000000000000")
	if r.ExitCode != 3 || !strings.Contains(r.Stderr, "cannot sync token unknown0000000000000000000") {
		t.Errorf("targeted sync of an unknown token: exit %d, want 3 naming it\n%s", r.ExitCode, tail(r.Stderr, 2000))
	}
}
