package mattermost

import (
	"context"
	"crypto/subtle"
	"net/http"
)

// AccessToken is a personal access token or a bot token as Mattermost lists
// it (model.UserAccessToken, sanitised): the token itself is never sent back
// after its creation, only its id. Both kinds are the same object; a bot
// token is one whose owner is a bot.
type AccessToken struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	// Description is what the creator typed; Mattermost requires one.
	Description string `json:"description"`
	// IsActive is false for a disabled token, which fails until enabled again.
	IsActive bool `json:"is_active"`
}

func accessTokenID(t *AccessToken) string { return t.ID }

// ListAccessTokens returns one page of every token of the server, of every
// user and bot (GET /users/tokens; needs manage_system). Mattermost lists them
// in no particular order.
func (c *Client) ListAccessTokens(ctx context.Context, cur Cursor) (Page[AccessToken], error) {
	return listPage(ctx, c, path("users", "tokens"), nil, cur, accessTokenID)
}

// GetAccessToken returns one token by id; an unknown id (or a revoked token,
// which Mattermost deletes) is a 404.
func (c *Client) GetAccessToken(ctx context.Context, tokenID string) (*AccessToken, error) {
	var t AccessToken
	if err := c.get(ctx, path("users", "tokens", tokenID), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// RevokeAccessToken deletes a token (POST /users/tokens/revoke): it fails from
// its next request on, and the session opened with it ends.
func (c *Client) RevokeAccessToken(ctx context.Context, tokenID string) error {
	return c.write(ctx, http.MethodPost, path("users", "tokens", "revoke"), map[string]string{"token_id": tokenID}, nil)
}

// SetAccessTokenActive disables or enables a token (POST /users/tokens/disable
// or /enable). Disabling ends the session opened with it; doing either twice
// is not an error.
func (c *Client) SetAccessTokenActive(ctx context.Context, tokenID string, active bool) error {
	verb := "disable"
	if active {
		verb = "enable"
	}
	return c.write(ctx, http.MethodPost, path("users", "tokens", verb), map[string]string{"token_id": tokenID}, nil)
}

// AccessTokensEnabled reads ServiceSettings.EnableUserAccessTokens from the
// client configuration. While it is off, people's tokens are refused (401)
// and cannot be created; bot tokens keep working.
func (c *Client) AccessTokensEnabled(ctx context.Context) (bool, error) {
	cfg, err := c.clientConfig(ctx)
	if err != nil {
		return false, err
	}
	return cfg["EnableUserAccessTokens"] == "true", nil
}

// IsOwnToken reports whether s is the token the client runs with: a
// Mattermost token has the shape of an id, so one given where a token id
// belongs must be caught before it travels in a request path or a message.
func (c *Client) IsOwnToken(s string) bool {
	return subtle.ConstantTimeCompare([]byte(s), []byte(c.token)) == 1
}

// GetUsersByIDs returns the users with these ids (POST /users/ids),
// deactivated ones included; ids the server does not know are left out.
func (c *Client) GetUsersByIDs(ctx context.Context, ids []string) ([]User, error) {
	var users []User
	if err := c.readByPost(ctx, path("users", "ids"), ids, &users); err != nil {
		return nil, err
	}
	return users, nil
}
