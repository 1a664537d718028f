package connector

import (
	"context"
	"fmt"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/grpc/codes"
)

// channelSyncer syncs the channels of each team: private channels always,
// public ones with sync-public-channels. Archived channels, and direct and
// group messages (which belong to no team), are never synced.
type channelSyncer struct {
	membershipSyncer
	// private serves each team's private channels from one server-wide
	// search per sync (channel_index.go).
	private *privateChannelIndex
}

func newChannelSyncer(client *mattermost.Client, opts Options) *channelSyncer {
	return &channelSyncer{newMembershipSyncer(client, opts, channelMemberships{client: client}), newPrivateChannelIndex(client)}
}

func (s *channelSyncer) ResourceType(_ context.Context) *v2.ResourceType { return channelResourceType }

// channelListToken is List's page token: which of the team's two channel
// lists is being read, and where.
type channelListToken struct {
	Public bool `json:"p,omitempty"`
	// Served is how many of the team's indexed private channels were served.
	Served int `json:"x,omitempty"`
	mattermost.Cursor
}

// List returns one team's channels, a page a call: first the private ones,
// from the sync's server-wide index (channel_index.go) or, without one, from
// /teams/{id}/channels/private; then, if configured, the public ones
// (/teams/{id}/channels). All are live channels of type P or O. Channels are
// listed as children of their team, so each is synced under it. Called
// without a team, it returns nothing: channels are only children.
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
	channels, next, err := s.page(ctx, attrs.SyncID, teamID, tok)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Resource, 0, len(channels))
	for i := range channels {
		r, err := channelResource(&channels[i])
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	if next == nil && !tok.Public && s.opts.SyncPublicChannels {
		next = &channelListToken{Public: true}
	}
	res, err := nextPage(next)
	return out, res, err
}

// page reads the page of the team's channels at tok, and returns the token
// of the next page of the same list (private or public), nil at its end.
func (s *channelSyncer) page(ctx context.Context, syncID, teamID string, tok channelListToken) ([]mattermost.Channel, *channelListToken, error) {
	if !tok.Public {
		indexed, ok, err := s.private.teamChannels(ctx, syncID, teamID)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			end := min(tok.Served+mattermost.PerPage, len(indexed))
			var next *channelListToken
			if end < len(indexed) {
				next = &channelListToken{Served: end}
			}
			return indexed[min(tok.Served, end):end], next, nil
		}
	}
	list := s.client.ListPrivateChannels
	if tok.Public {
		list = s.client.ListPublicChannels
	}
	channels, err := list(ctx, teamID, tok.Cursor)
	if err != nil {
		return nil, nil, err
	}
	var next *channelListToken
	if channels.Next != nil {
		next = &channelListToken{Public: tok.Public, Cursor: *channels.Next}
	}
	return channels.Items, next, nil
}

// Get returns one channel for a targeted sync (targeted.go): a channel that a
// full sync would list under its team, whose id parent names if given.
func (s *channelSyncer) Get(ctx context.Context, id *v2.ResourceId, parent *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	r, err := s.get(ctx, id, parent)
	return targetResult(id, r, err)
}

func (s *channelSyncer) get(ctx context.Context, id *v2.ResourceId, parent *v2.ResourceId) (*v2.Resource, error) {
	if err := checkTargetID(id); err != nil {
		return nil, err
	}
	ch, err := s.client.GetChannel(ctx, id.GetResource())
	if err != nil {
		return nil, err
	}
	switch {
	case parent.GetResource() != "" && (parent.GetResourceType() != teamResourceType.GetId() || parent.GetResource() != ch.TeamID):
		return nil, notSyncable(codes.InvalidArgument, id, fmt.Sprintf("it is a channel of team %s, not of %s %s",
			ch.TeamID, parent.GetResourceType(), parent.GetResource()), nil)
	case ch.Type != mattermost.ChannelTypePrivate && ch.Type != mattermost.ChannelTypeOpen:
		return nil, notSyncable(codes.InvalidArgument, id, "it is a direct or group message, which belongs to no team and is never synced", nil)
	case ch.Type == mattermost.ChannelTypeOpen && !s.opts.SyncPublicChannels:
		return nil, notSyncable(codes.FailedPrecondition, id, "it is a public channel, and public channels are synced only with sync-public-channels", nil)
	case ch.IsArchived():
		return nil, notSyncable(codes.FailedPrecondition, id, "the channel is archived, and archived channels are not synced", nil)
	}
	t, err := s.client.GetTeam(ctx, ch.TeamID)
	if err != nil {
		return nil, fmt.Errorf("reading the channel's team %s: %w", ch.TeamID, err)
	}
	if t.IsArchived() {
		return nil, notSyncable(codes.FailedPrecondition, id, fmt.Sprintf("its team %q (%s) is archived, and the channels of "+
			"archived teams are not synced", t.DisplayName, t.ID), nil)
	}
	return channelResource(ch)
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
