package connector

import (
	"context"
	"fmt"
	"net/http"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
)

// Mattermost has user groups only with a license: custom groups from
// Professional up, LDAP groups (and linking groups to teams and channels)
// with Enterprise. Unlicensed servers answer every group endpoint with 501.

type groupSyncer struct {
	client *mattermost.Client
}

func newGroupSyncer(client *mattermost.Client) *groupSyncer {
	return &groupSyncer{client: client}
}

func (s *groupSyncer) ResourceType(_ context.Context) *v2.ResourceType { return groupResourceType }

// List returns the live groups of every source. The first page checks the
// license (one cheap request) so that an unlicensed server costs one log line
// and no failure.
func (s *groupSyncer) List(ctx context.Context, _ *v2.ResourceId, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	return sdkResult(s.list(ctx, attrs))
}

func (s *groupSyncer) list(ctx context.Context, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	if attrs.PageToken.Token == "" {
		lic, err := s.client.GetLicense(ctx)
		if err != nil {
			return nil, nil, err
		}
		if !lic.AllowsGroups() {
			ctxzap.Extract(ctx).Info("baton-mattermost: no user groups synced: Mattermost has custom groups only with a "+
				"Professional or Enterprise license and LDAP groups only with Enterprise, and this server's license has neither",
				zap.Bool("licensed", lic.IsLicensed), zap.String("sku", lic.SkuShortName))
			return nil, nil, nil
		}
	}
	groups, res, err := onePage(ctx, attrs, s.client.ListGroups, asResource(groupResource))
	if groupsUnavailable(err) {
		ctxzap.Extract(ctx).Info("baton-mattermost: no user groups synced: the server refused to list them", zap.Error(err))
		return nil, nil, nil
	}
	return groups, res, err
}

// groupsUnavailable tells the license and configuration refusals of group
// endpoints (501 no license, 403 no LDAP groups, 400 custom groups off) from failures.
func groupsUnavailable(err error) bool {
	return mattermost.StatusCode(err) == http.StatusNotImplemented ||
		mattermost.HasID(err, mattermost.IDLDAPGroupsLicense, mattermost.IDCustomGroupsLicense, mattermost.IDCustomGroupsDisabled)
}

// Get returns one group for a targeted sync (targeted.go).
func (s *groupSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	r, err := s.get(ctx, id)
	return targetResult(id, r, err)
}

func (s *groupSyncer) get(ctx context.Context, id *v2.ResourceId) (*v2.Resource, error) {
	if err := checkTargetID(id); err != nil {
		return nil, err
	}
	g, err := s.client.GetGroup(ctx, id.GetResource())
	switch {
	case groupsUnavailable(err):
		return nil, notSyncable(codes.FailedPrecondition, id, "this Mattermost server has no user groups: custom groups need a "+
			"Professional or Enterprise license, LDAP groups Enterprise", err)
	case err != nil:
		return nil, err
	case g.DeleteAt > 0:
		return nil, notSyncable(codes.FailedPrecondition, id, "the group is archived, and archived groups are not synced", nil)
	}
	return groupResource(g)
}

func groupResource(g *mattermost.Group) (*v2.Resource, error) {
	profile := map[string]interface{}{
		"group_id":        g.ID,
		"name":            g.Name,
		"source":          g.Source,
		"remote_id":       g.RemoteID,
		"allow_reference": g.AllowReference,
	}
	opts := []resource.ResourceOption{
		resource.WithGroupTrait(resource.WithGroupSourceType(groupSourceType(g.Source))),
		resource.WithResourceProfile(profile),
	}
	if g.Description != "" {
		opts = append(opts, resource.WithDescription(g.Description))
	}
	if g.CreateAt > 0 {
		opts = append(opts, resource.WithResourceCreatedAt(msToTime(g.CreateAt)))
	}
	name := g.DisplayName
	if name == "" {
		name = g.Name
	}
	return resource.NewResource(name, groupResourceType, g.ID, opts...)
}

func groupSourceType(source string) resource.GroupSourceType {
	switch source {
	case mattermost.GroupSourceCustom:
		return resource.GroupSourceTypeNative
	case mattermost.GroupSourceLDAP:
		return resource.GroupSourceTypeDirectorySynced
	default: // plugin_<id>
		return resource.GroupSourceTypeAppImported
	}
}

// groupIsCustom reads a group resource's source: only custom groups are
// managed in Mattermost; LDAP and plugin groups are synced from elsewhere.
func groupIsCustom(r *v2.Resource) bool {
	return r.GetProfile().GetFields()["source"].GetStringValue() == mattermost.GroupSourceCustom
}

