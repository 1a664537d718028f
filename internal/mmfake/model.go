package mmfake

import (
	"slices"
	"strings"
)

// The fake's wire structs: the fields of Mattermost's objects that it or the
// connector reads, with the JSON tags of server/public/model/*.go (Mattermost
// 11.4), each struct's fields in the order of their JSON names. They are
// written from the server, not shared with pkg/mattermost, so that a wrong tag
// in the client fails a unit test instead of passing unseen. Fields the server
// declares as nullable pointers and omits when unset (a user's remote_id, a
// group's name and remote_id) are plain strings left out when empty here: the
// same to any decoder.

// User is model.User (server/public/model/user.go).
type User struct {
	AuthService string `json:"auth_service"`
	CreateAt    int64  `json:"create_at,omitempty"`
	DeleteAt    int64  `json:"delete_at"`
	Email       string `json:"email"`
	FirstName   string `json:"first_name"`
	ID          string `json:"id"`
	IsBot       bool   `json:"is_bot,omitempty"`
	LastName    string `json:"last_name"`
	Locale      string `json:"locale"`
	MFAActive   bool   `json:"mfa_active,omitempty"`
	Nickname    string `json:"nickname"`
	Position    string `json:"position"`
	RemoteID    string `json:"remote_id,omitempty"`
	Roles       string `json:"roles"`
	UpdateAt    int64  `json:"update_at,omitempty"`
	Username    string `json:"username"`
}

// IsActive reports whether the account is not deactivated.
func (u *User) IsActive() bool { return u.DeleteAt == 0 }

func (u *User) hasRole(role string) bool { return slices.Contains(strings.Fields(u.Roles), role) }

func (u *User) isGuest() bool { return u.hasRole(roleSystemGuest) }

// NewUser is the part of model.User that POST /users reads from its body.
type NewUser struct {
	AuthData            *string `json:"auth_data"`
	AuthService         string  `json:"auth_service"`
	DisableWelcomeEmail bool    `json:"disable_welcome_email"`
	Email               string  `json:"email"`
	EmailVerified       bool    `json:"email_verified"`
	FirstName           string  `json:"first_name"`
	LastName            string  `json:"last_name"`
	Password            string  `json:"password"`
	Username            string  `json:"username"`
}

// Session is model.Session (server/public/model/session.go).
type Session struct {
	CreateAt       int64             `json:"create_at"`
	DeviceID       string            `json:"device_id"`
	ID             string            `json:"id"`
	IsOAuth        bool              `json:"is_oauth"`
	LastActivityAt int64             `json:"last_activity_at"`
	Props          map[string]string `json:"props"`
}

// AccessToken is model.UserAccessToken (server/public/model/user_access_token.go):
// a personal access token, or a bot token when its owner is a bot. Token,
// the secret itself, is sent only when the token is created.
type AccessToken struct {
	Description string `json:"description"`
	ID          string `json:"id"`
	IsActive    bool   `json:"is_active"`
	Token       string `json:"token,omitempty"`
	UserID      string `json:"user_id"`
}

// Team is model.Team (server/public/model/team.go).
type Team struct {
	AllowOpenInvite  bool   `json:"allow_open_invite"`
	CreateAt         int64  `json:"create_at"`
	DeleteAt         int64  `json:"delete_at"`
	Description      string `json:"description"`
	DisplayName      string `json:"display_name"`
	GroupConstrained *bool  `json:"group_constrained"`
	ID               string `json:"id"`
	Name             string `json:"name"`
	// SchemeID and GroupConstrained are null unless set, as the server sends them.
	SchemeID *string `json:"scheme_id"`
	Type     string  `json:"type"`
}

// Channel is model.Channel (server/public/model/channel.go).
type Channel struct {
	CreateAt         int64  `json:"create_at"`
	DeleteAt         int64  `json:"delete_at"`
	DisplayName      string `json:"display_name"`
	GroupConstrained *bool  `json:"group_constrained"`
	ID               string `json:"id"`
	Name             string `json:"name"`
	Purpose          string `json:"purpose"`
	Shared           *bool  `json:"shared"`
	TeamID           string `json:"team_id"`
	Type             string `json:"type"`
}

// Member holds what model.TeamMember (server/public/model/team_member.go) and
// model.ChannelMember (channel_member.go) share: the user and the scheme roles.
type Member struct {
	ExplicitRoles string `json:"explicit_roles"`
	Roles         string `json:"roles"`
	SchemeAdmin   bool   `json:"scheme_admin"`
	SchemeGuest   bool   `json:"scheme_guest"`
	SchemeUser    bool   `json:"scheme_user"`
	UserID        string `json:"user_id"`
}

// TeamMember is model.TeamMember. A member who left keeps the row, DeleteAt set.
type TeamMember struct {
	Member
	DeleteAt int64  `json:"delete_at"`
	TeamID   string `json:"team_id"`
}

// ChannelMember is model.ChannelMember. Leaving a channel deletes the row.
type ChannelMember struct {
	Member
	ChannelID string `json:"channel_id"`
}

// schemeRoles is model.SchemeRoles (server/public/model/scheme.go), the body of .../schemeRoles.
type schemeRoles struct {
	SchemeAdmin bool `json:"scheme_admin"`
	SchemeGuest bool `json:"scheme_guest"`
	SchemeUser  bool `json:"scheme_user"`
}

// Group is model.Group (server/public/model/group.go).
type Group struct {
	AllowReference bool   `json:"allow_reference"`
	CreateAt       int64  `json:"create_at"`
	DeleteAt       int64  `json:"delete_at"`
	Description    string `json:"description"`
	DisplayName    string `json:"display_name"`
	ID             string `json:"id"`
	Name           string `json:"name,omitempty"`
	RemoteID       string `json:"remote_id,omitempty"`
	Source         string `json:"source"`
}

// groupWithSchemeAdmin is model.GroupWithSchemeAdmin, a row of a team's or channel's group list.
type groupWithSchemeAdmin struct {
	Group
	SchemeAdmin *bool `json:"scheme_admin,omitempty"`
}

// Role is model.Role (server/public/model/role.go).
type Role struct {
	BuiltIn       bool     `json:"built_in"`
	DeleteAt      int64    `json:"delete_at"`
	Description   string   `json:"description"`
	DisplayName   string   `json:"display_name"`
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Permissions   []string `json:"permissions"`
	SchemeManaged bool     `json:"scheme_managed"`
}

// PostStats is model.UserPostStats: what a /reports/users row adds besides last_login.
type PostStats struct {
	LastPostDate *int64 `json:"last_post_date,omitempty"`
	LastStatusAt *int64 `json:"last_status_at,omitempty"`
}

// appError is model.AppError (server/public/model/utils.go), Mattermost's error body.
type appError struct {
	DetailedError string `json:"detailed_error"`
	ID            string `json:"id"`
	Message       string `json:"message"`
	RequestID     string `json:"request_id,omitempty"`
	StatusCode    int    `json:"status_code,omitempty"`
}
