package connector

import (
	"context"
	"fmt"
	"strings"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Teams and channels are both memberships with a `member` and an `admin`
// (scheme_admin) entitlement, synced and provisioned by the same rules. The
// team and channel syncers embed membershipSyncer, which holds those rules;
// what differs (endpoints, error ids, extra checks) is their membershipKind
// (team_provisioning.go, channel_provisioning.go).
//
// Provisioning rules:
//   - Grant and Revoke always read the current state from the server first,
//     never from a sync: a grant already held answers GrantAlreadyExists, a
//     grant not held GrantAlreadyRevoked, with no error and no change.
//   - `admin` implies `member` of the same team or channel: granting admin to
//     a non-member adds the membership first, and if setting the admin role
//     then fails, keeps it (see keptMember). Revoking admin keeps the membership.
//   - Requests the server cannot or must not carry out are refused (rules.go).
//   - After a failed write the state is read again: if it is what was asked
//     for (someone else did it, or the write was applied although its answer
//     was lost), the grant or revoke succeeds. Writes are never repeated blindly.

// Entitlement slugs of teams and channels.
const (
	memberEntitlement = "member"
	adminEntitlement  = "admin"
)

// teamOrChannel is the team or channel of an entitlement, as the server has it now.
type teamOrChannel struct {
	kind             string // "team" or "channel"
	id               string
	name             string // display name
	teamID           string // the channel's team
	archived         bool
	groupConstrained bool
}

func (t *teamOrChannel) String() string { return fmt.Sprintf("%s %q (%s)", t.kind, t.name, t.id) }

// membershipKind is what differs between team and channel memberships.
type membershipKind interface {
	resourceType() *v2.ResourceType
	// load reads the team or channel; nil (and no error) when it does not exist.
	load(ctx context.Context, id string) (*teamOrChannel, error)
	// checkGrant refuses grants that need more than a live, unconstrained team or channel.
	checkGrant(ctx context.Context, t *teamOrChannel) error
	// members lists one page of the team's or channel's memberships.
	members(ctx context.Context, id string, cur mattermost.Cursor) (mattermost.Page[member], error)
	// get returns the user's membership, nil when not a member.
	get(ctx context.Context, t *teamOrChannel, userID string) (*mattermost.SchemeRoles, error)
	// add adds the user as a plain member and returns the new membership.
	add(ctx context.Context, t *teamOrChannel, user *mattermost.User) (*mattermost.SchemeRoles, error)
	// remove removes the membership; the annotations describe side effects.
	remove(ctx context.Context, t *teamOrChannel, user *mattermost.User) (annotations.Annotations, error)
	// setAdmin sets or clears the admin role (scheme_admin) of a member.
	setAdmin(ctx context.Context, t *teamOrChannel, user *mattermost.User, admin bool) error
	// explain turns an API error of add, remove or setAdmin into a refusal
	// that says what to do, or returns it unchanged.
	explain(t *teamOrChannel, user *mattermost.User, err error) error
}

// member is one membership: the user and its scheme roles.
type member struct {
	userID string
	mattermost.SchemeRoles
}

// membershipSyncer is the part the team and channel syncers share.
type membershipSyncer struct {
	client     *mattermost.Client
	opts       Options
	groupLinks *groupLinker
	kind       membershipKind
}

func newMembershipSyncer(client *mattermost.Client, opts Options, kind membershipKind) membershipSyncer {
	return membershipSyncer{client: client, opts: opts, groupLinks: newGroupLinker(client, opts), kind: kind}
}

// entitlements are the member and admin entitlements of a team or channel.
func (s *membershipSyncer) entitlements(r *v2.Resource) []*v2.Entitlement {
	name, kind := r.GetDisplayName(), s.kind.resourceType().GetId()
	return []*v2.Entitlement{
		entitlement.NewAssignmentEntitlement(r, memberEntitlement,
			entitlement.WithGrantableTo(userResourceType),
			entitlement.WithDisplayName(fmt.Sprintf("%s %s member", name, kind)),
			entitlement.WithDescription(fmt.Sprintf("Member of the %s %s", name, kind)),
		),
		entitlement.NewPermissionEntitlement(r, adminEntitlement,
			entitlement.WithGrantableTo(userResourceType),
			entitlement.WithDisplayName(fmt.Sprintf("%s %s admin", name, kind)),
			entitlement.WithDescription(fmt.Sprintf("%s Admin of the %s %s (scheme_admin)", s.kind.resourceType().GetDisplayName(), name, kind)),
		),
	}
}

// grants is Grants of a team or channel: one page of its memberships a call,
// and on the first page the grants to the groups that decide a
// group-constrained team's or channel's membership.
func (s *membershipSyncer) grants(ctx context.Context, r *v2.Resource, attrs resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	list := func(ctx context.Context, cur mattermost.Cursor) (mattermost.Page[member], error) {
		return s.kind.members(ctx, r.GetId().GetResource(), cur)
	}
	grants, res, err := onePage(ctx, attrs, list, func(m *member) ([]*v2.Grant, error) {
		return membershipGrants(r, m.userID, m.SchemeRoles), nil
	})
	if err != nil || attrs.PageToken.Token != "" {
		return grants, res, err
	}
	links, err := s.groupLinks.grantsFor(ctx, r)
	return append(links, grants...), res, err
}

// membershipGrants are the grants one team or channel membership gives:
// `member`, and `admin` with scheme_admin. A guest's member grant says so in
// its metadata. They name the team or channel by id only (see resourceRef).
func membershipGrants(r *v2.Resource, userID string, roles mattermost.SchemeRoles) []*v2.Grant {
	r = resourceRef(r)
	principal := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: userID}.Build()
	var opts []grant.GrantOption
	if roles.SchemeGuest {
		opts = append(opts, grant.WithGrantMetadata(map[string]interface{}{"guest": true}))
	}
	grants := []*v2.Grant{grant.NewGrant(r, memberEntitlement, principal, opts...)}
	if roles.SchemeAdmin {
		grants = append(grants, grant.NewGrant(r, adminEntitlement, principal))
	}
	return grants
}

