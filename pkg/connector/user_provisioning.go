package connector

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

var _ connectorbuilder.AccountManagerLimited = (*userSyncer)(nil)

// Keys of the account profile: C1's account creation form and the CLI's
// --create-account-profile JSON.
const (
	profileEmail               = "email"
	profileUsername            = "username"
	profileLogin               = "login" // what the CLI's --create-account-login puts in the profile
	profileFirstName           = "first_name"
	profileLastName            = "last_name"
	profileAuthService         = "auth_service"
	profileAuthData            = "auth_data"
	profileDisableWelcomeEmail = "disable_welcome_email"
)

// Username rules: the characters the server accepts, and the 3-22 characters
// starting with a letter that Mattermost's own UI enforces, so the account is
// one an administrator could also have created by hand.
const (
	usernameMinLength = 3
	usernameMaxLength = 22
)

var (
	validUsername = regexp.MustCompile(`^[a-z][a-z0-9.\-_]{2,21}$`)
	// restrictedUsernames are refused by the server (model.restrictedUsernames).
	restrictedUsernames = []string{"all", "channel", "matterbot", "system"}
)

// accountCreationSchema is C1's form for creating a Mattermost account.
func accountCreationSchema() *v2.ConnectorAccountCreationSchema {
	str := func(order int32, name, desc, placeholder string, required bool) *v2.ConnectorAccountCreationSchema_Field {
		return v2.ConnectorAccountCreationSchema_Field_builder{
			DisplayName: name, Description: desc, Placeholder: placeholder, Required: required, Order: order,
			StringField: &v2.ConnectorAccountCreationSchema_StringField{},
		}.Build()
	}
	welcomeDefault := false
	return v2.ConnectorAccountCreationSchema_builder{FieldMap: map[string]*v2.ConnectorAccountCreationSchema_Field{
		profileEmail: str(1, "Email", "The user's e-mail address; it is marked verified.", "jane.doe@example.com", true),
		profileUsername: str(2, "Username",
			"3-22 characters: lower-case letters, digits, '.', '-' and '_', starting with a letter. "+
				"Derived from the e-mail address when empty.", "jane.doe", false),
		profileFirstName: str(3, "First name", "", "Jane", false),
		profileLastName:  str(4, "Last name", "", "Doe", false),
		profileAuthService: str(5, "SSO service",
			"For an account that signs in through single sign-on and has no password: one of "+
				strings.Join(mattermost.AuthServices, ", ")+". Leave empty for an e-mail and password account.", "saml", false),
		profileAuthData: str(6, "SSO user id",
			"With an SSO service: the user's id at the identity provider (the SAML or LDAP id attribute, "+
				"the GitLab user id, the OpenID subject), which Mattermost matches at sign-in.", "", false),
		profileDisableWelcomeEmail: v2.ConnectorAccountCreationSchema_Field_builder{
			DisplayName: "Skip the welcome e-mail",
			Description: "Do not let the server send its welcome e-mail to the new user.",
			Order:       7,
			BoolField:   v2.ConnectorAccountCreationSchema_BoolField_builder{DefaultValue: &welcomeDefault}.Build(),
		}.Build(),
	}}.Build()
}

// CreateAccountCapabilityDetails: a random password for e-mail accounts
// (preferred), or no password for accounts that sign in through SSO.
func (s *userSyncer) CreateAccountCapabilityDetails(_ context.Context) (*v2.CredentialDetailsAccountProvisioning, annotations.Annotations, error) {
	return v2.CredentialDetailsAccountProvisioning_builder{
		SupportedCredentialOptions: []v2.CapabilityDetailCredentialOption{
			v2.CapabilityDetailCredentialOption_CAPABILITY_DETAIL_CREDENTIAL_OPTION_RANDOM_PASSWORD,
			v2.CapabilityDetailCredentialOption_CAPABILITY_DETAIL_CREDENTIAL_OPTION_NO_PASSWORD,
			v2.CapabilityDetailCredentialOption_CAPABILITY_DETAIL_CREDENTIAL_OPTION_SSO,
		},
		PreferredCredentialOption: v2.CapabilityDetailCredentialOption_CAPABILITY_DETAIL_CREDENTIAL_OPTION_RANDOM_PASSWORD,
	}.Build(), nil, nil
}

// accountRequest is what CreateAccount was asked for, read from the account info and profile.
type accountRequest struct {
	email     string
	username  string
	derived   bool // username made from the e-mail address, so a taken one may be varied
	firstName string
	lastName  string

	authService         string
	authData            string
	disableWelcomeEmail bool
}

