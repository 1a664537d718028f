package connector

import (
	"context"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// channelSyncer syncs the channels of each team: private channels always,
// public ones with sync-public-channels. Archived channels, and direct and
// group messages (which belong to no team), are never synced.
type channelSyncer struct {
	membershipSyncer
}

func newChannelSyncer(client *mattermost.Client, opts Options) *channelSyncer {
	return &channelSyncer{newMembershipSyncer(client, opts, channelMemberships{client: client})}
}

func (s *channelSyncer) ResourceType(_ context.Context) *v2.ResourceType { return channelResourceType }

// channelListToken is List's page token: which of the team's two channel
// lists is being walked, and where.
type channelListToken struct {
	Public bool `json:"p,omitempty"`
	mattermost.Cursor
}

// List returns one team's channels, one window a call: first the private
// ones (/teams/{id}/channels/private), then, if configured, the public ones
// (/teams/{id}/channels). Both lists hold live channels of type P or O only.
// Per-team lists fit the SDK's parent/child walk and cost one request per
// team and list, as the team's member listing does; GET /channels (all
// teams) would need fewer requests but cannot be tied to a parent team.
// Called without a team, it returns nothing: channels are only children.
func (s *channelSyncer) List(ctx context.Context, parent *v2.ResourceId, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if parent == nil || parent.GetResourceType() != teamResourceType.GetId() {
		return nil, nil, nil
	}
	return sdkResult(s.list(ctx, parent.GetResource(), attrs))
}

func (s *channelSyncer) list(ctx context.Context, teamID string, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	var tok channelListToken
	if err := parsePageToken(attrs.PageToken, &tok); err != nil {
		return nil, nil, err
	}
	list := s.client.ListPrivateChannels
	if tok.Public {
		list = s.client.ListPublicChannels
	}
	channels, err := list(ctx, teamID, tok.Cursor)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Resource, 0, len(channels.Items))
	for i := range channels.Items {
		r, err := channelResource(&channels.Items[i])
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	var next *channelListToken
	switch {
	case channels.Next != nil:
		next = &channelListToken{Public: tok.Public, Cursor: *channels.Next}
	case !tok.Public && s.opts.SyncPublicChannels:
		next = &channelListToken{Public: true}
	}
	res, err := nextPage(next)
	return out, res, err
}

func channelResource(ch *mattermost.Channel) (*v2.Resource, error) {
	profile := map[string]interface{}{
		"channel_id":        ch.ID,
		"name":              ch.Name,
		"type":              channelTypeName(ch.Type),
		"team_id":           ch.TeamID,
		"group_constrained": ch.IsGroupConstrained(),
		"shared":            ch.IsShared(),
	}
	opts := []resource.ResourceOption{
		resource.WithGroupTrait(),
		resource.WithResourceProfile(profile),
		resource.WithParentResourceID(v2.ResourceId_builder{ResourceType: teamResourceType.GetId(), Resource: ch.TeamID}.Build()),
	}
	if ch.Purpose != "" {
		opts = append(opts, resource.WithDescription(ch.Purpose))
	}
	if ch.CreateAt > 0 {
		opts = append(opts, resource.WithResourceCreatedAt(msToTime(ch.CreateAt)))
	}
	return resource.NewResource(ch.DisplayName, channelResourceType, ch.ID, opts...)
}

// channelTypeName spells Mattermost's one-letter channel type.
func channelTypeName(t string) string {
	switch t {
	case mattermost.ChannelTypeOpen:
		return "public"
	case mattermost.ChannelTypePrivate:
		return "private"
	default:
		return t
	}
}

// Entitlements, Grants, Grant and Revoke are those every team and channel
// has (membership.go); what is particular to channels is channelMemberships
// (channel_provisioning.go).

func (s *channelSyncer) Entitlements(_ context.Context, r *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return s.entitlements(r), nil, nil
}

func (s *channelSyncer) Grants(ctx context.Context, r *v2.Resource, attrs resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return sdkResult(s.grants(ctx, r, attrs))
}

func (s *channelSyncer) Grant(ctx context.Context, principal *v2.Resource, ent *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	return sdkResult(s.grant(ctx, principal, ent))
}

func (s *channelSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	return sdkResult1(s.revoke(ctx, g))
}
