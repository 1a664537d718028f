package connector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	sdksync "github.com/conductorone/baton-sdk/pkg/sync"
	"google.golang.org/protobuf/types/known/structpb"
)

// tokenFake is lifecycleFake with tokens of a person, a System Admin bot, a
// deactivated person and an account the server no longer has, and the
// connector's own token, in use.
func tokenFake(t *testing.T) (*mmfake.Server, map[string]mmfake.AccessToken) {
	t.Helper()
	fake := lifecycleFake(t)
	fake.Users = append(fake.Users, mmfake.User{ID: idRobotAdmin, Username: "robo-admin", Roles: "system_user system_admin", IsBot: true})
	tokens := map[string]mmfake.AccessToken{
		"alice":    fake.AddAccessToken(idAlice, "alice's laptop"),
		"alice-ci": fake.AddAccessToken(idAlice, "alice's CI"),
		"robot":    fake.AddAccessToken(idRobotAdmin, "deploy bot"),
		"bob":      fake.AddAccessToken(idBob, "bob's script"),
		"ghost":    fake.AddAccessToken(idNobody, "left behind"),
		"mine":     fake.AddAccessToken(idMe, "baton"),
	}
	fake.UseAccessToken(tokens["mine"].ID)
	fake.AccessTokens[1].IsActive = false // alice-ci
	return fake, tokens
}

const idRobotAdmin = "roboadmin00000000000000000"

func secretTrait(t *testing.T, r *v2.Resource) *v2.SecretTrait {
	t.Helper()
	st := &v2.SecretTrait{}
	annos := annotations.Annotations(r.GetAnnotations())
	if ok, err := annos.Pick(st); err != nil || !ok {
		t.Fatalf("%s has no secret trait (%v)", r.GetId().GetResource(), err)
	}
	return st
}

func TestSyncTokens(t *testing.T) {
	fake, tokens := tokenFake(t)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	got := res.ResourcesOfType("token")
	if len(got) != len(tokens) {
		t.Fatalf("%d tokens synced, want %d", len(got), len(tokens))
	}
	for name, c := range map[string]struct {
		owner, detail string
		status        v2.Status_ResourceStatus
		reason        string
	}{
		"alice":    {idAlice, "mattermost_personal_access_token", v2.Status_RESOURCE_STATUS_ENABLED, ""},
		"alice-ci": {idAlice, "mattermost_personal_access_token", v2.Status_RESOURCE_STATUS_DISABLED, "the token is disabled"},
		"robot":    {idRobotAdmin, "mattermost_bot_token", v2.Status_RESOURCE_STATUS_ENABLED, ""},
		"bob":      {idBob, "mattermost_personal_access_token", v2.Status_RESOURCE_STATUS_DISABLED, `its owner user "bob"`},
		"ghost":    {idNobody, "mattermost_personal_access_token", v2.Status_RESOURCE_STATUS_DISABLED, "no longer on the server"},
		"mine":     {idMe, "mattermost_personal_access_token", v2.Status_RESOURCE_STATUS_ENABLED, ""},
	} {
		tok := tokens[name]
		r := got[tok.ID]
		if r == nil {
			t.Errorf("%s: token %s not synced", name, tok.ID)
			continue
		}
		st := secretTrait(t, r)
		if id := st.GetIdentityId(); id.GetResourceType() != "user" || id.GetResource() != c.owner {
			t.Errorf("%s: identity %v, want user %s", name, id, c.owner)
		}
		if st.GetCredentialDetail() != c.detail || st.GetCredentialType() != v2.SecretTrait_CREDENTIAL_TYPE_STATIC_SECRET {
			t.Errorf("%s: credential %v %q, want %q", name, st.GetCredentialType(), st.GetCredentialDetail(), c.detail)
		}
		profile := r.GetProfile().GetFields()
		if r.GetDisplayName() != tok.Description || r.GetStatus().GetStatus() != c.status ||
			profile["usable"].GetBoolValue() != (c.reason == "") || !strings.Contains(r.GetStatus().GetDetails(), c.reason) ||
			!strings.Contains(profile["unusable_reason"].GetStringValue(), c.reason) {
			t.Errorf("%s: name %q, status %v %q, profile %v; want %q, %v, reason %q", name, r.GetDisplayName(),
				r.GetStatus().GetStatus(), r.GetStatus().GetDetails(), profile, tok.Description, c.status, c.reason)
		}
	}
	if d := got[tokens["robot"].ID].GetDescription(); !strings.Contains(d, `bot "robo-admin"`) || !strings.Contains(d, "a System Admin") {
		t.Errorf("the System Admin bot's token is described as %q", d)
	}

	// The token list costs its page, one read of the page's owners and one of
	// the client configuration: no request per user or per token.
	var tokenReqs []string
	for _, r := range fake.Requests() {
		if strings.Contains(r, "/users/tokens") || strings.Contains(r, "/users/ids") || strings.Contains(r, "/config/client") {
			tokenReqs = append(tokenReqs, r)
		}
	}
	want := []string{"GET /api/v4/config/client?format=old", "GET /api/v4/users/tokens?page=0&per_page=200", "POST /api/v4/users/ids"}
	if !slices.Equal(tokenReqs, want) {
		t.Errorf("token requests %v, want %v", tokenReqs, want)
	}
}

