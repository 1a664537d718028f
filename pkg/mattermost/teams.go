package mattermost

import (
	"context"
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
	TeamID        string `json:"team_id"`
	UserID        string `json:"user_id"`
	Roles         string `json:"roles"`
	DeleteAt      int64  `json:"delete_at"`
	ExplicitRoles string `json:"explicit_roles"`
	SchemeRoles
}

// ListTeams returns one page of all teams the token can see; for a System
// Admin that is every team, archived ones included.
func (c *Client) ListTeams(ctx context.Context, cur Cursor) (Page[Team], error) {
	return listPage(ctx, c, path("teams"), nil, cur, func(t *Team) string { return t.ID })
}

// GetTeam returns one team by id.
func (c *Client) GetTeam(ctx context.Context, teamID string) (*Team, error) {
	var t Team
	if err := c.get(ctx, path("teams", teamID), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTeamMembers returns one page of a team's active memberships, ordered by
// user id (a stable order, so offset paging neither skips nor repeats).
func (c *Client) ListTeamMembers(ctx context.Context, teamID string, cur Cursor) (Page[TeamMember], error) {
	return listPage(ctx, c, path("teams", teamID, "members"), nil, cur, func(m *TeamMember) string { return m.UserID })
}

// IsActive reports whether the membership is current (removed members keep a row with DeleteAt set).
func (m *TeamMember) IsActive() bool { return m.DeleteAt == 0 }

// GetTeamMember returns a user's current membership of a team, or nil when the
// user is not a member. It asks POST /teams/{id}/members/ids, which answers
// with active memberships only and with an empty list rather than a 404
// (GET /teams/{id}/members/{user_id} would also return the old row of a user
// who left, with delete_at set).
func (c *Client) GetTeamMember(ctx context.Context, teamID, userID string) (*TeamMember, error) {
	var members []TeamMember
	if err := c.readByPost(ctx, path("teams", teamID, "members", "ids"), []string{userID}, &members); err != nil {
		return nil, err
	}
	for i := range members {
		if m := &members[i]; m.UserID == userID && m.IsActive() {
			return m, nil
		}
	}
	return nil, nil
}
