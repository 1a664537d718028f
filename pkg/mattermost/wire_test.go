package mattermost_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// The tests in this file catch a client that drifts from Mattermost's wire
// format: a JSON tag or an error id that is not the server's. The fake
// declares its own wire structs and error ids, written from the server's
// source (internal/mmfake/model.go, ids.go). It serves objects whose every
// field holds a distinct non-zero value, and each field the client decodes
// must come back with the value of the fake's field of the same Go name: a
// misspelt tag leaves the client's field zero, swapped tags exchange two
// values. Request bodies are checked the other way round.

func ptr[T any](v T) *T { return &v }

// leafFields returns a struct's fields by Go name, embedded structs
// flattened and pointers followed (a nil pointer stays nil).
func leafFields(v any) map[string]any {
	out := map[string]any{}
	var walk func(rv reflect.Value)
	walk = func(rv reflect.Value) {
		for rv.Kind() == reflect.Pointer {
			rv = rv.Elem()
		}
		for i := range rv.NumField() {
			f, fv := rv.Type().Field(i), rv.Field(i)
			switch {
			case !f.IsExported():
			case f.Anonymous && fv.Kind() == reflect.Struct:
				walk(fv)
			case fv.Kind() == reflect.Pointer && !fv.IsNil():
				out[f.Name] = fv.Elem().Interface()
			default:
				out[f.Name] = fv.Interface()
			}
		}
	}
	walk(reflect.ValueOf(v))
	return out
}

// sameFields checks that each field of client (a struct the client decoded,
// or sent) has the value of the fake's field of the same name. Fields named in
// elsewhere are left to another test, which says why.
func sameFields(t *testing.T, what string, client, fake any, elsewhere ...string) {
	t.Helper()
	clientFields, fakeFields := leafFields(client), leafFields(fake)
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(clientFields)) {
		if slices.Contains(elsewhere, name) {
			continue
		}
		want, ok := fakeFields[name]
		if !ok {
			t.Errorf("%s: the client has field %s, the fake's wire struct does not: declare it there with Mattermost's tag", what, name)
			continue
		}
		got := clientFields[name]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: client field %s = %#v, the fake's (Mattermost's) = %#v: check its json tag", what, name, got, want)
			continue
		}
		// Agreeing on a zero value, or on a value another field also has, proves nothing.
		if reflect.ValueOf(want).IsZero() {
			t.Fatalf("%s: the test gives %s its zero value", what, name)
		}
		if k := fmt.Sprint(want); reflect.TypeOf(want).Kind() != reflect.Bool {
			if other, dup := seen[k]; dup {
				t.Fatalf("%s: the test gives %s and %s the same value %q", what, other, name, k)
			}
			seen[k] = name
		}
	}
}

// wireFixture is a fake whose user, team, channel, memberships, group, role,
// session, user report row and access token have every field set.
type wireFixture struct {
	fake     *mmfake.Server
	c        *mattermost.Client
	user     mmfake.User
	team     mmfake.Team
	member   mmfake.TeamMember
	channel  mmfake.Channel
	chMember mmfake.ChannelMember
	group    mmfake.Group
	role     mmfake.Role
	session  mmfake.Session
	reported mmfake.User
	stats    mmfake.PostStats
	token    mmfake.AccessToken
}