// TestSyncTokensPersonalTokensOff: with personal access tokens switched off,
// people's tokens are unusable; bots' keep working.
func TestSyncTokensPersonalTokensOff(t *testing.T) {
	fake, tokens := tokenFake(t)
	fake.EnableUserAccessTokens = false
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	got := res.ResourcesOfType("token")
	if r := got[tokens["alice"].ID]; r.GetStatus().GetStatus() != v2.Status_RESOURCE_STATUS_DISABLED ||
		!strings.Contains(r.GetStatus().GetDetails(), "personal access tokens are switched off") {
		t.Errorf("alice's token with personal access tokens off: %v", r.GetStatus())
	}
	if r := got[tokens["robot"].ID]; r.GetStatus().GetStatus() != v2.Status_RESOURCE_STATUS_ENABLED {
		t.Errorf("the bot's token with personal access tokens off: %v", r.GetStatus())
	}
}

// TestSyncTokensPages: 450 tokens are three pages, each with one read of its
// owners; the configuration is read once, and later pages still know
// personal access tokens are off.
func TestSyncTokensPages(t *testing.T) {
	fake := lifecycleFake(t)
	fake.EnableUserAccessTokens = false
	for i := range 450 {
		fake.AddAccessToken(idAlice, fmt.Sprintf("token %d", i))
	}
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	got := res.ResourcesOfType("token")
	if len(got) != 450 {
		t.Fatalf("%d tokens synced, want 450", len(got))
	}
	for id, r := range got {
		if r.GetStatus().GetStatus() != v2.Status_RESOURCE_STATUS_DISABLED {
			t.Fatalf("token %s on a later page: %v, want unusable (personal access tokens are off)", id, r.GetStatus())
		}
	}
	count := map[string]int{}
	for _, r := range fake.Requests() {
		method, uri, _ := strings.Cut(r, " ")
		path, _, _ := strings.Cut(uri, "?")
		count[method+" "+path]++
	}
	if count["GET /api/v4/users/tokens"] != 3 || count["POST /api/v4/users/ids"] != 3 || count["GET /api/v4/config/client"] != 1 {
		t.Errorf("token pages %d, owner reads %d, configuration reads %d; want 3, 3, 1",
			count["GET /api/v4/users/tokens"], count["POST /api/v4/users/ids"], count["GET /api/v4/config/client"])
	}
}

// TestSyncResourceTypesSkipsTokens: with --sync-resource-types user, the token list is not read.
func TestSyncResourceTypesSkipsTokens(t *testing.T) {
	fake, _ := tokenFake(t)
	types := []string{"user"}
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true, SyncResourceTypes: types}),
		sdksync.WithSyncResourceTypes(types))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if n := len(res.ResourcesOfType("token")); n != 0 {
		t.Errorf("%d tokens synced", n)
	}
	for _, r := range fake.Requests() {
		if strings.Contains(r, "/users/tokens") || strings.Contains(r, "/users/ids") {
			t.Errorf("requested %s", r)
		}
	}
}