// resourceRef is a resource as a grant names it: its id and parent only.
// grant.NewGrant embeds the resource it is given in every grant, so the full
// resource (profile, annotations) would be marshalled, sent to the SDK's
// process and decoded there once per membership: hundreds of thousands of
// times on a large server (and kept in every grant row by the sqlite store).
// Readers find the resource by id in its own row: the pebble store and the
// SDK's slim grant rows (dotc1z.WithC1FV2GrantsWriter) keep only these ids.
func resourceRef(r *v2.Resource) *v2.Resource {
	return v2.Resource_builder{Id: r.GetId(), ParentResourceId: r.GetParentResourceId()}.Build()
}

// entitlementSlug returns "member" or "admin" from an entitlement id "team:<id>:member".
func (s *membershipSyncer) entitlementSlug(ent *v2.Entitlement) (string, error) {
	id := ent.GetId()
	switch slug := id[strings.LastIndexByte(id, ':')+1:]; slug {
	case memberEntitlement, adminEntitlement:
		return slug, nil
	default:
		return "", refusal(codes.InvalidArgument, "unknown %s entitlement %s", s.kind.resourceType().GetId(), quoteID(id))
	}
}

// grant gives a user the membership or admin role of a team or channel and
// returns the grants it created.
func (s *membershipSyncer) grant(ctx context.Context, principal *v2.Resource, ent *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	l := ctxzap.Extract(ctx)
	kind := s.kind.resourceType().GetId()
	uid, err := principalUser(principal.GetId(), kind+" memberships")
	if err != nil {
		return nil, nil, err
	}
	slug, err := s.entitlementSlug(ent)
	if err != nil {
		return nil, nil, err
	}
	r := ent.GetResource()
	if err := checkID(kind, r.GetId().GetResource()); err != nil {
		return nil, nil, err
	}
	t, err := s.kind.load(ctx, r.GetId().GetResource())
	if err != nil {
		return nil, nil, err
	}
	if t == nil {
		return nil, nil, refusal(codes.NotFound, "%s %s does not exist on the Mattermost server (deleted?); run a sync",
			kind, r.GetId().GetResource())
	}
	user, err := loadUser(ctx, s.client, uid)
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkGrant(ctx, t, user, slug); err != nil {
		return nil, nil, err
	}

	m, err := s.kind.get(ctx, t, uid)
	if err != nil {
		return nil, nil, err
	}
	if m != nil && (slug == memberEntitlement || m.SchemeAdmin) {
		l.Info("baton-mattermost: grant already held, nothing to do",
			zap.String("entitlement", ent.GetId()), zap.String("user_id", uid))
		return nil, annotations.New(&v2.GrantAlreadyExists{}), nil
	}

	added := false
	if m == nil {
		if m, err = s.addMember(ctx, t, user); err != nil {
			return nil, nil, err
		}
		added = true
		l.Info("baton-mattermost: added member", zap.String(t.kind, t.String()), zap.String("user_id", uid))
	}
	if slug == memberEntitlement {
		return membershipGrants(r, uid, *m), nil, nil
	}

	if m.SchemeGuest {
		return nil, nil, keptMember(t, user, added, refuseGuest(user, "be admins of "+t.String(), nil))
	}
	if err := s.setAdmin(ctx, t, user, true); err != nil {
		return nil, nil, keptMember(t, user, added, err)
	}
	l.Info("baton-mattermost: made admin", zap.String(t.kind, t.String()), zap.String("user_id", uid))
	grants := membershipGrants(r, uid, mattermost.SchemeRoles{SchemeAdmin: true})
	if !added {
		grants = grants[1:] // only the admin grant is new
	}
	return grants, nil, nil
}

