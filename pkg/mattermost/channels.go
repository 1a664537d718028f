package mattermost

import (
	"context"
	"net/http"
	"net/url"
)

// Channel types (model.ChannelType).
const (
	ChannelTypeOpen    = "O" // public
	ChannelTypePrivate = "P"
	ChannelTypeDirect  = "D"
	ChannelTypeGroup   = "G"
)

// DefaultChannelName is the channel every team member is in and cannot leave.
const DefaultChannelName = "town-square"

// Channel is the part of Mattermost's channel object the connector reads.
type Channel struct {
	ID          string `json:"id"`
	CreateAt    int64  `json:"create_at"`
	DeleteAt    int64  `json:"delete_at"`
	TeamID      string `json:"team_id"`
	Type        string `json:"type"`
	DisplayName string `json:"display_name"`
	Name        string `json:"name"`
	Purpose     string `json:"purpose"`
	// GroupConstrained channels take their members from LDAP group sync.
	GroupConstrained *bool `json:"group_constrained"`
	// Shared channels are shared with remote servers (Shared Channels).
	Shared *bool `json:"shared"`
}

// IsArchived reports whether the channel was archived.
func (ch *Channel) IsArchived() bool { return ch.DeleteAt > 0 }

// IsGroupConstrained reports whether membership is managed by group sync.
func (ch *Channel) IsGroupConstrained() bool {
	return ch.GroupConstrained != nil && *ch.GroupConstrained
}

// IsShared reports whether the channel is shared with remote servers.
func (ch *Channel) IsShared() bool { return ch.Shared != nil && *ch.Shared }

// ChannelMember is one membership of a channel.
type ChannelMember struct {
	ChannelID string `json:"channel_id"`
	UserID    string `json:"user_id"`
	Roles     string `json:"roles"`
	SchemeRoles
}

// SchemeRoles are a team or channel membership's scheme roles, and the body of
// the .../members/{user_id}/schemeRoles endpoints. Admin is SchemeAdmin: with
// custom permission schemes the role names are generated ids, so role-name
// strings cannot be trusted.
type SchemeRoles struct {
	SchemeAdmin bool `json:"scheme_admin"`
	SchemeUser  bool `json:"scheme_user"`
	SchemeGuest bool `json:"scheme_guest"`
}

func channelID(ch *Channel) string { return ch.ID }

// ListPrivateChannels returns the next part of a team's live private channels
// (archived ones excluded). Needs manage_system.
func (c *Client) ListPrivateChannels(ctx context.Context, teamID string, cur Cursor) (Page[Channel], error) {
	return walkOrdered(ctx, c, path("teams", teamID, "channels", "private"), nil, cur, channelID)
}

// SearchPrivateChannels returns the next part of the live private channels
// of every team, archived teams' included, ordered by display name, with the
// server's count of them in Total. POST /channels/search as a System Admin
// (it needs sysconsole_read_user_management_channels) lists them server-wide:
// a few requests where /teams/{id}/channels/private costs one per team. Its
// order (display name, then team display name) is not unique, so it is walked
// in overlapping windows like the other channel lists (walk.go).
func (c *Client) SearchPrivateChannels(ctx context.Context, cur Cursor) (Page[Channel], error) {
	ep := path("channels", "search")
	total := 0
	read := func(ctx context.Context, page, perPage int) ([]Channel, error) {
		// With page and per_page the answer is {"channels": [...],
		// "total_count": N}; without, a bare list of at most 100.
		query := map[string]any{"term": "", "private": true, "page": page, "per_page": perPage}
		var body struct {
			Channels   []Channel `json:"channels"`
			TotalCount int       `json:"total_count"`
		}
		if err := c.readByPost(ctx, ep, query, &body); err != nil {
			return nil, err
		}
		total = body.TotalCount
		return body.Channels, nil
	}
	p, err := walkWindows(ctx, cur, channelID, read, c.listFailure(http.MethodPost, ep, nil))
	p.Total = total
	return p, err
}

// ListPublicChannels returns the next part of a team's live public channels.
func (c *Client) ListPublicChannels(ctx context.Context, teamID string, cur Cursor) (Page[Channel], error) {
	return walkOrdered(ctx, c, path("teams", teamID, "channels"), nil, cur, channelID)
}

// ListChannelUsers returns the next part of a channel's members as users,
// ordered by username. /channels/{id}/members has no ORDER BY, so it cannot
// be paged exactly; /users?in_channel can (see walkOrdered).
func (c *Client) ListChannelUsers(ctx context.Context, channelID string, cur Cursor) (Page[User], error) {
	return walkOrdered(ctx, c, path("users"), url.Values{"in_channel": {channelID}}, cur, userID)
}

// ListSmallChannelMembers returns every membership of a channel that has
// fewer than PerPage members, in one request (a single query, so a
// consistent snapshot), and true; false for a larger channel, whose members
// are walked with ListChannelUsers instead: /channels/{id}/members has no
// ORDER BY, so only a listing that fits one page is exact.
func (c *Client) ListSmallChannelMembers(ctx context.Context, channelID string) ([]ChannelMember, bool, error) {
	var members []ChannelMember
	if err := c.getPage(ctx, path("channels", channelID, "members"), nil, 0, PerPage, &members); err != nil {
		return nil, false, err
	}
	if len(members) >= PerPage {
		return nil, false, nil
	}
	return members, true, nil
}

// GetChannelMembersByIDs returns the memberships of those users that are members of the channel.
func (c *Client) GetChannelMembersByIDs(ctx context.Context, channelID string, userIDs []string) ([]ChannelMember, error) {
	var members []ChannelMember
	if err := c.readByPost(ctx, path("channels", channelID, "members", "ids"), userIDs, &members); err != nil {
		return nil, err
	}
	return members, nil
}

// GetChannel returns one channel by id, archived ones included.
func (c *Client) GetChannel(ctx context.Context, channelID string) (*Channel, error) {
	var ch Channel
	if err := c.get(ctx, path("channels", channelID), nil, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// GetChannelMember returns a user's membership of a channel, or nil when the
// user is not a member (asked by id, which answers an empty list rather than a 404).
func (c *Client) GetChannelMember(ctx context.Context, channelID, userID string) (*ChannelMember, error) {
	members, err := c.GetChannelMembersByIDs(ctx, channelID, []string{userID})
	if err != nil {
		return nil, err
	}
	for i := range members {
		if members[i].UserID == userID {
			return &members[i], nil
		}
	}
	return nil, nil
}

// ListUserChannelsInTeam returns the live channels of a team that a user is a
// member of. Mattermost adds the user's direct and group messages, which
// belong to no team; they are left out.
func (c *Client) ListUserChannelsInTeam(ctx context.Context, userID, teamID string) ([]Channel, error) {
	var all []Channel
	if err := c.get(ctx, path("users", userID, "teams", teamID, "channels"), nil, &all); err != nil {
		return nil, err
	}
	out := all[:0]
	for _, ch := range all {
		if ch.TeamID == teamID && (ch.Type == ChannelTypeOpen || ch.Type == ChannelTypePrivate) {
			out = append(out, ch)
		}
	}
	return out, nil
}