func wantTokenOutcome(t *testing.T, what string, st v2.BatonActionStatus, rv map[string]*structpb.Value, tok mmfake.AccessToken,
	changed bool, status, msg string) {
	t.Helper()
	if st != v2.BatonActionStatus_BATON_ACTION_STATUS_COMPLETE {
		t.Fatalf("%s: status %v, result %v", what, st, rv)
	}
	if !rv["success"].GetBoolValue() || rv["changed"].GetBoolValue() != changed || rv["status"].GetStringValue() != status ||
		rv["token_id"].GetStringValue() != tok.ID || rv["user_id"].GetStringValue() != tok.UserID ||
		!strings.Contains(rv["message"].GetStringValue(), msg) {
		t.Errorf("%s: result %v, want changed=%v status=%s message containing %q", what, rv, changed, status, msg)
	}
}

func TestTokenActions(t *testing.T) {
	fake, tokens := tokenFake(t)
	cc := serveConnector(t, fake)
	alice := tokens["alice"]
	fake.UseAccessToken(alice.ID)
	args := map[string]any{"token_id": alice.ID}

	st, rv := invoke(t, cc, "", actionDisableToken, args)
	wantTokenOutcome(t, "disable", st, rv, alice, true, "disabled", `disabled personal access token "alice's laptop"`)
	if now, _ := fake.AccessToken(alice.ID); now.IsActive || len(fake.Sessions[idAlice]) != 0 {
		t.Fatalf("after disable: %+v, sessions %v", now, fake.Sessions[idAlice])
	}
	st, rv = invoke(t, cc, "", actionDisableToken, args)
	wantTokenOutcome(t, "disable again", st, rv, alice, false, "disabled", "already disabled")

	// The argument may also be a token resource id, as C1 sends it.
	st, rv = invoke(t, cc, "", actionEnableToken, map[string]any{"token_id": map[string]any{"resource_type_id": "token", "resource_id": alice.ID}})
	wantTokenOutcome(t, "enable", st, rv, alice, true, "active", "it works again")
	st, rv = invoke(t, cc, "", actionEnableToken, args)
	wantTokenOutcome(t, "enable again", st, rv, alice, false, "active", "already active")

	st, rv = invoke(t, cc, "", actionRevokeToken, args)
	wantTokenOutcome(t, "revoke", st, rv, alice, true, "revoked", "Mattermost deleted it")
	if _, ok := fake.AccessToken(alice.ID); ok {
		t.Fatal("the revoked token is still on the server")
	}
	// Revoked tokens are deleted: a second revoke finds nothing.
	st, rv = invoke(t, cc, "", actionRevokeToken, args)
	wantFailure(t, "revoke again", st, rv, "NotFound desc = there is no Mattermost API token with id "+alice.ID)

	writes := slices.DeleteFunc(fake.Requests(), func(r string) bool { return !strings.HasPrefix(r, "POST /api/v4/users/tokens/") })
	if want := []string{"POST /api/v4/users/tokens/disable", "POST /api/v4/users/tokens/enable", "POST /api/v4/users/tokens/revoke"}; !slices.Equal(writes, want) {
		t.Errorf("token writes %v, want %v", writes, want)
	}

	// Enabling a deactivated person's token, or a person's token while
	// personal access tokens are off, works but says the token still fails.
	st, rv = invoke(t, cc, "", actionDisableToken, map[string]any{"token_id": tokens["bob"].ID})
	wantTokenOutcome(t, "disable bob's", st, rv, tokens["bob"], true, "disabled", "")
	st, rv = invoke(t, cc, "", actionEnableToken, map[string]any{"token_id": tokens["bob"].ID})
	wantTokenOutcome(t, "enable bob's", st, rv, tokens["bob"], true, "active", `it still fails: its owner user "bob"`)
	fake.EnableUserAccessTokens = false
	st, rv = invoke(t, cc, "", actionEnableToken, map[string]any{"token_id": tokens["alice-ci"].ID})
	wantTokenOutcome(t, "enable with tokens off", st, rv, tokens["alice-ci"], true, "active", "personal access tokens are switched off")
}

