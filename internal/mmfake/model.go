package mmfake

import "strings"

// The fake's wire structs: the fields of Mattermost's objects that it or the
// connector reads, with the JSON tags of server/public/model/*.go (Mattermost 11.4). They
// are written from the server, not shared with pkg/mattermost, so that a wrong
// tag in the client fails a unit test instead of passing unseen. Fields the
// server declares as nullable pointers and omits or nulls when unset (a user's
// remote_id, a group's name and remote_id) are plain strings left out when
// empty here: the same to any decoder.

// User is model.User (server/public/model/user.go).
type User struct {
	ID          string `json:"id"`
	CreateAt    int64  `json:"create_at,omitempty"`
	UpdateAt    int64  `json:"update_at,omitempty"`
	DeleteAt    int64  `json:"delete_at"`
	Username    string `json:"username"`
	AuthService string `json:"auth_service"`
	Email       string `json:"email"`
	Nickname    string `json:"nickname"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Position    string `json:"position"`
	Roles       string `json:"roles"`
	Locale      string `json:"locale"`
	MFAActive   bool   `json:"mfa_active,omitempty"`
	RemoteID    string `json:"remote_id,omitempty"`
	IsBot       bool   `json:"is_bot,omitempty"`
}

// IsActive reports whether the account is not deactivated.
func (u *User) IsActive() bool { return u.DeleteAt == 0 }

func (u *User) hasRole(role string) bool { return strings.Contains(" "+u.Roles+" ", " "+role+" ") }

func (u *User) isGuest() bool { return u.hasRole(RoleSystemGuest) }

// NewUser is the part of model.User that POST /users reads from its body.
type NewUser struct {
	Email               string  `json:"email"`
	Username            string  `json:"username"`
	FirstName           string  `json:"first_name"`
	LastName            string  `json:"last_name"`
	Password            string  `json:"password"`
	AuthService         string  `json:"auth_service"`
	AuthData            *string `json:"auth_data"`
	EmailVerified       bool    `json:"email_verified"`
	DisableWelcomeEmail bool    `json:"disable_welcome_email"`
}

// Session is model.Session (server/public/model/session.go).
type Session struct {
	ID             string            `json:"id"`
	CreateAt       int64             `json:"create_at"`
	LastActivityAt int64             `json:"last_activity_at"`
	DeviceID       string            `json:"device_id"`
	IsOAuth        bool              `json:"is_oauth"`
	Props          map[string]string `json:"props"`
}

// Team is model.Team (server/public/model/team.go).
type Team struct {
	ID              string `json:"id"`
	CreateAt        int64  `json:"create_at"`
	DeleteAt        int64  `json:"delete_at"`
	DisplayName     string `json:"display_name"`
	Name            string `json:"name"`
	Description     string `json:"description"`
	Type            string `json:"type"`
	AllowOpenInvite bool   `json:"allow_open_invite"`
	// SchemeID and GroupConstrained are null unless set, as the server sends them.
	SchemeID         *string `json:"scheme_id"`
	GroupConstrained *bool   `json:"group_constrained"`
}

// Channel is model.Channel (server/public/model/channel.go).
type Channel struct {
	ID               string `json:"id"`
	CreateAt         int64  `json:"create_at"`
	DeleteAt         int64  `json:"delete_at"`
	TeamID           string `json:"team_id"`
	Type             string `json:"type"`
	DisplayName      string `json:"display_name"`
	Name             string `json:"name"`
	Purpose          string `json:"purpose"`
	GroupConstrained *bool  `json:"group_constrained"`
	Shared           *bool  `json:"shared"`
}

// Member holds what model.TeamMember (server/public/model/team_member.go) and
// model.ChannelMember (channel_member.go) share: the user and the scheme roles.
type Member struct {
	UserID        string `json:"user_id"`
	Roles         string `json:"roles"`
	SchemeGuest   bool   `json:"scheme_guest"`
	SchemeUser    bool   `json:"scheme_user"`
	SchemeAdmin   bool   `json:"scheme_admin"`
	ExplicitRoles string `json:"explicit_roles"`
}

// TeamMember is model.TeamMember. A member who left keeps the row, DeleteAt set.
type TeamMember struct {
	TeamID string `json:"team_id"`
	Member
	DeleteAt int64 `json:"delete_at"`
}

// ChannelMember is model.ChannelMember. Leaving a channel deletes the row.
type ChannelMember struct {
	ChannelID string `json:"channel_id"`
	Member
}

// schemeRoles is model.SchemeRoles (server/public/model/scheme.go), the body of .../schemeRoles.
type schemeRoles struct {
	SchemeAdmin bool `json:"scheme_admin"`
	SchemeUser  bool `json:"scheme_user"`
	SchemeGuest bool `json:"scheme_guest"`
}

// Group is model.Group (server/public/model/group.go).
type Group struct {
	ID             string `json:"id"`
	Name           string `json:"name,omitempty"`
	DisplayName    string `json:"display_name"`
	Description    string `json:"description"`
	Source         string `json:"source"`
	RemoteID       string `json:"remote_id,omitempty"`
	CreateAt       int64  `json:"create_at"`
	DeleteAt       int64  `json:"delete_at"`
	AllowReference bool   `json:"allow_reference"`
}

// groupWithSchemeAdmin is model.GroupWithSchemeAdmin, a row of a team's or channel's group list.
type groupWithSchemeAdmin struct {
	Group
	SchemeAdmin *bool `json:"scheme_admin,omitempty"`
}

// Role is model.Role (server/public/model/role.go).
type Role struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	DisplayName   string   `json:"display_name"`
	Description   string   `json:"description"`
	DeleteAt      int64    `json:"delete_at"`
	Permissions   []string `json:"permissions"`
	SchemeManaged bool     `json:"scheme_managed"`
	BuiltIn       bool     `json:"built_in"`
}

// PostStats is model.UserPostStats: what a /reports/users row adds besides last_login.
type PostStats struct {
	LastStatusAt *int64 `json:"last_status_at,omitempty"`
	LastPostDate *int64 `json:"last_post_date,omitempty"`
}

// appError is model.AppError (server/public/model/utils.go), Mattermost's error body.
type appError struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id,omitempty"`
	StatusCode    int    `json:"status_code,omitempty"`
}

// System role names (server/public/model/role.go).
const (
	RoleSystemAdmin            = "system_admin"
	RoleSystemUser             = "system_user"
	RoleSystemGuest            = "system_guest"
	RoleSystemPostAll          = "system_post_all"
	RoleSystemPostAllPublic    = "system_post_all_public"
	RoleSystemUserAccessToken  = "system_user_access_token" //nolint:gosec // a role name, not a credential
	RoleSystemUserManager      = "system_user_manager"
	RoleSystemReadOnlyAdmin    = "system_read_only_admin"
	RoleSystemManager          = "system_manager"
	RoleSystemCustomGroupAdmin = "system_custom_group_admin"
)

// Channel types (model.ChannelType) and the channel every team member is in.
const (
	ChannelOpen        = "O"
	ChannelPrivate     = "P"
	ChannelDirect      = "D"
	ChannelGroup       = "G"
	DefaultChannelName = "town-square"
)
