package connector

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func serveConnector(t *testing.T, fake *mmfake.Server) types.ConnectorClient {
	t.Helper()
	return synctest.Serve(t, context.Background(), newTestConnector(t, fake, Options{}))
}

func TestUsernameFromEmail(t *testing.T) {
	for email, want := range map[string]string{
		"Jane.Doe+chat@Example.com":                "jane.doe",
		"j_doe-1@example.com":                      "j_doe-1",
		"123@example.com":                          "user123",
		"9lives@example.com":                       "lives",
		"jo@acme.com":                              "jo.acme",
		"a@b.io":                                   "a.b",
		"x@-.io":                                   "x-user",
		"all@example.com":                          "all-user",
		"josé.garcía@example.com":                  "jos-.garc-a",
		"christopher.alexander.long@example.com":   "christopher.alexander",
		"christopher.alexandr.-long@example.com":   "christopher.alexandr",
		"..........................@example.com":   "user",
		"a.....................zz@example.com":     "userazz",
		"first.o'brien@example.com":                "first.o-brien",
		"UPPER.CASE@EXAMPLE.COM":                   "upper.case",
		"name.with.twenty.two.c@example.com":       "name.with.twenty.two.c",
		"name.with.twenty.three.c@example.com":     "name.with.twenty.three",
		"dots.at.the.end.@example.com":             "dots.at.the.end",
		"underscore_at_cut_point_xyz@example.com":  "underscore_at_cut_poin",
		"_leading.underscore@example.com":          "leading.underscore",
		"1-2-3@example.com":                        "user1-2-3",
		"system@example.com":                       "system-user",
		"channel+team@example.com":                 "channel-user",
		"matterbot@example.com":                    "matterbot-user",
		"ab@example.com":                           "ab.example",
		"q@x":                                      "q.x",
		"z@.":                                      "z-user",
		"long.local.part.with.many.words@e.com":    "long.local.part.with.m",
		"hyphen-at-the-limit-xx-yy@example.com":    "hyphen-at-the-limit-xx",
		"digits.after.limit.123456789@example.com": "digits.after.limit.123",
	} {
		got := usernameFromEmail(email)
		if got != want {
			t.Errorf("usernameFromEmail(%q) = %q, want %q", email, got, want)
		}
		if !validUsername.MatchString(got) || slices.Contains(restrictedUsernames, got) {
			t.Errorf("usernameFromEmail(%q) = %q is not a valid username", email, got)
		}
	}
}

func TestParseAccountRequestChoosesTheUsername(t *testing.T) {
	cases := []struct {
		name, email, login string
		profile            map[string]any
		want               string
		derived            bool
		wantErr            string
	}{
		{name: "from the e-mail", email: "Jane.Doe@example.com", want: "jane.doe", derived: true},
		{name: "profile username wins", email: "jane@example.com", login: "jdoe", profile: map[string]any{"username": "Jane_D"}, want: "jane_d"},
		{name: "account info login", email: "jane@example.com", login: "jdoe", want: "jdoe"},
		{name: "CLI login in the profile", email: "jane@example.com", profile: map[string]any{"login": "jd"}, wantErr: "not valid"},
		{name: "login that is an e-mail", email: "jane@example.com", login: "jane.doe@corp.example.com", want: "jane.doe", derived: true},
		{name: "e-mail only in the profile", profile: map[string]any{"email": "Pat@Example.com"}, want: "pat", derived: true},
		{name: "space in username", email: "jane@example.com", login: "jane doe", wantErr: "not valid"},
		{name: "starts with a digit", email: "jane@example.com", login: "1jane", wantErr: "not valid"},
		{name: "too long", email: "jane@example.com", login: strings.Repeat("j", 23), wantErr: "not valid"},
		{name: "reserved", email: "jane@example.com", login: "channel", wantErr: "not valid"},
		{name: "no e-mail", login: "jane", wantErr: "e-mail address is required"},
		{name: "bad welcome flag", email: "jane@example.com", profile: map[string]any{"disable_welcome_email": "maybe"}, wantErr: "disable_welcome_email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := parseAccountRequest(synctest.AccountInfo(t, c.email, c.login, c.profile))
			if c.wantErr != "" {
				if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want InvalidArgument containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.username != c.want || req.derived != c.derived {
				t.Errorf("username = %q (derived %v), want %q (derived %v)", req.username, req.derived, c.want, c.derived)
			}
		})
	}
}