func newWireFixture(t *testing.T) *wireFixture {
	fake := mmfake.New(t)
	f := &wireFixture{fake: fake, c: newClient(t, fake),
		user: mmfake.User{ID: "wireuser000000000000000001", CreateAt: 1001, UpdateAt: 1002, DeleteAt: 1003,
			Username: "wire.user", AuthService: "saml", Email: "wire@example.com", Nickname: "wiry",
			FirstName: "Wilma", LastName: "Wirth", Position: "Tester", Roles: "system_user system_post_all",
			Locale: "fr", MFAActive: true, RemoteID: "remotecluster1", IsBot: true},
		team: mmfake.Team{ID: "wireteam000000000000000001", CreateAt: 2001, DeleteAt: 2002, DisplayName: "Wire Team",
			Name: "wire-team", Description: "About wires", Type: "I", AllowOpenInvite: true,
			SchemeID: ptr("wirescheme0000000000000001"), GroupConstrained: ptr(true)},
		channel: mmfake.Channel{ID: "wirechannel000000000000001", CreateAt: 3001, DeleteAt: 3002, TeamID: "wireteam000000000000000001",
			Type: mmfake.ChannelPrivate, DisplayName: "Wire Channel", Name: "wire-channel", Purpose: "Carrying current",
			GroupConstrained: ptr(true), Shared: ptr(true)},
		group: mmfake.Group{ID: "wiregroup00000000000000001", Name: "wire-group", DisplayName: "Wire Group",
			Description: "Linked by wire", Source: "ldap", RemoteID: "cn=wire", CreateAt: 4001, AllowReference: true},
		role: mmfake.Role{ID: "wirerole000000000000000001", Name: "wire_role", DisplayName: "Wire role", Description: "Grants wires",
			Permissions: []string{"manage_wires", "read_wires"}, SchemeManaged: true, BuiltIn: true, DeleteAt: 5001},
		session: mmfake.Session{ID: "wiresession000000000000001", CreateAt: 6001, LastActivityAt: 6002, DeviceID: "wire-device",
			IsOAuth: true, Props: map[string]string{"type": "UserAccessToken"}},
		// The user report leaves bots out, and the fixture's user is one.
		reported: mmfake.User{ID: "wirereported00000000000001", Username: "wire.reported", Roles: "system_user"},
		stats:    mmfake.PostStats{LastStatusAt: ptr[int64](7002), LastPostDate: ptr[int64](7003)},
		token: mmfake.AccessToken{ID: "wiretoken00000000000000001", UserID: "wireuser000000000000000001",
			Description: "Wire token", IsActive: true},
	}
	f.member = mmfake.TeamMember{TeamID: f.team.ID, Member: mmfake.Member{UserID: f.user.ID, Roles: "team_user team_admin",
		SchemeGuest: true, SchemeUser: true, SchemeAdmin: true, ExplicitRoles: "wire_team_role"}}
	f.chMember = mmfake.ChannelMember{ChannelID: f.channel.ID, Member: mmfake.Member{UserID: f.user.ID,
		Roles: "channel_user channel_admin", SchemeGuest: true, SchemeUser: true, SchemeAdmin: true, ExplicitRoles: "wire_channel_role"}}
	fake.Users = append(fake.Users, f.user, f.reported)
	fake.Teams = append(fake.Teams, f.team)
	fake.TeamMembers[f.team.ID] = append(fake.TeamMembers[f.team.ID], f.member)
	fake.AddChannel(f.channel)
	fake.ChannelMembers[f.channel.ID] = append(fake.ChannelMembers[f.channel.ID], f.chMember)
	fake.Licensed("enterprise", "LDAPGroups")
	fake.Groups = append(fake.Groups, f.group)
	fake.TeamGroups[f.team.ID] = []mmfake.GroupLink{{GroupID: f.group.ID, SchemeAdmin: true}}
	fake.Roles[f.role.Name] = f.role
	fake.Sessions[f.user.ID] = []mmfake.Session{f.session}
	fake.LastLogins[f.reported.ID] = 7001
	fake.PostStats[f.reported.ID] = f.stats
	fake.AccessTokens = append(fake.AccessTokens, f.token)
	return f
}

// one adapts a client call's answer for TestWireDecoding.
func one[T any](v T, err error) (any, error) { return v, err }

// only is the single item of a list answer.
func only[T any](items []T, err error) (any, error) {
	if err == nil && len(items) != 1 {
		err = fmt.Errorf("%d items, want 1", len(items))
	}
	if err != nil {
		return nil, err
	}
	return items[0], nil
}

