package connector

import (
	"context"
	"fmt"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// Entitlement slugs of teams and channels.
const (
	memberEntitlement = "member"
	adminEntitlement  = "admin"
)

type teamSyncer struct {
	client     *mattermost.Client
	opts       Options
	groupLinks *groupLinker
	*membershipProvisioner
}

func newTeamSyncer(client *mattermost.Client, opts Options) *teamSyncer {
	return &teamSyncer{client: client, opts: opts, groupLinks: newGroupLinker(client, opts),
		membershipProvisioner: newMembershipProvisioner(client, teamMemberships{client: client})}
}

func (s *teamSyncer) ResourceType(_ context.Context) *v2.ResourceType { return teamResourceType }

// List returns the teams, without archived ones unless include-archived-teams is set.
func (s *teamSyncer) List(ctx context.Context, _ *v2.ResourceId, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	page, err := pageNumber(attrs.PageToken)
	if err != nil {
		return nil, nil, err
	}
	teams, err := s.client.ListTeams(ctx, page)
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
	return out, &resource.SyncOpResults{NextPageToken: nextPageToken(teams.NextPage)}, nil
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
	return membershipEntitlements(r, "team", "Team"), nil, nil
}

// membershipEntitlements are the member and admin entitlements of a team or
// channel; kind names it in lower case, title in the admin role's name.
func membershipEntitlements(r *v2.Resource, kind, title string) []*v2.Entitlement {
	name := r.GetDisplayName()
	return []*v2.Entitlement{
		entitlement.NewAssignmentEntitlement(r, memberEntitlement,
			entitlement.WithGrantableTo(userResourceType),
			entitlement.WithDisplayName(fmt.Sprintf("%s %s member", name, kind)),
			entitlement.WithDescription(fmt.Sprintf("Member of the %s %s", name, kind)),
		),
		entitlement.NewPermissionEntitlement(r, adminEntitlement,
			entitlement.WithGrantableTo(userResourceType),
			entitlement.WithDisplayName(fmt.Sprintf("%s %s admin", name, kind)),
			entitlement.WithDescription(fmt.Sprintf("%s Admin of the %s %s (scheme_admin)", title, name, kind)),
		),
	}
}

// Grants gives every active member `member`, and members with scheme_admin
// also `admin`. Guests are members; their grant says so in its metadata. The
// first page adds the grants to the groups that decide a group-constrained
// team's membership.
func (s *teamSyncer) Grants(ctx context.Context, r *v2.Resource, attrs resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	page, err := pageNumber(attrs.PageToken)
	if err != nil {
		return nil, nil, err
	}
	members, err := s.client.ListTeamMembers(ctx, r.GetId().GetResource(), page)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Grant, 0, len(members.Items)+len(members.Items)/8)
	if page == 0 {
		links, err := s.groupLinks.grantsFor(ctx, r)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, links...)
	}
	for i := range members.Items {
		m := &members.Items[i]
		if m.DeleteAt > 0 {
			continue
		}
		out = append(out, membershipGrants(r, m.UserID, m.SchemeGuest, m.SchemeAdmin)...)
	}
	return out, &resource.SyncOpResults{NextPageToken: nextPageToken(members.NextPage)}, nil
}

// membershipGrants are the grants one team or channel membership gives. They
// name the team or channel by id only (see grantTarget).
func membershipGrants(r *v2.Resource, userID string, guest, admin bool) []*v2.Grant {
	r = grantTarget(r)
	principal := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: userID}.Build()
	var opts []grant.GrantOption
	if guest {
		opts = append(opts, grant.WithGrantMetadata(map[string]interface{}{"guest": true}))
	}
	grants := []*v2.Grant{grant.NewGrant(r, memberEntitlement, principal, opts...)}
	if admin {
		grants = append(grants, grant.NewGrant(r, adminEntitlement, principal))
	}
	return grants
}

// grantTarget is the resource as a grant names it: its id and parent only.
// grant.NewGrant embeds the resource it is given in every grant, so the full
// resource (profile, annotations) would be marshalled, sent to the SDK's
// process and decoded there once per membership: hundreds of thousands of
// times on a large server (and kept in every grant row by the sqlite store).
// Readers find the resource by id in its own row: the pebble store and the
// SDK's slim grant rows (dotc1z.WithC1FV2GrantsWriter) keep only these ids.
func grantTarget(r *v2.Resource) *v2.Resource {
	return v2.Resource_builder{Id: r.GetId(), ParentResourceId: r.GetParentResourceId()}.Build()
}
