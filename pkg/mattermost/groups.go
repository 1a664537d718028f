package mattermost

import (
	"context"
	"net/url"
)

// Group is a Mattermost user group (server/public/model/group.go): a custom
// group managed in Mattermost, or an LDAP group linked by LDAP group sync.
type Group struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
	// Source is "custom", "ldap", or "plugin_<id>" for plugin-managed groups.
	Source         string `json:"source"`
	RemoteID       string `json:"remote_id"`
	CreateAt       int64  `json:"create_at"`
	DeleteAt       int64  `json:"delete_at"`
	AllowReference bool   `json:"allow_reference"`
	// SchemeAdmin is set in team and channel group lists: the group's members
	// are admins of that team or channel.
	SchemeAdmin bool `json:"scheme_admin"`
}

// Group sources.
const (
	GroupSourceCustom = "custom"
	GroupSourceLDAP   = "ldap"
)

func groupID(g *Group) string { return g.ID }

// ListGroups returns one page of the server's live groups of every source
// (archived ones excluded), ordered by display name.
func (c *Client) ListGroups(ctx context.Context, cur Cursor) (Page[Group], error) {
	return listPage(ctx, c, path("groups"), nil, cur, groupID)
}

// GetGroup returns one group by id, archived ones included. Unlicensed
// servers answer 501, as for every group endpoint.
func (c *Client) GetGroup(ctx context.Context, groupID string) (*Group, error) {
	var g Group
	if err := c.get(ctx, path("groups", groupID), nil, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// ListGroupMembers returns one page of a group's members (active users only).
func (c *Client) ListGroupMembers(ctx context.Context, groupID string, cur Cursor) (Page[User], error) {
	return listEnveloped(ctx, c, path("groups", groupID, "members"), nil, cur, userID,
		func(body *struct {
			Members []User `json:"members"`
		}) []User {
			return body.Members
		})
}

// ListTeamGroups returns one page of the groups linked to a team, each with
// SchemeAdmin telling whether its members are team admins. Needs a license
// with LDAP groups.
func (c *Client) ListTeamGroups(ctx context.Context, teamID string, cur Cursor) (Page[Group], error) {
	return c.listLinkedGroups(ctx, path("teams", teamID, "groups"), cur)
}

// ListChannelGroups returns one page of the groups linked to a channel, each
// with SchemeAdmin telling whether its members are channel admins.
func (c *Client) ListChannelGroups(ctx context.Context, channelID string, cur Cursor) (Page[Group], error) {
	return c.listLinkedGroups(ctx, path("channels", channelID, "groups"), cur)
}

func (c *Client) listLinkedGroups(ctx context.Context, ep endpoint, cur Cursor) (Page[Group], error) {
	return listEnveloped(ctx, c, ep, nil, cur, groupID, func(body *struct {
		Groups []Group `json:"groups"`
	}) []Group {
		return body.Groups
	})
}

// License is what GET /license/client?format=old tells about the server's license.
type License struct {
	IsLicensed bool
	// SkuShortName is e.g. "professional", "enterprise", "advanced", "entry".
	SkuShortName string
	// LDAPGroups allows LDAP groups and linking groups to teams and channels.
	LDAPGroups bool
}

// AllowsCustomGroups reports whether the license tier includes custom groups
// (Professional and above, as model.MinimumProfessionalLicense decides).
func (l License) AllowsCustomGroups() bool {
	switch l.SkuShortName {
	case "professional", "enterprise", "advanced", "entry":
		return l.IsLicensed
	}
	return false
}

// AllowsGroups reports whether the server can have groups of any kind.
func (l License) AllowsGroups() bool { return l.AllowsCustomGroups() || (l.IsLicensed && l.LDAPGroups) }

// GetLicense returns the server's license summary.
func (c *Client) GetLicense(ctx context.Context) (License, error) {
	var props map[string]string
	if err := c.get(ctx, path("license", "client"), url.Values{"format": {"old"}}, &props); err != nil {
		return License{}, err
	}
	return License{
		IsLicensed:   props["IsLicensed"] == "true",
		SkuShortName: props["SkuShortName"],
		LDAPGroups:   props["LDAPGroups"] == "true",
	}, nil
}