// CreateAccount creates a Mattermost account: an e-mail account with a random
// password (returned to C1 as plaintext data, which the SDK encrypts), or an
// SSO account with no password. An account that already has the e-mail
// address is reported as already existing.
func (s *userSyncer) CreateAccount(ctx context.Context, info *v2.AccountInfo, creds *v2.LocalCredentialOptions) (
	connectorbuilder.CreateAccountResponse, []*v2.PlaintextData, annotations.Annotations, error) {
	return sdkResult3(s.createAccount(ctx, info, creds))
}

func (s *userSyncer) createAccount(ctx context.Context, info *v2.AccountInfo, creds *v2.LocalCredentialOptions) (
	connectorbuilder.CreateAccountResponse, []*v2.PlaintextData, annotations.Annotations, error) {
	req, err := parseAccountRequest(info)
	if err != nil {
		return nil, nil, nil, err
	}
	nu := &mattermost.NewUser{
		Email: req.email, Username: req.username, FirstName: req.firstName, LastName: req.lastName,
		// The account is created for a known person by an administrator:
		// a verification mail would only stand between them and signing in.
		EmailVerified:       true,
		DisableWelcomeEmail: req.disableWelcomeEmail,
	}
	authService := req.authService
	if authService == "" && creds.GetSso() != nil && slices.Contains(mattermost.AuthServices, creds.GetSso().GetSsoProvider()) {
		authService = creds.GetSso().GetSsoProvider()
	}
	var password string
	switch {
	case authService != "":
		// An SSO account cannot have a password in Mattermost, whatever option
		// was asked for: the CLI always asks for a random password.
		if !slices.Contains(mattermost.AuthServices, authService) {
			return nil, nil, nil, status.Errorf(codes.InvalidArgument,
				"auth_service %q is not a Mattermost sign-in service: use one of %s", authService, strings.Join(mattermost.AuthServices, ", "))
		}
		if req.authData == "" {
			return nil, nil, nil, status.Errorf(codes.InvalidArgument,
				"auth_data is required with auth_service %q: the user's id at the identity provider, which Mattermost matches at sign-in", authService)
		}
		nu.AuthService, nu.AuthData = authService, &req.authData
	case creds.GetRandomPassword() != nil:
		if password, err = s.randomPassword(ctx, creds.GetRandomPassword()); err != nil {
			return nil, nil, nil, err
		}
		nu.Password = password
	default:
		return nil, nil, nil, status.Error(codes.InvalidArgument,
			"Mattermost needs a password for an e-mail account: choose the random password option, "+
				"or give auth_service and auth_data in the profile to create an account that signs in through SSO")
	}

	created, existing, err := s.createUser(ctx, nu, req.derived)
	if err != nil {
		return nil, nil, nil, err
	}
	l := ctxzap.Extract(ctx)
	if existing != nil {
		l.Info("baton-mattermost: an account with this e-mail address already exists",
			zap.String("user_id", existing.ID), zap.String("username", existing.Username))
		r, err := userResource(existing, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		return v2.CreateAccountResponse_AlreadyExistsResult_builder{Resource: r, IsCreateAccountResult: true}.Build(), nil, nil, nil
	}
	l.Info("baton-mattermost: created account", zap.String("user_id", created.ID), zap.String("username", created.Username),
		zap.String("auth_service", created.AuthService), zap.Bool("welcome_email", !req.disableWelcomeEmail))
	r, err := userResource(created, nil) // a new account has no user report row yet
	if err != nil {
		return nil, nil, nil, err
	}
	var plaintexts []*v2.PlaintextData
	if password != "" {
		plaintexts = append(plaintexts, v2.PlaintextData_builder{
			Name:        "password",
			Description: "Password of the Mattermost account " + created.Username,
			Bytes:       []byte(password),
		}.Build())
	}
	return v2.CreateAccountResponse_SuccessResult_builder{Resource: r, IsCreateAccountResult: true}.Build(), plaintexts, nil, nil
}

// parseAccountRequest reads the account info and profile, choosing a username.
func parseAccountRequest(info *v2.AccountInfo) (*accountRequest, error) {
	profile := info.GetProfile().GetFields()
	str := func(key string) string { return strings.TrimSpace(profile[key].GetStringValue()) }

	req := &accountRequest{firstName: str(profileFirstName), lastName: str(profileLastName),
		authService: strings.ToLower(str(profileAuthService)), authData: str(profileAuthData)}
	for _, e := range info.GetEmails() {
		if e.GetIsPrimary() || req.email == "" {
			req.email = strings.TrimSpace(e.GetAddress())
		}
	}
	if req.email == "" {
		req.email = str(profileEmail)
	}
	req.email = strings.ToLower(req.email)
	if local, domain, ok := strings.Cut(req.email, "@"); !ok || local == "" || domain == "" {
		return nil, status.Errorf(codes.InvalidArgument, "an e-mail address is required to create a Mattermost account (got %q)", req.email)
	}

	noWelcome, err := profileBool(profile[profileDisableWelcomeEmail])
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s: %v", profileDisableWelcomeEmail, err)
	}
	req.disableWelcomeEmail = noWelcome

	login := str(profileUsername)
	if login == "" {
		login = strings.TrimSpace(info.GetLogin())
	}
	if login == "" {
		login = str(profileLogin)
	}
	switch {
	case login == "":
		req.username, req.derived = usernameFromEmail(req.email), true
	case strings.Contains(login, "@"):
		// C1 often uses the e-mail address as the login: take its local part.
		req.username, req.derived = usernameFromEmail(login), true
	default:
		req.username = strings.ToLower(login)
		if !validUsername.MatchString(req.username) || slices.Contains(restrictedUsernames, req.username) {
			return nil, status.Errorf(codes.InvalidArgument,
				"username %q is not valid in Mattermost: use %d-%d characters, lower-case letters, digits, '.', '-' and '_', "+
					"starting with a letter, and not one of %s", login, usernameMinLength, usernameMaxLength, strings.Join(restrictedUsernames, ", "))
		}
	}
	return req, nil
}

