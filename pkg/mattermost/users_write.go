package mattermost

import (
	"context"
	"net/http"
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
	if err := c.write(ctx, http.MethodPost, path("users"), u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetUserByEmail returns the account with this e-mail address (System Admins only).
func (c *Client) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := c.get(ctx, path("users", "email", email), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUserByUsername returns the account with this username.
func (c *Client) GetUserByUsername(ctx context.Context, username string) (*User, error) {
	var u User
	if err := c.get(ctx, path("users", "username", username), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// SetUserActive deactivates or re-activates an account (PUT /users/{id}/active).
// Deactivation also revokes the user's sessions and makes their personal
// access tokens fail. The server refuses LDAP accounts (IDManagedByLDAP).
// Bots are switched with SetBotActive instead, which keeps the bot record in step.
func (c *Client) SetUserActive(ctx context.Context, userID string, active bool) error {
	return c.write(ctx, http.MethodPut, path("users", userID, "active"), map[string]bool{"active": active}, nil)
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
	if err := c.get(ctx, path("users", userID, "sessions"), nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeAllSessions signs a user out of every session (POST /users/{id}/sessions/revoke/all).
func (c *Client) RevokeAllSessions(ctx context.Context, userID string) error {
	return c.write(ctx, http.MethodPost, path("users", userID, "sessions", "revoke", "all"), nil, nil)
}