func TestTokenActionsRefuse(t *testing.T) {
	fake, tokens := tokenFake(t)
	cc := serveConnector(t, fake)
	unused := fake.AddAccessToken(idMe, "spare")
	before := len(fake.Requests())
	for _, c := range []struct {
		name, action string
		args         map[string]any
		want         string
	}{
		{"not an id", actionRevokeToken, map[string]any{"token_id": "not-a-token"}, "InvalidArgument desc = token_id must be a Mattermost token id"},
		{"too long", actionDisableToken, map[string]any{"token_id": "abcdefghijklmnopqrstuvwxyz0123"}, "26 lower-case letters and digits"},
		// A token has the shape of an id: the connector's own one is not sent anywhere, nor echoed.
		{"the connector's api-token", actionRevokeToken, map[string]any{"token_id": mmfake.Token}, "is the connector's own api-token itself"},
		{"missing", actionEnableToken, map[string]any{}, "token_id must be a Mattermost token id"},
		{"wrong type", actionRevokeToken, map[string]any{"token_id": map[string]any{"resource_type_id": "user", "resource_id": idAlice}},
			`token_id must be a token, not user "` + idAlice + `"`},
	} {
		st, rv := invoke(t, cc, "", c.action, c.args)
		wantFailure(t, c.name, st, rv, c.want)
		if strings.Contains(rv["error"].GetStringValue(), mmfake.Token) {
			t.Errorf("%s: the error shows the api-token: %v", c.name, rv)
		}
	}
	if reqs := fake.Requests()[before:]; len(reqs) != 0 {
		t.Errorf("invalid arguments made requests: %v", reqs)
	}

	for _, c := range []struct {
		name, action, id, want string
	}{
		{"unknown", actionDisableToken, "unknown0000000000000000000", "NotFound desc = there is no Mattermost API token with id unknown0000000000000000000"},
		{"own token revoked", actionRevokeToken, tokens["mine"].ID, "FailedPrecondition desc = refusing to revoke personal access token \"baton\""},
		{"own token disabled", actionDisableToken, tokens["mine"].ID, "it is the api-token the connector runs with"},
	} {
		st, rv := invoke(t, cc, "", c.action, map[string]any{"token_id": c.id})
		wantFailure(t, c.name, st, rv, c.want)
	}
	if now, ok := fake.AccessToken(tokens["mine"].ID); !ok || !now.IsActive {
		t.Fatalf("the connector's own token after the refusals: %+v, present %v", now, ok)
	}

	// A token of the connector's account that has never been used is not the one it runs with.
	st, rv := invoke(t, cc, "", actionDisableToken, map[string]any{"token_id": unused.ID})
	wantTokenOutcome(t, "disable an unused token of the connector's account", st, rv, unused, true, "disabled", "")
	st, rv = invoke(t, cc, "", actionEnableToken, map[string]any{"token_id": unused.ID})
	wantTokenOutcome(t, "enable it again", st, rv, unused, true, "active", "")

	// Once two tokens of the connector's account are in use, either may be the connector's.
	fake.UseAccessToken(unused.ID)
	for _, id := range []string{unused.ID, tokens["mine"].ID} {
		st, rv = invoke(t, cc, "", actionRevokeToken, map[string]any{"token_id": id})
		wantFailure(t, "revoke with two in use", st, rv, "it may be the api-token the connector runs with")
	}
	if len(fake.AccessTokens) != len(tokens)+1 {
		t.Errorf("%d tokens left, want %d", len(fake.AccessTokens), len(tokens)+1)
	}
}