func (s *groupSyncer) Entitlements(_ context.Context, r *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	name := r.GetDisplayName()
	opts := []entitlement.EntitlementOption{
		entitlement.WithGrantableTo(userResourceType),
		entitlement.WithDisplayName(fmt.Sprintf("%s group member", name)),
		entitlement.WithDescription(fmt.Sprintf("Member of the %s user group", name)),
	}
	if !groupIsCustom(r) {
		opts = append(opts, entitlement.WithAnnotation(&v2.EntitlementImmutable{}))
	}
	return []*v2.Entitlement{entitlement.NewAssignmentEntitlement(r, memberEntitlement, opts...)}, nil, nil
}

// Grants gives each member of the group `member`; LDAP and plugin group
// memberships are immutable (the directory decides them).
func (s *groupSyncer) Grants(ctx context.Context, r *v2.Resource, attrs resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	var opts []grant.GrantOption
	if !groupIsCustom(r) {
		opts = append(opts, grant.WithAnnotation(&v2.GrantImmutable{}))
	}
	list := func(ctx context.Context, cur mattermost.Cursor) (mattermost.Page[mattermost.User], error) {
		return s.client.ListGroupMembers(ctx, r.GetId().GetResource(), cur)
	}
	return sdkResult(onePage(ctx, attrs, list, func(u *mattermost.User) ([]*v2.Grant, error) {
		principal := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: u.ID}.Build()
		return []*v2.Grant{grant.NewGrant(r, memberEntitlement, principal, opts...)}, nil
	}))
}

// groupLinker finds the groups that decide the membership of a
// group-constrained team or channel. Only those links are expressed: there
// membership is exactly the linked groups' members, so a grant of the team's
// (or channel's) member entitlement to the group, expanded over the group's
// members, is true for every member. Links of unconstrained teams merely add
// members once (a removed member is not re-added), so the direct membership
// grants already tell the truth there and no link is claimed.
type groupLinker struct {
	client *mattermost.Client
	// enabled is false when groups are not synced (--sync-resource-types
	// without group): the grants would point at groups that are not there.
	enabled bool
}

func newGroupLinker(client *mattermost.Client, opts Options) *groupLinker {
	return &groupLinker{client: client, enabled: opts.willSync(groupResourceType.GetId())}
}

// grantsFor returns the grants a team or channel resource has through its
// linked groups: member (and admin, for groups linked as admins) granted to
// each group, expandable to the group's members. It costs no request unless
// the resource's profile says group_constrained, and then one per 200 linked
// groups (GET /teams/{id}/groups or /channels/{id}/groups).
func (l *groupLinker) grantsFor(ctx context.Context, r *v2.Resource) ([]*v2.Grant, error) {
	if l == nil || !l.enabled || !r.GetProfile().GetFields()["group_constrained"].GetBoolValue() {
		return nil, nil
	}
	id := r.GetId().GetResource()
	list := l.client.ListTeamGroups
	if r.GetId().GetResourceType() != teamResourceType.GetId() {
		list = l.client.ListChannelGroups
	}
	var out []*v2.Grant
	for cur := (mattermost.Cursor{}); ; {
		groups, err := list(ctx, id, cur)
		if groupsUnavailable(err) {
			ctxzap.Extract(ctx).Warn("baton-mattermost: the groups linked to a group-constrained "+r.GetId().GetResourceType()+
				" could not be read (is the license still valid?); its membership grants are synced without their groups",
				zap.String("id", id), zap.Error(err))
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the groups linked to %s %s: %w", r.GetId().GetResourceType(), id, err)
		}
		for _, g := range groups.Items {
			out = append(out, groupLinkGrant(r, memberEntitlement, g.ID))
			if g.SchemeAdmin {
				out = append(out, groupLinkGrant(r, adminEntitlement, g.ID))
			}
		}
		if groups.Next == nil {
			return out, nil
		}
		cur = *groups.Next
	}
}

// groupLinkGrant grants entitlement slug of r to a group, to be expanded by
// the SDK into the same grant for every member of the group. It cannot be
// revoked here: it comes from the group's link (System Console > Groups).
func groupLinkGrant(r *v2.Resource, slug, groupID string) *v2.Grant {
	principal := v2.ResourceId_builder{ResourceType: groupResourceType.GetId(), Resource: groupID}.Build()
	memberOfGroup := entitlement.NewEntitlementID(v2.Resource_builder{Id: principal}.Build(), memberEntitlement)
	return grant.NewGrant(r, slug, principal,
		grant.WithAnnotation(
			v2.GrantExpandable_builder{EntitlementIds: []string{memberOfGroup}, ResourceTypeIds: []string{userResourceType.GetId()}}.Build(),
			&v2.GrantImmutable{},
		))
}