func TestWireDecoding(t *testing.T) {
	f := newWireFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		what   string
		decode func() (any, error)
		served any
		// elsewhere are the fields another test checks (see sameFields).
		elsewhere []string
	}{
		{"GET /users/{id}", func() (any, error) { return one(f.c.GetUser(ctx, f.user.ID)) }, f.user, nil},
		{"GET /teams/{id}", func() (any, error) { return one(f.c.GetTeam(ctx, f.team.ID)) }, f.team, nil},
		// A current member has delete_at 0; TestWireLeftTeamMember checks that tag.
		{"POST /teams/{id}/members/ids", func() (any, error) { return one(f.c.GetTeamMember(ctx, f.team.ID, f.user.ID)) },
			f.member, []string{"DeleteAt"}},
		{"GET /channels/{id}", func() (any, error) { return one(f.c.GetChannel(ctx, f.channel.ID)) }, f.channel, nil},
		{"POST /channels/{id}/members/ids", func() (any, error) { return one(f.c.GetChannelMember(ctx, f.channel.ID, f.user.ID)) },
			f.chMember, nil},
		// Mattermost lists live groups only (delete_at 0) unless asked for archived ones, which the client never does.
		{"GET /teams/{id}/groups", func() (any, error) {
			groups, err := f.c.ListTeamGroups(ctx, f.team.ID, mattermost.Cursor{})
			return only(groups.Items, err)
		}, struct {
			mmfake.Group
			SchemeAdmin bool
		}{f.group, true}, []string{"DeleteAt"}},
		{"POST /roles/names", func() (any, error) { return only(f.c.GetRolesByNames(ctx, []string{f.role.Name})) }, f.role, nil},
		{"GET /users/{id}/sessions", func() (any, error) { return only(f.c.ListSessions(ctx, f.user.ID)) }, f.session, nil},
		{"GET /users/tokens", func() (any, error) {
			tokens, err := f.c.ListAccessTokens(ctx, mattermost.Cursor{})
			return only(tokens.Items, err)
		}, f.token, nil},
		{"GET /users/tokens/{id}", func() (any, error) { return one(f.c.GetAccessToken(ctx, f.token.ID)) }, f.token, nil},
		{"POST /users/ids", func() (any, error) { return only(f.c.GetUsersByIDs(ctx, []string{f.user.ID})) }, f.user, nil},
		{"GET /reports/users", func() (any, error) {
			rows, err := f.c.ListUserReport(ctx, mattermost.ReportAfter("admin", "admin"))
			return only(rows.Items, err)
		}, struct {
			mmfake.User
			LastLogin int64
			mmfake.PostStats
		}{f.reported, 7001, f.stats}, nil},
	} {
		got, err := tc.decode()
		if err != nil || reflect.ValueOf(got).IsZero() {
			t.Errorf("%s: %v, %v", tc.what, got, err)
			continue
		}
		sameFields(t, tc.what, got, tc.served, tc.elsewhere...)
	}
}

// TestWireLeftTeamMember checks the team member's delete_at: a row with it set
// is a member who left, which GetTeamMember must not return.
func TestWireLeftTeamMember(t *testing.T) {
	f := newWireFixture(t)
	left := f.member
	left.DeleteAt = 1_700_000_000_000
	f.fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v4/teams/"+f.team.ID+"/members/ids" {
			return false
		}
		mmfake.WriteJSON(w, http.StatusOK, []mmfake.TeamMember{left})
		return true
	}
	m, err := f.c.GetTeamMember(context.Background(), f.team.ID, f.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m != nil {
		t.Fatalf("a row with delete_at %d came back as a current membership %+v: check the delete_at tag", left.DeleteAt, m)
	}
}

// TestWireRequestBodies checks the other direction: what the client sends is
// what Mattermost reads.
func TestWireRequestBodies(t *testing.T) {
	f := newWireFixture(t)
	ctx := context.Background()

	// Both a password and SSO fields: the server refuses the account, but only after reading every field.
	sent := mattermost.NewUser{Email: "new@example.com", Username: "new.user", FirstName: "Nora", LastName: "Newman",
		Password: "a long password", AuthService: "gitlab", AuthData: ptr("4242"), EmailVerified: true, DisableWelcomeEmail: true}
	if _, err := f.c.CreateUser(ctx, &sent); err == nil {
		t.Fatal("the fake took an account with both a password and auth data")
	}
	if len(f.fake.CreatedUsers) != 1 {
		t.Fatalf("POST /users bodies: %d", len(f.fake.CreatedUsers))
	}
	sameFields(t, "POST /users body", sent, f.fake.CreatedUsers[0])

	// scheme_user and scheme_admin: the change is taken (a dropped scheme_user
	// is refused) and the member becomes admin.
	f.fake.AddTeamMember(f.team.ID, "admin", false, false)
	if err := f.c.UpdateTeamMemberSchemeRoles(ctx, f.team.ID, "admin", mattermost.SchemeRoles{SchemeUser: true, SchemeAdmin: true}); err != nil {
		t.Fatalf("scheme roles: %v", err)
	}
	if m := f.fake.TeamMember(f.team.ID, "admin"); m == nil || !m.SchemeAdmin {
		t.Fatalf("after setting scheme_admin: %+v", m)
	}
	// scheme_guest: Mattermost refuses to set it, so the change must fail.
	if err := f.c.UpdateTeamMemberSchemeRoles(ctx, f.team.ID, "admin", mattermost.SchemeRoles{SchemeUser: true, SchemeGuest: true}); err == nil {
		t.Fatal("a change setting scheme_guest was taken: the server never read scheme_guest")
	}

	// token_id: the token is disabled, enabled and revoked (the server refuses a body without it).
	for _, active := range []bool{false, true} {
		if err := f.c.SetAccessTokenActive(ctx, f.token.ID, active); err != nil {
			t.Fatalf("setting the token active=%v: %v", active, err)
		}
		if now, _ := f.fake.AccessToken(f.token.ID); now.IsActive != active {
			t.Fatalf("after setting active=%v the token is %+v", active, now)
		}
	}
	if err := f.c.RevokeAccessToken(ctx, f.token.ID); err != nil {
		t.Fatalf("revoking the token: %v", err)
	}
	if _, ok := f.fake.AccessToken(f.token.ID); ok {
		t.Fatal("the revoked token is still there")
	}
}

