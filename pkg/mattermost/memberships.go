package mattermost

import (
	"context"
	"net/http"
)

// Team and channel memberships are written the same way: POST .../members to
// add a user (adding a member is a no-op), DELETE .../members/{user_id} to
// remove one, PUT .../members/{user_id}/schemeRoles to set the scheme roles
// (admin = SchemeAdmin).

// AddTeamMember adds a user to a team (and, as Mattermost does, to its default channels).
func (c *Client) AddTeamMember(ctx context.Context, teamID, userID string) (*TeamMember, error) {
	return addMember[TeamMember](ctx, c, path("teams", teamID, "members"), map[string]string{"team_id": teamID, "user_id": userID})
}

// AddChannelMember adds a user to a channel.
func (c *Client) AddChannelMember(ctx context.Context, channelID, userID string) (*ChannelMember, error) {
	return addMember[ChannelMember](ctx, c, path("channels", channelID, "members"), map[string]string{"user_id": userID})
}

// RemoveTeamMember removes a user from a team; Mattermost also removes them
// from every channel of the team.
func (c *Client) RemoveTeamMember(ctx context.Context, teamID, userID string) error {
	return c.write(ctx, http.MethodDelete, path("teams", teamID, "members", userID), nil, nil)
}

// RemoveChannelMember removes a user from a channel.
func (c *Client) RemoveChannelMember(ctx context.Context, channelID, userID string) error {
	return c.write(ctx, http.MethodDelete, path("channels", channelID, "members", userID), nil, nil)
}

// UpdateTeamMemberSchemeRoles sets a team member's scheme roles.
func (c *Client) UpdateTeamMemberSchemeRoles(ctx context.Context, teamID, userID string, roles SchemeRoles) error {
	return c.write(ctx, http.MethodPut, path("teams", teamID, "members", userID, "schemeRoles"), roles, nil)
}

// UpdateChannelMemberSchemeRoles sets a channel member's scheme roles.
func (c *Client) UpdateChannelMemberSchemeRoles(ctx context.Context, channelID, userID string, roles SchemeRoles) error {
	return c.write(ctx, http.MethodPut, path("channels", channelID, "members", userID, "schemeRoles"), roles, nil)
}

func addMember[M any](ctx context.Context, c *Client, ep endpoint, body map[string]string) (*M, error) {
	var m M
	if err := c.write(ctx, http.MethodPost, ep, body, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
