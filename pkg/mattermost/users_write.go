package mattermost

import (
	"context"
	"net/http"
)

// Mattermost error ids the account lifecycle branches on.
const (
	// ErrIDEmailExists: POST /users with an e-mail address another account has.
	ErrIDEmailExists = "app.user.save.email_exists.app_error"
	// ErrIDUsernameExists: POST /users with a username another account (or a group) has.
	ErrIDUsernameExists = "app.user.save.username_exists.app_error"
	// ErrIDSaveUser: POST /users failed in the database; an SSO account whose
	// auth_data another account already has ends here (HTTP 500, unique key users_authdata_key).
	ErrIDSaveUser = "app.user.save.app_error"
	// ErrIDMissingAccount: GET /users/{id}, /users/email/{e}, /users/username/{u} of an unknown user.
	ErrIDMissingAccount = "app.user.missing_account.const"
	// ErrIDManagedByLDAP: PUT /users/{id}/active on an LDAP account; the LDAP sync owns its status.
	ErrIDManagedByLDAP = "api.user.update_active.cannot_modify_status_when_user_is_managed_by_ldap.app_error"
	// ErrIDGuestAccountsDisabled: re-activating a guest while guest accounts are switched off.
	ErrIDGuestAccountsDisabled = "api.user.update_active.cannot_enable_guest_when_guest_feature_is_disabled.app_error"
	// ErrIDUserLimit and ErrIDLicenseUserLimit: re-activating a user would
	// exceed the limit of active users (the licence's, or 250 on an unlicensed server).
	ErrIDUserLimit        = "app.user.update_active.user_limit.exceeded"
	ErrIDLicenseUserLimit = "app.user.update_active.license_user_limit.exceeded"
	// ErrIDCreateUserLimit and ErrIDCreateLicenseUserLimit: creating a user
	// would exceed the limit of active users (250 on an unlicensed server).
	ErrIDCreateUserLimit        = "api.user.create_user.user_limits.exceeded"
	ErrIDCreateLicenseUserLimit = "api.user.create_user.license_user_limits.exceeded"
)

// SSO authentication services an account can be created with (model.UserAuthService*).
var AuthServices = []string{"saml", "ldap", "openid", "gitlab", "google", "office365"}

// NewUser is the body of POST /users. A System Admin's token creates the
// account directly (CreateUserAsAdmin): no sign-up settings apply, roles are
// always system_user.
type NewUser struct {
	Email     string `json:"email"`
	Username  string `json:"username"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// Password is required for e-mail accounts and must be empty for SSO accounts.
	Password string `json:"password,omitempty"`
	// AuthService and AuthData make an SSO account: the user signs in through
	// that provider, identified there by AuthData.
	AuthService string  `json:"auth_service,omitempty"`
	AuthData    *string `json:"auth_data,omitempty"`
	// EmailVerified spares the user the verification mail; only admins may set it.
	EmailVerified bool `json:"email_verified"`
	// DisableWelcomeEmail stops the server's welcome e-mail to the new user.
	DisableWelcomeEmail bool `json:"disable_welcome_email"`
}

// CreateUser creates an account (POST /users) and returns it. It is never
// retried after a failure that may have reached the server, so it creates at
// most one account.
func (c *Client) CreateUser(ctx context.Context, u *NewUser) (*User, error) {
	var out User
	if err := c.do(ctx, http.MethodPost, "/users", nil, u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetUserByEmail returns the account with this e-mail address (System Admins only).
func (c *Client) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := c.do(ctx, http.MethodGet, "/users/email/"+pathEscape(email), nil, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUserByUsername returns the account with this username.
func (c *Client) GetUserByUsername(ctx context.Context, username string) (*User, error) {
	var u User
	if err := c.do(ctx, http.MethodGet, "/users/username/"+pathEscape(username), nil, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// SetUserActive deactivates or re-activates an account (PUT /users/{id}/active).
// Deactivation also revokes the user's sessions and makes their personal
// access tokens fail. The server refuses LDAP accounts (ErrIDManagedByLDAP).
// Bots are switched with SetBotActive instead, which keeps the bot record in step.
func (c *Client) SetUserActive(ctx context.Context, userID string, active bool) error {
	return c.do(ctx, http.MethodPut, "/users/"+pathEscape(userID)+"/active", nil, map[string]bool{"active": active}, nil)
}

// Session is the part of a login session the connector reads.
type Session struct {
	ID             string            `json:"id"`
	CreateAt       int64             `json:"create_at"`
	LastActivityAt int64             `json:"last_activity_at"`
	DeviceID       string            `json:"device_id"`
	IsOAuth        bool              `json:"is_oauth"`
	Props          map[string]string `json:"props"`
}

// IsAccessToken reports whether the session stands for a personal access
// token: revoking it does not revoke the token, whose next use opens a new session.
func (s *Session) IsAccessToken() bool { return s.Props["type"] == "UserAccessToken" }

// ListSessions returns a user's current sessions (GET /users/{id}/sessions).
func (c *Client) ListSessions(ctx context.Context, userID string) ([]Session, error) {
	var out []Session
	if err := c.do(ctx, http.MethodGet, "/users/"+pathEscape(userID)+"/sessions", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeAllSessions signs a user out of every session (POST /users/{id}/sessions/revoke/all).
func (c *Client) RevokeAllSessions(ctx context.Context, userID string) error {
	return c.do(ctx, http.MethodPost, "/users/"+pathEscape(userID)+"/sessions/revoke/all", nil, nil, nil)
}