// profileBool reads a boolean profile value, given as a JSON boolean or as text.
func profileBool(v *structpb.Value) (bool, error) {
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return false, nil
	case *structpb.Value_BoolValue:
		return k.BoolValue, nil
	case *structpb.Value_StringValue:
		if strings.TrimSpace(k.StringValue) == "" {
			return false, nil
		}
		return strconv.ParseBool(strings.TrimSpace(k.StringValue))
	default:
		return false, fmt.Errorf("want true or false, got %v", v.AsInterface())
	}
}

// usernameFromEmail makes a valid username from an e-mail address's local
// part: "Jane.Doe+chat@example.com" becomes "jane.doe".
func usernameFromEmail(email string) string {
	local, domain, _ := strings.Cut(strings.ToLower(email), "@")
	local, _, _ = strings.Cut(local, "+") // drop a sub-address tag
	clean := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
				b.WriteRune(r)
			default:
				b.WriteByte('-')
			}
		}
		return b.String()
	}
	name := strings.TrimRight(strings.TrimLeft(clean(local), "0123456789.-_"), ".-_")
	if name == "" {
		name = "user" + strings.Trim(clean(local), ".-_")
	}
	if len(name) < usernameMinLength {
		// Too short for Mattermost's UI: add the domain's first label.
		label, _, _ := strings.Cut(domain, ".")
		if label = strings.Trim(clean(label), ".-_"); label != "" {
			name += "." + label
		}
	}
	if len(name) < usernameMinLength || slices.Contains(restrictedUsernames, name) {
		name += "-user"
	}
	if name = fitUsername(name, ""); !validUsername.MatchString(name) {
		// Only odd local parts get here (long runs of punctuation).
		name = "user" + strings.Trim(clean(local), ".-_")
		name = fitUsername(strings.NewReplacer(".", "", "-", "", "_", "").Replace(name), "")
	}
	return name
}

// fitUsername appends suffix to name, cutting name so the result stays within
// the length limit and does not end in punctuation.
func fitUsername(name, suffix string) string {
	if len(name)+len(suffix) > usernameMaxLength {
		name = name[:usernameMaxLength-len(suffix)]
	}
	return strings.TrimRight(name, ".-_") + suffix
}

// maxUsernameVariants bounds the tries for a free username when the derived
// one is taken (jane.doe, jane.doe2, ... jane.doe9).
const maxUsernameVariants = 9

// createUser creates the account. When the e-mail address already has an
// account, that account is returned as existing. When only the username is
// taken by somebody else, a derived username is varied with a number; a
// username that was asked for is an error, since the account holding it
// belongs to another e-mail address and may be another person.
func (s *userSyncer) createUser(ctx context.Context, nu *mattermost.NewUser, derived bool) (*mattermost.User, *mattermost.User, error) {
	base := nu.Username
	for variant := 1; ; variant++ {
		created, err := s.client.CreateUser(ctx, nu)
		if err == nil {
			return created, nil, nil
		}
		if mattermost.HasID(err, mattermost.IDCreateUserLimit, mattermost.IDCreateLicenseSeat) {
			return nil, nil, refuseUserLimit("create "+nu.Email, err)
		}
		if nu.AuthService != "" && mattermost.HasID(err, mattermost.IDSaveUser) {
			return nil, nil, fmt.Errorf("creating the %s account %s failed; Mattermost answers this when another account "+
				"already has the SSO user id (auth_data) %q: %w", nu.AuthService, nu.Email, *nu.AuthData, err)
		}
		emailTaken, usernameTaken := mattermost.HasID(err, mattermost.IDEmailExists), mattermost.HasID(err, mattermost.IDUsernameExists)
		if !emailTaken && !usernameTaken {
			return nil, nil, err
		}
		// Both may be taken while the server names only one: the e-mail address decides.
		existing, lookupErr := s.client.GetUserByEmail(ctx, nu.Email)
		switch {
		case lookupErr == nil:
			return nil, existing, nil
		case !mattermost.IsNotFound(lookupErr):
			return nil, nil, errors.Join(err, lookupErr)
		case emailTaken:
			return nil, nil, err // taken, yet not found: report the server's own answer
		}
		if !derived {
			return nil, nil, status.Errorf(codes.AlreadyExists,
				"username %q is taken by another Mattermost account or group whose e-mail address is not %s; "+
					"choose another username, or leave it empty to derive a free one from the e-mail address (%v)", nu.Username, nu.Email, err)
		}
		if variant >= maxUsernameVariants {
			return nil, nil, status.Errorf(codes.AlreadyExists,
				"usernames %s to %s are all taken; give a username in the profile (%v)", base, nu.Username, err)
		}
		nu.Username = fitUsername(base, strconv.Itoa(variant+1))
	}
}

