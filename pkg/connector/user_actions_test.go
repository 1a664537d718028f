package connector

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types"
	"google.golang.org/protobuf/types/known/structpb"
)

// 26-character ids, as Mattermost's.
const (
	idMe     = "me000000000000000000000000"
	idAlice  = "alice000000000000000000000"
	idBob    = "bob00000000000000000000000"
	idRobot  = "robot000000000000000000000"
	idLDAP   = "ldap0000000000000000000000"
	idRemote = "remote00000000000000000000"
	idAdmin2 = "admin200000000000000000000"
	idGuest  = "guest000000000000000000000"
	idNobody = "nobody00000000000000000000"
)

func lifecycleFake(t *testing.T) *mmfake.Server {
	t.Helper()
	fake := mmfake.New(t)
	fake.MeID = idMe
	fake.Users = append(fake.Users,
		mmfake.User{ID: idMe, Username: "baton", Roles: "system_admin system_user"},
		mmfake.User{ID: idAlice, Username: "alice", Roles: "system_user"},
		mmfake.User{ID: idBob, Username: "bob", Roles: "system_user", DeleteAt: 1_700_000_000_000},
		mmfake.User{ID: idRobot, Username: "robot", Roles: "system_user", IsBot: true},
		mmfake.User{ID: idLDAP, Username: "lena", Roles: "system_user", AuthService: "ldap"},
		mmfake.User{ID: idRemote, Username: "remo:other", Roles: "system_user", RemoteID: "rc1"},
		mmfake.User{ID: idAdmin2, Username: "olivia", Roles: "system_admin system_user"},
		mmfake.User{ID: idGuest, Username: "gus", Roles: "system_guest", DeleteAt: 1},
	)
	return fake
}

// inBothScopes runs test for both ways of invoking a lifecycle action: on the
// user resource type, and with no resource type, as ConductorOne does.
func inBothScopes(t *testing.T, test func(t *testing.T, scope string)) {
	t.Run("on type user", func(t *testing.T) { test(t, "user") })
	t.Run("global", func(t *testing.T) { test(t, "") })
}

func invoke(t *testing.T, cc types.ConnectorClient, scope, action string, args map[string]any) (v2.BatonActionStatus, map[string]*structpb.Value) {
	t.Helper()
	st, rv := synctest.InvokeAction(t, context.Background(), cc, scope, action, args)
	return st, rv.GetFields()
}

func wantOutcome(t *testing.T, action, id string, st v2.BatonActionStatus, rv map[string]*structpb.Value, changed bool, status, msg string) {
	t.Helper()
	if st != v2.BatonActionStatus_BATON_ACTION_STATUS_COMPLETE {
		t.Fatalf("%s %s: status %v, result %v", action, id, st, rv)
	}
	if !rv["success"].GetBoolValue() || rv["changed"].GetBoolValue() != changed || rv["status"].GetStringValue() != status ||
		rv["user_id"].GetStringValue() != id || !strings.Contains(rv["message"].GetStringValue(), msg) {
		t.Errorf("%s %s: result %v, want changed=%v status=%s message containing %q", action, id, rv, changed, status, msg)
	}
}

func wantFailure(t *testing.T, action string, st v2.BatonActionStatus, rv map[string]*structpb.Value, msg string) {
	t.Helper()
	if st != v2.BatonActionStatus_BATON_ACTION_STATUS_FAILED || !strings.Contains(rv["error"].GetStringValue(), msg) {
		t.Errorf("%s: status %v, result %v; want a failure containing %q", action, st, rv, msg)
	}
}

func TestDisableAndEnableUser(t *testing.T) { inBothScopes(t, testDisableAndEnableUser) }