func TestGeneratePasswordMeetsMattermostRules(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := generatePassword(16, []string{passwordLower, passwordUpper, passwordDigits, passwordSymbols})
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 16 {
			t.Fatalf("len(%q) = %d", p, len(p))
		}
		for _, class := range []string{passwordLower, passwordUpper, passwordDigits, passwordSymbols} {
			if !strings.ContainsAny(p, class) {
				t.Fatalf("%q lacks a character of %q", p, class)
			}
		}
		if strings.ContainsAny(p, " '\"`\\") {
			t.Fatalf("%q holds a character that is easy to mangle", p)
		}
		seen[p] = true
	}
	if len(seen) != 200 {
		t.Errorf("only %d distinct passwords in 200", len(seen))
	}
	if p, _ := generatePassword(500, nil); len(p) != mattermost.PasswordMaximumLength {
		t.Errorf("length not capped at Mattermost's maximum: %d", len(p))
	}
	if _, err := generatePassword(8, slices.Repeat([]string{"x"}, 73)); status.Code(err) != codes.InvalidArgument {
		t.Errorf("73 required characters: err = %v, want InvalidArgument", err)
	}
}

// C1's constraints are counted before anything is allocated: a request for
// four billion characters is refused at once.
func TestPasswordConstraintsCheckedBeforeUse(t *testing.T) {
	huge := v2.PasswordConstraint_builder{CharSet: "x", MinCount: math.MaxUint32}.Build()
	if _, err := requiredCharacters([]*v2.PasswordConstraint{huge, huge}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
	digits := v2.PasswordConstraint_builder{CharSet: "0123456789", MinCount: 3}.Build()
	required, err := requiredCharacters([]*v2.PasswordConstraint{digits})
	if err != nil || len(required) != 7 || required[6] != "0123456789" {
		t.Fatalf("required %v, %v: want the 4 classes and 3 digits", required, err)
	}
}

func TestCreateAccountWithRandomPassword(t *testing.T) {
	fake := mmfake.New(t)
	fake.PasswordMinimumLength = 30 // above the connector's own floor
	cc := serveConnector(t, fake)
	ctx := context.Background()

	resp, plain, err := synctest.CreateAccount(t, ctx, cc,
		synctest.AccountInfo(t, "Jane.Doe@Example.com", "", map[string]any{"first_name": "Jane", "last_name": "Doe"}),
		synctest.RandomPassword(12))
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetSuccess().GetResource()
	if r == nil || !resp.GetSuccess().GetIsCreateAccountResult() {
		t.Fatalf("want a success result with the new user, got %v", resp)
	}
	if len(fake.CreatedUsers) != 1 {
		t.Fatalf("POST /users calls: %d", len(fake.CreatedUsers))
	}
	sent := fake.CreatedUsers[0]
	if sent.Username != "jane.doe" || sent.Email != "jane.doe@example.com" || sent.FirstName != "Jane" || sent.LastName != "Doe" ||
		!sent.EmailVerified || sent.DisableWelcomeEmail || sent.AuthService != "" {
		t.Errorf("POST /users body = %+v", sent)
	}
	if len(plain) != 1 || string(plain[0].GetBytes()) != sent.Password || plain[0].GetName() != "password" {
		t.Fatalf("returned credentials do not hold the password sent to the server")
	}
	if len(sent.Password) < 30 {
		t.Errorf("password of %d characters ignores the server's minimum of 30", len(sent.Password))
	}
	u, ok := fake.User(r.GetId().GetResource())
	if !ok || u.Username != "jane.doe" || r.GetDisplayName() != "Jane Doe" || r.GetId().GetResourceType() != "user" {
		t.Errorf("resource %v does not describe the created user %+v", r, u)
	}
}

func TestCreateAccountForSSO(t *testing.T) {
	fake := mmfake.New(t)
	cc := serveConnector(t, fake)
	ctx := context.Background()

	// The CLI always asks for a random password; auth_service in the profile makes an SSO account anyway.
	resp, plain, err := synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "sam@example.com", "sam", map[string]any{
		"auth_service": "SAML", "auth_data": "sam-idp-id", "disable_welcome_email": true}), synctest.RandomPassword(20))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetSuccess() == nil || len(plain) != 0 {
		t.Fatalf("want success without credentials, got %v and %d credentials", resp, len(plain))
	}
	sent := fake.CreatedUsers[0]
	if sent.Password != "" || sent.AuthService != "saml" || sent.AuthData == nil || *sent.AuthData != "sam-idp-id" || !sent.DisableWelcomeEmail {
		t.Errorf("POST /users body = %+v", sent)
	}

	// The SSO option can name the service.
	sso := v2.CredentialOptions_builder{Sso: v2.CredentialOptions_SSO_builder{SsoProvider: "gitlab"}.Build()}.Build()
	if _, _, err := synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "gil@example.com", "", map[string]any{
		"auth_data": "42", "disable_welcome_email": "true"}), sso); err != nil {
		t.Fatal(err)
	}
	if sent := fake.CreatedUsers[1]; sent.AuthService != "gitlab" || *sent.AuthData != "42" || !sent.DisableWelcomeEmail {
		t.Errorf("POST /users body = %+v", sent)
	}
}