// Password generation. Every password holds a lower-case and an upper-case
// letter, a digit and a symbol, so it satisfies any of Mattermost's
// PasswordSettings character rules, and is at least minRandomPasswordLength
// long or the server's minimum, whichever is longer.
const (
	minRandomPasswordLength = 16
	passwordLower           = "abcdefghijklmnopqrstuvwxyz"
	passwordUpper           = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	passwordDigits          = "0123456789"
	// passwordSymbols is the part of Mattermost's symbol class (model.SYMBOLS)
	// without space, quotes, backslash and backtick, which are easy to mangle
	// when a password is copied or typed into a shell.
	passwordSymbols = "!#$%&()*+,-./:;<=>?@[]^_|~" //nolint:gosec // a character set for generated passwords, not a credential
)

// randomPassword generates a password for a new account, honouring the length
// and character constraints C1 asked for.
func (s *userSyncer) randomPassword(ctx context.Context, opts *v2.LocalCredentialOptions_RandomPassword) (string, error) {
	length := max(int(opts.GetLength()), minRandomPasswordLength)
	if serverMin, err := s.client.PasswordMinimumLength(ctx); err != nil {
		// Not fatal: the server checks the password itself and says what is wrong.
		ctxzap.Extract(ctx).Warn("baton-mattermost: could not read the server's minimum password length", zap.Error(err))
	} else {
		length = max(length, serverMin)
	}
	required, err := requiredCharacters(opts.GetConstraints())
	if err != nil {
		return "", err
	}
	return generatePassword(length, required)
}

// requiredCharacters lists a character set for each character the password
// must have: one of each class, and each constraint's min_count of its set.
// The counts are summed and checked before anything is allocated, since C1's
// request could ask for billions.
func requiredCharacters(constraints []*v2.PasswordConstraint) ([]string, error) {
	required := []string{passwordLower, passwordUpper, passwordDigits, passwordSymbols}
	total := uint64(len(required))
	for _, c := range constraints {
		if total += uint64(c.GetMinCount()); total > mattermost.PasswordMaximumLength {
			return nil, status.Errorf(codes.InvalidArgument, "the password constraints ask for more characters than Mattermost allows in a password (%d)",
				mattermost.PasswordMaximumLength)
		}
	}
	for _, c := range constraints {
		for range c.GetMinCount() {
			required = append(required, c.GetCharSet())
		}
	}
	return required, nil
}

// generatePassword returns length random characters (at most Mattermost's
// 72), one from each of the required sets and the rest from letters, digits
// and symbols, in random order.
func generatePassword(length int, required []string) (string, error) {
	if len(required) > mattermost.PasswordMaximumLength {
		return "", status.Errorf(codes.InvalidArgument, "the password constraints ask for %d characters; Mattermost allows at most %d",
			len(required), mattermost.PasswordMaximumLength)
	}
	length = min(max(length, len(required)), mattermost.PasswordMaximumLength)
	pick := func(set string) (rune, error) {
		runes := []rune(set)
		if len(runes) == 0 {
			return 0, status.Error(codes.InvalidArgument, "a password constraint has an empty character set")
		}
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(runes))))
		if err != nil {
			return 0, fmt.Errorf("generating a password: %w", err)
		}
		return runes[i.Int64()], nil
	}
	out := make([]rune, 0, length)
	for i := range length {
		set := passwordLower + passwordUpper + passwordDigits + passwordSymbols
		if i < len(required) {
			set = required[i]
		}
		r, err := pick(set)
		if err != nil {
			return "", err
		}
		out = append(out, r)
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("generating a password: %w", err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	if len(string(out)) > mattermost.PasswordMaximumLength {
		return "", status.Errorf(codes.InvalidArgument, "the password constraints' characters make the password longer than Mattermost's %d bytes",
			mattermost.PasswordMaximumLength)
	}
	return string(out), nil
}