// checkGrant refuses grants Mattermost would refuse, or would accept but
// should not: it adds deactivated users to teams, and members to archived teams.
func (s *membershipSyncer) checkGrant(ctx context.Context, t *teamOrChannel, user *mattermost.User, slug string) error {
	switch {
	case !user.IsActive():
		return refuseDeactivated(user, "granting it access to "+t.String(), nil)
	case user.IsRemote():
		return refuseRemote(user)
	case slug == adminEntitlement && user.IsGuest():
		return refuseGuest(user, "be admins of "+t.String(), nil)
	case t.archived:
		return refusal(codes.FailedPrecondition, "%s is archived; restore it before granting access to it", t)
	case t.groupConstrained && !user.IsBot:
		return refuseGroupSynced(t, "add the user to one of its linked groups")
	}
	return s.kind.checkGrant(ctx, t)
}

// addMember adds the user, accepting a failure that left the user a member anyway.
func (s *membershipSyncer) addMember(ctx context.Context, t *teamOrChannel, user *mattermost.User) (*mattermost.SchemeRoles, error) {
	m, err := s.kind.add(ctx, t, user)
	if err == nil {
		return m, nil
	}
	if now, getErr := s.kind.get(ctx, t, user.ID); getErr == nil && now != nil {
		return now, nil
	}
	return nil, s.kind.explain(t, user, err)
}

// setAdmin sets or clears the admin role, accepting a failure that left it as asked.
func (s *membershipSyncer) setAdmin(ctx context.Context, t *teamOrChannel, user *mattermost.User, admin bool) error {
	err := s.kind.setAdmin(ctx, t, user, admin)
	if err == nil {
		return nil
	}
	if now, getErr := s.kind.get(ctx, t, user.ID); getErr == nil && now != nil && now.SchemeAdmin == admin {
		return nil
	}
	return s.kind.explain(t, user, err)
}

// keptMember explains an admin grant that added the membership and then
// failed: the membership stays. Mattermost answers an add of a user who is
// already a member exactly as one that makes the user a member, so this call
// cannot tell its own add from someone else's at the same moment, and
// removing the membership would undo theirs (a team's, with the user's
// channels in it). Admin includes membership, so what stays was asked for;
// the grant, repeated, only sets the admin role.
func keptMember(t *teamOrChannel, user *mattermost.User, added bool, cause error) error {
	if !added {
		return cause
	}
	st := status.Convert(grpcError(cause))
	return status.Errorf(st.Code(), "%s; %s was added to %s as a member for the admin role and stays a member "+
		"(an add cannot be told from one made by someone else at the same moment, so it is not undone); "+
		"repeating the grant only sets the admin role", st.Message(), describeUser(user), t)
}

// revoke takes the grant as ConductorOne sends it (entitlement and principal
// ids) and removes the membership or admin role, reading the current state
// from the server first.
func (s *membershipSyncer) revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	l := ctxzap.Extract(ctx)
	kind := s.kind.resourceType().GetId()
	uid, err := principalUser(g.GetPrincipal().GetId(), kind+" memberships")
	if err != nil {
		return nil, err
	}
	slug, err := s.entitlementSlug(g.GetEntitlement())
	if err != nil {
		return nil, err
	}
	alreadyRevoked := func(why string) (annotations.Annotations, error) {
		l.Info("baton-mattermost: grant not held, nothing to revoke", zap.String("entitlement", g.GetEntitlement().GetId()),
			zap.String("user_id", uid), zap.String("reason", why))
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	tid := g.GetEntitlement().GetResource().GetId().GetResource()
	if err := checkID(kind, tid); err != nil {
		return nil, err
	}
	t, err := s.kind.load(ctx, tid)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return alreadyRevoked(kind + " no longer exists")
	}
	m, err := s.kind.get(ctx, t, uid)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return alreadyRevoked("not a member")
	}
	if slug == adminEntitlement && !m.SchemeAdmin {
		return alreadyRevoked("not an admin")
	}
	user, err := loadUser(ctx, s.client, uid)
	if err != nil {
		return nil, err
	}

	if t.groupConstrained && !user.IsBot {
		// Group sync owns both the membership and the admin role (a group
		// linked with scheme_admin makes its members admins).
		return nil, refuseGroupSynced(t, "remove the user from its linked groups")
	}
	if slug == adminEntitlement {
		if err := s.setAdmin(ctx, t, user, false); err != nil {
			return nil, err
		}
		l.Info("baton-mattermost: removed admin role (membership kept)", zap.String(t.kind, t.String()), zap.String("user_id", uid))
		return nil, nil
	}
	annos, err := s.kind.remove(ctx, t, user)
	if err != nil {
		if now, getErr := s.kind.get(ctx, t, uid); getErr == nil && now == nil {
			return annos, nil
		}
		return nil, s.kind.explain(t, user, err)
	}
	l.Info("baton-mattermost: removed member", zap.String(t.kind, t.String()), zap.String("user_id", uid))
	return annos, nil
}

// changeFailed adds context to an API error that has no better explanation;
// refusals are returned as they are.
func changeFailed(t *teamOrChannel, user *mattermost.User, err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return fmt.Errorf("changing the membership of %s in %s: %w", describeUser(user), t, err)
}
