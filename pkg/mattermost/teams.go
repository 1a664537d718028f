package mattermost

import (
	"context"
	"net/http"
	"net/url"
)

// Team is the part of Mattermost's team object the connector reads.
type Team struct {
	ID          string `json:"id"`
	CreateAt    int64  `json:"create_at"`
	DeleteAt    int64  `json:"delete_at"`
	DisplayName string `json:"display_name"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Type is "O" (open) or "I" (invite only).
	Type            string `json:"type"`
	AllowOpenInvite bool   `json:"allow_open_invite"`
	// GroupConstrained teams take their members from LDAP group sync.
	GroupConstrained *bool   `json:"group_constrained"`
	SchemeID         *string `json:"scheme_id"`
}

// IsArchived reports whether the team was archived (soft-deleted).
func (t *Team) IsArchived() bool { return t.DeleteAt > 0 }

// IsGroupConstrained reports whether membership is managed by group sync.
func (t *Team) IsGroupConstrained() bool { return t.GroupConstrained != nil && *t.GroupConstrained }

// TeamMember is one membership row of a team.
type TeamMember struct {
	TeamID   string `json:"team_id"`
	UserID   string `json:"user_id"`
	Roles    string `json:"roles"`
	DeleteAt int64  `json:"delete_at"`
	// SchemeGuest, SchemeUser and SchemeAdmin are the membership's scheme
	// roles. Admin is SchemeAdmin: with custom schemes the role names are
	// generated ids, so role-name strings cannot be trusted.
	SchemeGuest   bool   `json:"scheme_guest"`
	SchemeUser    bool   `json:"scheme_user"`
	SchemeAdmin   bool   `json:"scheme_admin"`
	ExplicitRoles string `json:"explicit_roles"`
}

// ListTeams returns one page of all teams the token can see; for a System
// Admin that is every team, archived ones included.
func (c *Client) ListTeams(ctx context.Context, page int) (Page[Team], error) {
	return listPage[Team](ctx, c, "/teams", nil, page)
}

// GetTeam returns one team by id.
func (c *Client) GetTeam(ctx context.Context, teamID string) (*Team, error) {
	var t Team
	if err := c.do(ctx, http.MethodGet, "/teams/"+pathEscape(teamID), nil, nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTeamMembers returns one page of a team's active memberships, ordered by
// user id (a stable order, so offset paging neither skips nor repeats).
func (c *Client) ListTeamMembers(ctx context.Context, teamID string, page int) (Page[TeamMember], error) {
	return listPage[TeamMember](ctx, c, "/teams/"+pathEscape(teamID)+"/members", nil, page)
}

func pathEscape(s string) string { return url.PathEscape(s) }

// Error ids of the team membership endpoints (server/channels/app/team.go, server/channels/api4/team.go).
const (
	ErrTeamMaxAccounts         = "app.team.join_user_to_team.max_accounts.app_error"
	ErrTeamSaveMaxAccounts     = "app.team.join_user_to_team.save_member.max_accounts.app_error"
	ErrTeamAllowedDomains      = "api.team.join_user_to_team.allowed_domains.app_error"
	ErrTeamUserDenied          = "api.team.add_members.user_denied"
	ErrTeamRemoveGroup         = "api.team.remove_member.group_constrained.app_error"
	ErrTeamRemoveMissing       = "api.team.remove_user_from_team.missing.app_error"
	ErrTeamRolesGuest          = "api.team.update_team_member_roles.guest.app_error"
	ErrTeamRolesGuestUser      = "api.team.update_team_member_roles.user_and_guest.app_error"
	ErrTeamRolesChangingGuest  = "api.channel.update_team_member_roles.changing_guest_role.app_error"
	ErrTeamRolesUnsetUserRoles = "api.team.update_team_member_roles.unset_user_scheme.app_error"
)

// IsActive reports whether the membership is current (removed members keep a row with DeleteAt set).
func (m *TeamMember) IsActive() bool { return m.DeleteAt == 0 }

// GetTeamMember returns a user's current membership of a team, or nil when the
// user is not a member. It asks POST /teams/{id}/members/ids, which answers
// with active memberships only and with an empty list rather than a 404
// (GET /teams/{id}/members/{user_id} would also return the old row of a user
// who left, with delete_at set).
func (c *Client) GetTeamMember(ctx context.Context, teamID, userID string) (*TeamMember, error) {
	var members []TeamMember
	if err := c.readByPost(ctx, "/teams/"+pathEscape(teamID)+"/members/ids", []string{userID}, &members); err != nil {
		return nil, err
	}
	for i := range members {
		if m := &members[i]; m.UserID == userID && m.IsActive() {
			return m, nil
		}
	}
	return nil, nil
}

// AddTeamMember adds a user to a team (and, as Mattermost does, to its default
// channels); adding a member is a no-op.
func (c *Client) AddTeamMember(ctx context.Context, teamID, userID string) (*TeamMember, error) {
	var m TeamMember
	if err := c.do(ctx, http.MethodPost, "/teams/"+pathEscape(teamID)+"/members", nil,
		map[string]string{"team_id": teamID, "user_id": userID}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// RemoveTeamMember removes a user from a team; Mattermost also removes them
// from every channel of the team.
func (c *Client) RemoveTeamMember(ctx context.Context, teamID, userID string) error {
	return c.do(ctx, http.MethodDelete, "/teams/"+pathEscape(teamID)+"/members/"+pathEscape(userID), nil, nil, nil)
}

// UpdateTeamMemberSchemeRoles sets a member's scheme roles (team admin = SchemeAdmin).
func (c *Client) UpdateTeamMemberSchemeRoles(ctx context.Context, teamID, userID string, roles SchemeRoles) error {
	return c.do(ctx, http.MethodPut, "/teams/"+pathEscape(teamID)+"/members/"+pathEscape(userID)+"/schemeRoles", nil, roles, nil)
}