func TestCreateAccountRefusesWhatMattermostCannotDo(t *testing.T) {
	fake := mmfake.New(t)
	cc := serveConnector(t, fake)
	ctx := context.Background()
	noPassword := v2.CredentialOptions_builder{NoPassword: &v2.CredentialOptions_NoPassword{}}.Build()
	for name, c := range map[string]struct {
		profile map[string]any
		creds   *v2.CredentialOptions
		want    string
	}{
		"no password for an e-mail account": {nil, noPassword, "needs a password"},
		"SSO without its user id":           {map[string]any{"auth_service": "saml"}, noPassword, "auth_data is required"},
		"unknown SSO service":               {map[string]any{"auth_service": "okta", "auth_data": "x"}, noPassword, "not a Mattermost sign-in service"},
	} {
		_, _, err := synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "x@example.com", "", c.profile), c.creds)
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want InvalidArgument containing %q", name, err, c.want)
		}
	}
	if len(fake.CreatedUsers) != 0 {
		t.Errorf("refused requests still reached the server: %+v", fake.CreatedUsers)
	}

	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v4/users" {
			mmfake.WriteError(w, http.StatusBadRequest, mmfake.IDCreateUserLimit, "You've reached the user limit.")
			return true
		}
		return false
	}
	_, _, err := synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "x@example.com", "", nil), synctest.RandomPassword(20))
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "limit of active users") {
		t.Errorf("user limit: err = %v, want FailedPrecondition", err)
	}

	// An SSO id another account has: the server answers 500 with a generic error id.
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v4/users" {
			mmfake.WriteError(w, http.StatusInternalServerError, mmfake.IDSaveUser, "Unable to save the account.")
			return true
		}
		return false
	}
	_, _, err = synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "x@example.com", "", map[string]any{
		"auth_service": "saml", "auth_data": "taken"}), synctest.RandomPassword(20))
	if err == nil || !strings.Contains(err.Error(), `already has the SSO user id (auth_data) "taken"`) {
		t.Errorf("taken SSO id: err = %v", err)
	}
	if n := len(slices.DeleteFunc(fake.Requests(), func(r string) bool { return r != "POST /api/v4/users" })); n != 2 {
		t.Errorf("POST /users sent %d times for two requests; account creation must not be retried", n)
	}
}

