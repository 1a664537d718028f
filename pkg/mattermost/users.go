package mattermost

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// User is the part of Mattermost's user object the connector reads.
type User struct {
	ID          string `json:"id"`
	CreateAt    int64  `json:"create_at"`
	UpdateAt    int64  `json:"update_at"`
	DeleteAt    int64  `json:"delete_at"`
	Username    string `json:"username"`
	AuthService string `json:"auth_service"`
	Email       string `json:"email"`
	Nickname    string `json:"nickname"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Position    string `json:"position"`
	// Roles is the space-separated list of system roles, e.g. "system_admin system_user".
	Roles     string `json:"roles"`
	Locale    string `json:"locale"`
	MFAActive bool   `json:"mfa_active"`
	IsBot     bool   `json:"is_bot"`
	// RemoteID is set for users of a remote server reached through shared channels.
	RemoteID string `json:"remote_id"`
}

// RoleList splits the space-separated roles field.
func (u *User) RoleList() []string { return strings.Fields(u.Roles) }

// HasRole reports whether the user holds the system role.
func (u *User) HasRole(role string) bool {
	for _, r := range u.RoleList() {
		if r == role {
			return true
		}
	}
	return false
}

// IsActive reports whether the account is not deactivated.
func (u *User) IsActive() bool { return u.DeleteAt == 0 }

// IsRemote reports whether the account belongs to a remote server reached
// through shared channels; such accounts are managed there, not here.
func (u *User) IsRemote() bool { return u.RemoteID != "" }

// IsGuest reports whether the account is a guest (system_guest).
func (u *User) IsGuest() bool { return u.HasRole(RoleSystemGuest) }

// GetMe returns the user the token belongs to.
func (c *Client) GetMe(ctx context.Context) (*User, error) {
	var u User
	if err := c.get(ctx, path("users", "me"), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUser returns one user by id, deactivated users included.
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	var u User
	if err := c.get(ctx, path("users", userID), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

func userID(u *User) string { return u.ID }

// ListUsers returns one page of all users, ordered by username: deactivated
// users, bots and remote users included.
func (c *Client) ListUsers(ctx context.Context, cur Cursor) (Page[User], error) {
	return listPage(ctx, c, path("users"), nil, cur, userID)
}

// AccessTokenID is the id of the personal access token or bot token that
// opened the session, "" for other sessions.
func (s *Session) AccessTokenID() string { return s.Props["user_access_token_id"] }

// CountUsers returns how many accounts ListUsers lists: deactivated, bot and
// remote accounts included (GET /users/stats/filtered; System Admins).
func (c *Client) CountUsers(ctx context.Context) (int, error) {
	var stats struct {
		Total *int `json:"total_users_count"`
	}
	q := url.Values{"include_deleted": {"true"}, "include_bots": {"true"}, "include_remote_users": {"true"}}
	if err := c.get(ctx, path("users", "stats", "filtered"), q, &stats); err != nil {
		return 0, err
	}
	if stats.Total == nil || *stats.Total < 0 {
		call, _ := c.request("GET", path("users", "stats", "filtered"), q)
		return 0, fmt.Errorf("%s: the answer has no user count", call)
	}
	return *stats.Total, nil
}

// CheckUsersPage checks a page of ListUsers fetched ahead, before the page
// before it was known (so with a bare Cursor{Page: n}), against the cursor
// that leads to it, as ListUsers checks the pages it fetches at their cursor.
func (c *Client) CheckUsersPage(cur Cursor, p Page[User]) error {
	return checkPage(func() Call { call, _ := c.request("GET", path("users"), nil); return call }, cur, p.Items, userID)
}