func testDisableAndEnableUser(t *testing.T, scope string) {
	fake := lifecycleFake(t)
	fake.AddSession(idAlice, "s1", false)
	cc := serveConnector(t, fake)

	st, rv := invoke(t, cc, scope, actionDisableUser, map[string]any{"user_id": idAlice})
	wantOutcome(t, "disable", idAlice, st, rv, true, "disabled", `deactivated user "alice"`)
	if u, _ := fake.User(idAlice); u.IsActive() || len(fake.Sessions[idAlice]) != 0 {
		t.Fatalf("alice after disable: %+v, sessions %v", u, fake.Sessions[idAlice])
	}
	st, rv = invoke(t, cc, scope, actionDisableUser, map[string]any{"user_id": idAlice})
	wantOutcome(t, "disable again", idAlice, st, rv, false, "disabled", "already disabled")

	// The argument may also be a user resource id, as C1 sends it.
	st, rv = invoke(t, cc, scope, actionEnableUser, map[string]any{"user_id": map[string]any{"resource_type_id": "user", "resource_id": idAlice}})
	wantOutcome(t, "enable", idAlice, st, rv, true, "enabled", `re-activated user "alice"`)
	if u, _ := fake.User(idAlice); !u.IsActive() {
		t.Fatal("alice still deactivated")
	}
	st, rv = invoke(t, cc, scope, actionEnableUser, map[string]any{"user_id": idAlice})
	wantOutcome(t, "enable again", idAlice, st, rv, false, "enabled", "already enabled")

	activations := slices.DeleteFunc(fake.Requests(), func(r string) bool { return !strings.HasSuffix(r, "/active") })
	if len(activations) != 2 {
		t.Errorf("PUT /active requests: %v, want one disable and one enable", activations)
	}

	// A System Admin other than the token's owner can be deactivated, and the result says who it was.
	st, rv = invoke(t, cc, scope, actionDisableUser, map[string]any{"user_id": idAdmin2})
	wantOutcome(t, "disable admin", idAdmin2, st, rv, true, "disabled", `System Admin "olivia"`)
}

func TestDisableUserBotsUseTheBotsAPI(t *testing.T) {
	inBothScopes(t, testDisableUserBotsUseTheBotsAPI)
}

func testDisableUserBotsUseTheBotsAPI(t *testing.T, scope string) {
	fake := lifecycleFake(t)
	cc := serveConnector(t, fake)
	st, rv := invoke(t, cc, scope, actionDisableUser, map[string]any{"user_id": idRobot})
	wantOutcome(t, "disable bot", idRobot, st, rv, true, "disabled", `disabled bot "robot"`)
	st, rv = invoke(t, cc, scope, actionEnableUser, map[string]any{"user_id": idRobot})
	wantOutcome(t, "enable bot", idRobot, st, rv, true, "enabled", `re-activated bot "robot"`)
	reqs := fake.Requests()
	if !slices.Contains(reqs, "POST /api/v4/bots/"+idRobot+"/disable") || !slices.Contains(reqs, "POST /api/v4/bots/"+idRobot+"/enable") {
		t.Errorf("bot not switched through /bots: %v", reqs)
	}
}

func TestLifecycleActionsRefuse(t *testing.T) { inBothScopes(t, testLifecycleActionsRefuse) }

func testLifecycleActionsRefuse(t *testing.T, scope string) {
	fake := lifecycleFake(t)
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/api/v4/users/"+idGuest+"/active":
			mmfake.WriteError(w, http.StatusUnauthorized, mmfake.IDGuestAccountsDisabled, "Guest accounts are disabled.")
			return true
		case r.Method == http.MethodPut && r.URL.Path == "/api/v4/users/"+idBob+"/active":
			mmfake.WriteError(w, http.StatusBadRequest, mmfake.IDUserLimit, "You've reached the user limit.")
			return true
		}
		return false
	}
	cc := serveConnector(t, fake)
	for _, c := range []struct {
		name, action string
		args         map[string]any
		want         string
	}{
		{"self", actionDisableUser, map[string]any{"user_id": idMe}, "lock the connector out"},
		{"ldap", actionDisableUser, map[string]any{"user_id": idLDAP}, "AD/LDAP synchronization"},
		{"remote", actionDisableUser, map[string]any{"user_id": idRemote}, "remote server"},
		{"guest while guests are off", actionEnableUser, map[string]any{"user_id": idGuest}, "enable guest access"},
		{"user limit", actionEnableUser, map[string]any{"user_id": idBob}, "limit of active users"},
		{"unknown user", actionDisableUser, map[string]any{"user_id": idNobody}, "no Mattermost user with id " + idNobody},
		{"not an id", actionRevokeSessions, map[string]any{"user_id": "alice"}, "must be a Mattermost user id"},
		{"missing", actionEnableUser, map[string]any{}, "must be a Mattermost user id"},
		{"wrong type", actionDisableUser, map[string]any{"user_id": map[string]any{"resource_type_id": "team", "resource_id": idAlice}}, "must be a user"},
	} {
		st, rv := invoke(t, cc, scope, c.action, c.args)
		wantFailure(t, c.name, st, rv, c.want)
	}
	for _, id := range []string{idMe, idLDAP, idRemote} {
		if u, _ := fake.User(id); !u.IsActive() {
			t.Errorf("%s was deactivated after a refusal", id)
		}
	}
}

