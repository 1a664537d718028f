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