// TestWireErrorIDs checks each Mattermost error id the client names against
// the id the fake, written from the server's source, answers with in that
// case: provoked where the fake's handlers model the case, else answered
// through Intercept.
func TestWireErrorIDs(t *testing.T) {
	fake := mmfake.New(t)
	c := newClient(t, fake)
	ctx := context.Background()
	fake.Users = append(fake.Users,
		mmfake.User{ID: "alice", Username: "alice", Roles: "system_user"},
		mmfake.User{ID: "gus", Username: "gus", Roles: "system_guest"},
		mmfake.User{ID: "dee", Username: "dee", Roles: "system_user", DeleteAt: 1},
		mmfake.User{ID: "lena", Username: "lena", Roles: "system_user", AuthService: "ldap"},
		mmfake.User{ID: "newbie", Username: "newbie", Roles: "system_user"},
		mmfake.User{ID: "leaver", Username: "leaver", Roles: "system_user"})
	fake.Teams = []mmfake.Team{{ID: "t1", Name: "eng", DisplayName: "Eng"},
		{ID: "tg", Name: "synced", DisplayName: "Synced", GroupConstrained: ptr(true)}}
	fake.AddChannel(mmfake.Channel{ID: "town", TeamID: "t1", Type: mmfake.ChannelOpen, Name: mmfake.DefaultChannelName})
	fake.AddChannel(mmfake.Channel{ID: "priv", TeamID: "t1", Type: mmfake.ChannelPrivate, Name: "priv"})
	fake.AddChannel(mmfake.Channel{ID: "gch", TeamID: "tg", Type: mmfake.ChannelPrivate, Name: "gch", GroupConstrained: ptr(true)})
	for _, id := range []string{"alice", "dee", "leaver"} {
		fake.AddTeamMember("t1", id, false, false)
	}
	fake.AddTeamMember("t1", "gus", false, true)
	fake.AddTeamMember("tg", "alice", false, false)
	fake.AddChannelMember("town", "alice", false, false)
	fake.AddChannelMember("priv", "gus", false, true)
	fake.AddChannelMember("gch", "alice", false, false)
	if err := c.RemoveTeamMember(ctx, "t1", "leaver"); err != nil {
		t.Fatal(err)
	}

	// Each of these makes one request and returns its error.
	addToTeam := func(teamID, userID string) func() error {
		return func() error { _, err := c.AddTeamMember(ctx, teamID, userID); return err }
	}
	addToFullTeam := func(userID string) func() error {
		return func() error {
			fake.MaxUsersPerTeam = 1
			defer func() { fake.MaxUsersPerTeam = 0 }()
			return addToTeam("t1", userID)()
		}
	}
	removeFromTeam := func(teamID, userID string) func() error {
		return func() error { return c.RemoveTeamMember(ctx, teamID, userID) }
	}
	addToChannel := func(channelID, userID string) func() error {
		return func() error { _, err := c.AddChannelMember(ctx, channelID, userID); return err }
	}
	removeFromChannel := func(channelID, userID string) func() error {
		return func() error { return c.RemoveChannelMember(ctx, channelID, userID) }
	}
	// roles sets scheme_user and, when admin, scheme_admin on a team or channel membership.
	roles := func(update func(context.Context, string, string, mattermost.SchemeRoles) error, id, userID string, user bool) func() error {
		return func() error {
			return update(ctx, id, userID, mattermost.SchemeRoles{SchemeUser: user, SchemeAdmin: !user})
		}
	}
	createUser := func(email, username string) func() error {
		return func() error {
			_, err := c.CreateUser(ctx, &mattermost.NewUser{Email: email, Username: username, Password: "a long password"})
			return err
		}
	}
	setRoles := func(userID string, roles ...string) func() error {
		return func() error { return c.UpdateUserRoles(ctx, userID, roles) }
	}
	covered := map[mattermost.ErrorID]bool{}
	for _, tc := range []struct {
		clientID mattermost.ErrorID
		provoke  func() error
	}{
		{mattermost.IDTeamUserDenied, addToTeam("tg", "newbie")},
		{mattermost.IDTeamSaveMaxAccounts, addToFullTeam("newbie")},
		{mattermost.IDTeamMaxAccounts, addToFullTeam("leaver")},
		{mattermost.IDChannelNotTeamMember, addToChannel("priv", "newbie")},
		{mattermost.IDChannelLeftTeam, addToChannel("priv", "leaver")},
		{mattermost.IDChannelDeletedUser, addToChannel("priv", "dee")},
		{mattermost.IDChannelUserDenied, addToChannel("gch", "newbie")},
		{mattermost.IDTeamRemoveGroup, removeFromTeam("tg", "alice")},
		{mattermost.IDChannelRemoveGroup, removeFromChannel("gch", "alice")},
		{mattermost.IDChannelRemoveDefault, removeFromChannel("town", "alice")},
		{mattermost.IDTeamRolesGuest, roles(c.UpdateTeamMemberSchemeRoles, "t1", "gus", true)},
		{mattermost.IDChannelRolesGuest, roles(c.UpdateChannelMemberSchemeRoles, "priv", "gus", true)},
		{mattermost.IDEmailExists, createUser("admin@example.com", "fresh")},
		{mattermost.IDUsernameExists, createUser("fresh@example.com", "alice")},
		{mattermost.IDManagedByLDAP, func() error { return c.SetUserActive(ctx, "lena", false) }},
		{mattermost.IDLastAdmin, setRoles("admin", "system_user")},
		{mattermost.IDRoleNeedsLicense, setRoles("alice", "system_user", "system_user_manager")},
	} {
		covered[tc.clientID] = true
		err := tc.provoke()
		if !mattermost.HasID(err, tc.clientID) {
			t.Errorf("client id %q: the fake (Mattermost) answered %v", tc.clientID, err)
		}
	}

	// Cases the fake's handlers do not model: it answers with Mattermost's id.
	for clientID, serverID := range map[mattermost.ErrorID]string{
		mattermost.IDTeamAllowedDomains:     mmfake.IDTeamAllowedDomains,
		mattermost.IDTeamRolesGuestUser:     mmfake.IDTeamRolesGuestUser,
		mattermost.IDTeamRolesChangingGuest: mmfake.IDTeamRolesChangingGuest,
		mattermost.IDChannelRemoveDenied:    mmfake.IDChannelRemoveDenied,
		mattermost.IDChannelRolesGuestUser:  mmfake.IDChannelRolesGuestUser,
		mattermost.IDSaveUser:               mmfake.IDSaveUser,
		mattermost.IDGuestsDisabled:         mmfake.IDGuestAccountsDisabled,
		mattermost.IDActivateUserLimit:      mmfake.IDUserLimit,
		mattermost.IDActivateSeatLimit:      mmfake.IDLicenseUserLimit,
		mattermost.IDCreateUserLimit:        mmfake.IDCreateUserLimit,
		mattermost.IDCreateLicenseSeat:      mmfake.IDCreateLicenseUserLimit,
		mattermost.IDLDAPGroupsLicense:      mmfake.IDLDAPGroupsLicense,
		mattermost.IDCustomGroupsLicense:    mmfake.IDCustomGroupsLicense,
		mattermost.IDCustomGroupsDisabled:   mmfake.IDCustomGroupsDisabled,
	} {
		covered[clientID] = true
		fake.Intercept = func(w http.ResponseWriter, _ *http.Request) bool {
			mmfake.WriteError(w, http.StatusBadRequest, serverID, "answered by the test")
			return true
		}
		if err := c.RemoveTeamMember(ctx, "t1", "alice"); !mattermost.HasID(err, clientID) {
			t.Errorf("client id %q: the fake (Mattermost) answered %v", clientID, err)
		}
	}

	// Every id the client declares is checked above.
	for _, id := range declaredErrorIDs(t) {
		if !covered[id] {
			t.Errorf("ids.go declares %q, which TestWireErrorIDs does not check: add it", id)
		}
	}
}

// declaredErrorIDs reads the ErrorID constants of ids.go.
func declaredErrorIDs(t *testing.T) []mattermost.ErrorID {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []mattermost.ErrorID
	ast.Inspect(file, func(n ast.Node) bool {
		if spec, ok := n.(*ast.ValueSpec); ok {
			for _, v := range spec.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					unquoted, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, mattermost.ErrorID(unquoted))
				}
			}
		}
		return true
	})
	if len(ids) < 20 {
		t.Fatalf("read %d ids from ids.go: the parse is wrong", len(ids))
	}
	return ids
}