func TestCreateAccountThatAlreadyExists(t *testing.T) {
	fake := mmfake.New(t)
	fake.Users = append(fake.Users,
		mmfake.User{ID: "jane000000000000000000000a", Username: "jane", Email: "jane@example.com", Roles: "system_user"},
		mmfake.User{ID: "other00000000000000000000a", Username: "jane.doe", Email: "someone.else@example.com", Roles: "system_user"})
	cc := serveConnector(t, fake)
	ctx := context.Background()
	before := len(fake.Users)

	// Same e-mail address: the account exists, whatever username was asked for.
	resp, plain, err := synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "JANE@example.com", "jane", nil), synctest.RandomPassword(20))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetAlreadyExists().GetResource().GetId().GetResource(); got != "jane000000000000000000000a" || len(plain) != 0 {
		t.Fatalf("want already-exists with jane's account and no credentials, got %v", resp)
	}

	// Both e-mail and username taken, and the server names the username: still jane's account.
	fake.UsernameConflictFirst = true
	resp, _, err = synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "jane@example.com", "jane", nil), synctest.RandomPassword(20))
	if err != nil || resp.GetAlreadyExists().GetResource().GetId().GetResource() != "jane000000000000000000000a" {
		t.Fatalf("username reported first: got %v, %v", resp, err)
	}

	// A username asked for that belongs to another e-mail address is refused.
	_, _, err = synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "jane.doe@example.com", "jane.doe", nil), synctest.RandomPassword(20))
	if status.Code(err) != codes.AlreadyExists || !strings.Contains(err.Error(), "choose another username") {
		t.Fatalf("taken username: err = %v, want AlreadyExists", err)
	}
	if len(fake.Users) != before {
		t.Fatalf("an account was created: %d users, want %d", len(fake.Users), before)
	}

	// A derived username that is taken is varied.
	resp, _, err = synctest.CreateAccount(t, ctx, cc, synctest.AccountInfo(t, "jane.doe@example.com", "", nil), synctest.RandomPassword(20))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := fake.User(resp.GetSuccess().GetResource().GetId().GetResource())
	if u.Username != "jane.doe2" || u.Email != "jane.doe@example.com" {
		t.Errorf("created %+v, want jane.doe2", u)
	}
}

func TestAccountProvisioningIsAdvertised(t *testing.T) {
	fake := mmfake.New(t)
	cc := serveConnector(t, fake)
	md, err := cc.GetMetadata(context.Background(), &v2.ConnectorServiceGetMetadataRequest{})
	if err != nil {
		t.Fatal(err)
	}
	fields := md.GetMetadata().GetAccountCreationSchema().GetFieldMap()
	for _, k := range []string{"email", "username", "first_name", "last_name", "auth_service", "auth_data", "disable_welcome_email"} {
		if fields[k] == nil {
			t.Errorf("account creation form lacks %s", k)
		}
	}
	if !fields["email"].GetRequired() || fields["username"].GetRequired() {
		t.Error("email must be required and username optional")
	}
	caps := md.GetMetadata().GetCapabilities()
	var userCaps []v2.Capability
	for _, rc := range caps.GetResourceTypeCapabilities() {
		if rc.GetResourceType().GetId() == "user" {
			userCaps = rc.GetCapabilities()
		}
	}
	if !slices.Contains(userCaps, v2.Capability_CAPABILITY_ACCOUNT_PROVISIONING) {
		t.Errorf("user capabilities %v lack account provisioning", userCaps)
	}
	if !slices.Contains(caps.GetConnectorCapabilities(), v2.Capability_CAPABILITY_ACTIONS) {
		t.Errorf("connector capabilities %v lack actions", caps.GetConnectorCapabilities())
	}
	details := caps.GetCredentialDetails().GetCapabilityAccountProvisioning()
	if details.GetPreferredCredentialOption() != v2.CapabilityDetailCredentialOption_CAPABILITY_DETAIL_CREDENTIAL_OPTION_RANDOM_PASSWORD ||
		len(details.GetSupportedCredentialOptions()) != 3 {
		t.Errorf("credential details = %v", details)
	}
}
