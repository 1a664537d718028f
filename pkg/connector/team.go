package connector

import (
	"context"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/grpc/codes"
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
	return sdkResult(onePage(ctx, attrs, s.client.ListTeams, asResource(s.teamResource)))
}

// teamResource maps a team; nil for an archived team that is not synced.
func (s *teamSyncer) teamResource(t *mattermost.Team) (*v2.Resource, error) {
	if t.IsArchived() && !s.opts.IncludeArchivedTeams {
		return nil, nil
	}
	return teamResource(t)
}

// Get returns one team for a targeted sync (targeted.go).
func (s *teamSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	r, err := s.get(ctx, id)
	return targetResult(id, r, err)
}

func (s *teamSyncer) get(ctx context.Context, id *v2.ResourceId) (*v2.Resource, error) {
	if err := checkTargetID(id); err != nil {
		return nil, err
	}
	t, err := s.client.GetTeam(ctx, id.GetResource())
	if err != nil {
		return nil, err
	}
	r, err := s.teamResource(t)
	if r == nil && err == nil {
		return nil, notSyncable(codes.FailedPrecondition, id, "the team is archived, and archived teams are synced only with include-archived-teams", nil)
	}
	return r, err
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

// Entitlements, Grants, Grant and Revoke are those every team and channel
// has (membership.go); what is particular to teams is teamMemberships
// (team_provisioning.go).

func (s *teamSyncer) Entitlements(_ context.Context, r *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return s.entitlements(r), nil, nil
}

func (s *teamSyncer) Grants(ctx context.Context, r *v2.Resource, attrs resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return sdkResult(s.grants(ctx, r, attrs))
}

func (s *teamSyncer) Grant(ctx context.Context, principal *v2.Resource, ent *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	return sdkResult(s.grant(ctx, principal, ent))
}

func (s *teamSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	return sdkResult1(s.revoke(ctx, g))
}
