package connector

import (
	"context"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// teamSyncer syncs teams (archived ones only with include-archived-teams),
// their member and admin entitlements and grants, and provisions them.
type teamSyncer struct {
	membershipSyncer
}

func newTeamSyncer(client *mattermost.Client, opts Options) *teamSyncer {
	return &teamSyncer{newMembershipSyncer(client, opts, teamMemberships{client: client})}
}

func (s *teamSyncer) ResourceType(_ context.Context) *v2.ResourceType { return teamResourceType }

// List returns the teams, without archived ones unless include-archived-teams is set.
func (s *teamSyncer) List(ctx context.Context, _ *v2.ResourceId, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	return sdkResult(s.list(ctx, attrs))
}

func (s *teamSyncer) list(ctx context.Context, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	var cur mattermost.Cursor
	if err := parsePageToken(attrs.PageToken, &cur); err != nil {
		return nil, nil, err
	}
	teams, err := s.client.ListTeams(ctx, cur)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Resource, 0, len(teams.Items))
	for i := range teams.Items {
		t := &teams.Items[i]
		if t.IsArchived() && !s.opts.IncludeArchivedTeams {
			continue
		}
		r, err := teamResource(t)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	res, err := nextPage(teams.Next)
	return out, res, err
}

func teamResource(t *mattermost.Team) (*v2.Resource, error) {
	profile := map[string]interface{}{
		"team_id":           t.ID,
		"name":              t.Name,
		"type":              teamTypeName(t.Type),
		"allow_open_invite": t.AllowOpenInvite,
		"group_constrained": t.IsGroupConstrained(),
		"archived":          t.IsArchived(),
	}
	opts := []resource.ResourceOption{
		resource.WithGroupTrait(),
		resource.WithResourceProfile(profile),
	}
	if t.Description != "" {
		opts = append(opts, resource.WithDescription(t.Description))
	}
	if t.CreateAt > 0 {
		opts = append(opts, resource.WithResourceCreatedAt(msToTime(t.CreateAt)))
	}
	if t.IsArchived() {
		opts = append(opts, resource.WithResourceStatus(v2.Status_RESOURCE_STATUS_DISABLED,
			"archived "+msToTime(t.DeleteAt).Format(time.RFC3339)))
	} else {
		// The channels of an archived team are out of reach, so only live
		// teams have their channels listed.
		opts = append(opts, resource.WithAnnotation(&v2.ChildResourceType{ResourceTypeId: channelResourceType.GetId()}))
	}
	return resource.NewResource(t.DisplayName, teamResourceType, t.ID, opts...)
}

// teamTypeName spells Mattermost's one-letter team type.
func teamTypeName(t string) string {
	switch t {
	case "O":
		return "open"
	case "I":
		return "invite"
	default:
		return t
	}
}

func (s *teamSyncer) Entitlements(_ context.Context, r *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return s.entitlements(r), nil, nil
}

// Grants gives every active member `member`, and members with scheme_admin
// also `admin` (membershipGrants), one page of members a call. The first page
// adds the grants to the groups that decide a group-constrained team's membership.
func (s *teamSyncer) Grants(ctx context.Context, r *v2.Resource, attrs resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return sdkResult(s.grants(ctx, r, attrs))
}

func (s *teamSyncer) grants(ctx context.Context, r *v2.Resource, attrs resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	var cur mattermost.Cursor
	if err := parsePageToken(attrs.PageToken, &cur); err != nil {
		return nil, nil, err
	}
	var out []*v2.Grant
	if attrs.PageToken.Token == "" {
		links, err := s.groupLinks.grantsFor(ctx, r)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, links...)
	}
	members, err := s.client.ListTeamMembers(ctx, r.GetId().GetResource(), cur)
	if err != nil {
		return nil, nil, err
	}
	for i := range members.Items {
		if m := &members.Items[i]; m.IsActive() {
			out = append(out, membershipGrants(r, m.UserID, m.SchemeRoles)...)
		}
	}
	res, err := nextPage(members.Next)
	return out, res, err
}

// Grant gives a user the team's membership or admin role (see membershipSyncer.grant).
func (s *teamSyncer) Grant(ctx context.Context, principal *v2.Resource, ent *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	return sdkResult(s.grant(ctx, principal, ent))
}

// Revoke removes a user's team membership or admin role (see membershipSyncer.revoke).
func (s *teamSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	annos, err := s.revoke(ctx, g)
	return annos, grpcError(err)
}