func TestRevokeSessions(t *testing.T) { inBothScopes(t, testRevokeSessions) }

func testRevokeSessions(t *testing.T, scope string) {
	fake := lifecycleFake(t)
	fake.AddSession(idAlice, "web", false)
	fake.AddSession(idAlice, "pat", true)
	cc := serveConnector(t, fake)

	st, rv := invoke(t, cc, scope, actionRevokeSessions, map[string]any{"user_id": idAlice})
	wantOutcome(t, "revoke", idAlice, st, rv, true, "enabled", "out of 2 session(s); 1 of them came from personal access tokens")
	if rv["sessions_revoked"].GetNumberValue() != 2 || len(fake.Sessions[idAlice]) != 0 {
		t.Errorf("sessions_revoked = %v, left %v", rv["sessions_revoked"], fake.Sessions[idAlice])
	}
	st, rv = invoke(t, cc, scope, actionRevokeSessions, map[string]any{"user_id": idAlice})
	wantOutcome(t, "revoke again", idAlice, st, rv, false, "enabled", "no sessions")
	if u, _ := fake.User(idAlice); !u.IsActive() {
		t.Error("revoking sessions deactivated the user")
	}
}

// The actions are listed twice, on the user type and globally, with the same
// schema: ACCOUNT_DISABLE / ACCOUNT_ENABLE tell C1 which action does what,
// and the argument is a user resource id.
func TestLifecycleActionSchemas(t *testing.T) {
	cc := serveConnector(t, lifecycleFake(t))
	wantTypes := map[string]v2.ActionType{
		actionDisableUser:    v2.ActionType_ACTION_TYPE_ACCOUNT_DISABLE,
		actionEnableUser:     v2.ActionType_ACTION_TYPE_ACCOUNT_ENABLE,
		actionRevokeSessions: v2.ActionType_ACTION_TYPE_DYNAMIC,
	}
	for scope, wantCount := range map[string]int{"user": 3, "": 6} {
		resp, err := cc.ListActionSchemas(context.Background(), v2.ListActionSchemasRequest_builder{ResourceTypeId: scope}.Build())
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, s := range resp.GetSchemas() {
			if _, lifecycle := wantTypes[s.GetName()]; !lifecycle {
				continue // the token actions (token_test.go)
			}
			seen[s.GetResourceTypeId()+"/"+s.GetName()]++
			if !slices.Equal(s.GetActionType(), []v2.ActionType{wantTypes[s.GetName()]}) {
				t.Errorf("%s (type %q): action types %v, want %v", s.GetName(), s.GetResourceTypeId(), s.GetActionType(), wantTypes[s.GetName()])
			}
			args := s.GetArguments()
			if len(args) != 1 || args[0].GetName() != "user_id" || !args[0].GetIsRequired() ||
				!slices.Equal(args[0].GetResourceIdField().GetRules().GetAllowedResourceTypeIds(), []string{"user"}) {
				t.Errorf("%s (type %q) arguments = %v", s.GetName(), s.GetResourceTypeId(), args)
			}
		}
		for name := range wantTypes {
			wantScopes := []string{"user"}
			if scope == "" {
				wantScopes = append(wantScopes, "")
			}
			for _, sc := range wantScopes {
				if seen[sc+"/"+name] != 1 {
					t.Errorf("listing with type %q: %s on type %q listed %d times; all: %v", scope, name, sc, seen[sc+"/"+name], seen)
				}
			}
		}
		if len(seen) != wantCount {
			t.Errorf("listing with type %q: %d lifecycle schemas, want %d: %v", scope, len(seen), wantCount, seen)
		}
	}
}

// capabilities builds the connector from a zero Connector, without a client:
// registering the global actions must not need one.
func TestGlobalActionsRegisterWithoutAClient(t *testing.T) {
	cc := synctest.Serve(t, context.Background(), &Connector{})
	resp, err := cc.GetActionSchema(context.Background(), v2.GetActionSchemaRequest_builder{Name: actionDisableUser}.Build())
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetSchema().GetActionType(); !slices.Equal(got, []v2.ActionType{v2.ActionType_ACTION_TYPE_ACCOUNT_DISABLE}) {
		t.Errorf("global %s: action types %v", actionDisableUser, got)
	}
}