// TestRevokeTokenAnswerLost: a revoke whose answer is lost is not repeated;
// the token is read again, and since it is gone, the revoke succeeded.
func TestRevokeTokenAnswerLost(t *testing.T) {
	fake, tokens := tokenFake(t)
	var revokes int
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v4/users/tokens/revoke" {
			return false
		}
		revokes++
		fake.Mux.ServeHTTP(httptest.NewRecorder(), r) // applied ...
		w.WriteHeader(http.StatusBadGateway)          // ... but the answer is lost
		return true
	}
	cc := serveConnector(t, fake)
	st, rv := invoke(t, cc, "", actionRevokeToken, map[string]any{"token_id": tokens["robot"].ID})
	wantTokenOutcome(t, "revoke", st, rv, tokens["robot"], true, "revoked", `bot token "deploy bot"`)
	if revokes != 1 {
		t.Errorf("the revoke was sent %d times, want once", revokes)
	}
}

// TestTokenActionSchemas: the token actions are global only, take a token
// resource id, and none is typed as a deletion.
func TestTokenActionSchemas(t *testing.T) {
	cc := serveConnector(t, lifecycleFake(t))
	wantTypes := map[string]v2.ActionType{
		actionRevokeToken:  v2.ActionType_ACTION_TYPE_DYNAMIC,
		actionDisableToken: v2.ActionType_ACTION_TYPE_RESOURCE_DISABLE,
		actionEnableToken:  v2.ActionType_ACTION_TYPE_RESOURCE_ENABLE,
	}
	for scope, want := range map[string]int{"": 3, "user": 0, "token": 0} {
		resp, err := cc.ListActionSchemas(context.Background(), v2.ListActionSchemasRequest_builder{ResourceTypeId: scope}.Build())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range resp.GetSchemas() {
			wantType, ok := wantTypes[s.GetName()]
			if !ok {
				continue
			}
			n++
			args := s.GetArguments()
			if s.GetResourceTypeId() != "" || !slices.Equal(s.GetActionType(), []v2.ActionType{wantType}) || len(args) != 1 ||
				args[0].GetName() != "token_id" || !args[0].GetIsRequired() ||
				!slices.Equal(args[0].GetResourceIdField().GetRules().GetAllowedResourceTypeIds(), []string{"token"}) {
				t.Errorf("%s: type %q, action types %v, arguments %v", s.GetName(), s.GetResourceTypeId(), s.GetActionType(), args)
			}
		}
		if n != want {
			t.Errorf("listing with type %q: %d token actions, want %d", scope, n, want)
		}
	}
}

// TestTargetedSyncOfTokens: a targeted sync of a token stores what a full
// sync stores about it; an unknown id fails naming it; the connector's own
// api-token given as an id fails without being sent or shown.
func TestTargetedSyncOfTokens(t *testing.T) {
	fake, tokens := tokenFake(t)
	fake.EnableUserAccessTokens = false
	full, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("full sync: %v", err)
	}
	for name, tok := range tokens {
		got, err := syncTargeted(t, fake, Options{SkipLastLogin: true}, target("token", tok.ID, "", ""))
		if err != nil {
			t.Fatalf("%s: targeted sync: %v", name, err)
		}
		want := full.About("token", tok.ID)
		if len(want.Resources) != 1 {
			t.Fatalf("%s: the full sync has %d such tokens", name, len(want.Resources))
		}
		if diffs := synctest.Diff(want, got.About("token", tok.ID)); len(diffs) > 0 {
			t.Errorf("%s: targeted sync differs from the full sync:\n%s", name, strings.Join(diffs, "\n"))
		}
	}
	for id, want := range map[string]string{
		"unknown0000000000000000000": "cannot sync token unknown0000000000000000000",
		mmfake.Token:                 "the id given is the connector's own api-token itself",
	} {
		before := len(fake.Requests())
		_, err := syncTargeted(t, fake, Options{SkipLastLogin: true}, target("token", id, "", ""))
		if err == nil || !strings.Contains(err.Error(), "InvalidArgument") || !strings.Contains(err.Error(), want) {
			t.Errorf("targeted sync of token %s: %v, want InvalidArgument containing %q", id, err, want)
		}
		if id != mmfake.Token {
			continue
		}
		if strings.Contains(err.Error(), mmfake.Token) {
			t.Errorf("the error shows the api-token: %v", err)
		}
		for _, r := range fake.Requests()[before:] {
			if strings.Contains(r, mmfake.Token) {
				t.Errorf("the api-token was sent in %s", r)
			}
		}
	}
}
