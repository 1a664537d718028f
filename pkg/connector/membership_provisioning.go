package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Provisioning of team and channel memberships. Both have a `member` and an
// `admin` entitlement and the same rules, so one provisioner serves both and
// the differences (endpoints, error ids, extra checks) live behind the
// memberships interface (team_provisioning.go, channel_provisioning.go).
//
// Rules:
//   - Grant and Revoke always read the current state from the server first,
//     never from a sync: a grant already held answers GrantAlreadyExists, a
//     grant not held GrantAlreadyRevoked, with no error and no change.
//   - `admin` implies `member` of the same team or channel: granting admin to
//     a non-member adds the membership first, and if setting the admin role
//     then fails, removes it again. Revoking admin keeps the membership.
//   - Requests the server cannot or must not carry out are refused with a
//     FailedPrecondition (or InvalidArgument/NotFound) error that names the
//     cause and the remedy; those codes are not retried by the SDK.
//   - After a failed write the state is read again: if it is what was asked
//     for (e.g. someone else did it, or a retried request had been applied),
//     the grant or revoke succeeds.

// membership is a user's current membership of a team or channel.
type membership struct {
	guest bool
	admin bool
}

// membershipTarget is the team or channel of an entitlement, as the server has it now.
type membershipTarget struct {
	kind             string // "team" or "channel"
	id               string
	name             string // display name
	teamID           string // the channel's team
	archived         bool
	groupConstrained bool
}

func (t *membershipTarget) String() string { return fmt.Sprintf("%s %q (%s)", t.kind, t.name, t.id) }

// memberships is what differs between team and channel memberships.
type memberships interface {
	resourceType() *v2.ResourceType
	// load reads the team or channel; nil (and no error) when it does not exist.
	load(ctx context.Context, id string) (*membershipTarget, error)
	// checkGrant refuses grants that need more than a live, unconstrained target.
	checkGrant(ctx context.Context, t *membershipTarget) error
	// get returns the user's membership, nil when not a member.
	get(ctx context.Context, t *membershipTarget, userID string) (*membership, error)
	// add adds the user as a plain member and returns the new membership.
	add(ctx context.Context, t *membershipTarget, user *mattermost.User) (*membership, error)
	// remove removes the membership; the annotations describe side effects.
	remove(ctx context.Context, t *membershipTarget, user *mattermost.User) (annotations.Annotations, error)
	// setAdmin sets or clears the admin role (scheme_admin) of a member.
	setAdmin(ctx context.Context, t *membershipTarget, user *mattermost.User, admin bool) error
	// explain turns an API error of add, remove or setAdmin into a refusal
	// that says what to do, or returns it unchanged.
	explain(t *membershipTarget, user *mattermost.User, err error) error
}

// membershipProvisioner implements Grant and Revoke for the team and channel syncers.
type membershipProvisioner struct {
	client *mattermost.Client
	ops    memberships
}

func newMembershipProvisioner(client *mattermost.Client, ops memberships) *membershipProvisioner {
	return &membershipProvisioner{client: client, ops: ops}
}

// refusal is an error for a request that cannot be carried out as it stands.
func refusal(code codes.Code, format string, args ...any) error {
	return status.Errorf(code, "baton-mattermost: "+format, args...)
}

// describeUser names a user in messages: the kind of account, username and id.
func describeUser(u *mattermost.User) string {
	kind := "user"
	switch {
	case u.IsBot:
		kind = "bot"
	case u.HasRole(mattermost.RoleSystemAdmin):
		kind = "System Admin"
	}
	return fmt.Sprintf("%s %q (%s)", kind, u.Username, u.ID)
}

// entitlementSlug returns "member" or "admin" from an entitlement id "team:<id>:member".
func entitlementSlug(ent *v2.Entitlement) string {
	id := ent.GetId()
	return id[strings.LastIndexByte(id, ':')+1:]
}

func (p *membershipProvisioner) userID(principal *v2.ResourceId) (string, error) {
	if principal.GetResourceType() != userResourceType.GetId() || principal.GetResource() == "" {
		return "", refusal(codes.InvalidArgument, "only users can hold %s memberships, not %s %q",
			p.ops.resourceType().GetId(), principal.GetResourceType(), principal.GetResource())
	}
	return principal.GetResource(), nil
}

func (p *membershipProvisioner) slug(ent *v2.Entitlement) (string, error) {
	switch s := entitlementSlug(ent); s {
	case memberEntitlement, adminEntitlement:
		return s, nil
	default:
		return "", refusal(codes.InvalidArgument, "unknown %s entitlement %q", p.ops.resourceType().GetId(), ent.GetId())
	}
}

func (p *membershipProvisioner) getUser(ctx context.Context, userID string) (*mattermost.User, error) {
	u, err := p.client.GetUser(ctx, userID)
	if mattermost.StatusCode(err) == http.StatusNotFound {
		return nil, refusal(codes.NotFound, "user %s does not exist on the Mattermost server (deleted?); run a sync", userID)
	}
	return u, err
}

// Grant gives a user the membership or admin role of a team or channel and
// returns the grants it created.
func (p *membershipProvisioner) Grant(ctx context.Context, principal *v2.Resource, ent *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	l := ctxzap.Extract(ctx)
	uid, err := p.userID(principal.GetId())
	if err != nil {
		return nil, nil, err
	}
	slug, err := p.slug(ent)
	if err != nil {
		return nil, nil, err
	}
	r := ent.GetResource()
	t, err := p.ops.load(ctx, r.GetId().GetResource())
	if err != nil {
		return nil, nil, err
	}
	if t == nil {
		return nil, nil, refusal(codes.NotFound, "%s %s does not exist on the Mattermost server (deleted?); run a sync",
			p.ops.resourceType().GetId(), r.GetId().GetResource())
	}
	user, err := p.getUser(ctx, uid)
	if err != nil {
		return nil, nil, err
	}
	if err := p.checkGrant(ctx, t, user, slug); err != nil {
		return nil, nil, err
	}

	m, err := p.ops.get(ctx, t, uid)
	if err != nil {
		return nil, nil, err
	}
	if m != nil && (slug == memberEntitlement || m.admin) {
		l.Info("baton-mattermost: grant already held, nothing to do",
			zap.String("entitlement", ent.GetId()), zap.String("user_id", uid))
		return nil, annotations.New(&v2.GrantAlreadyExists{}), nil
	}

	added := false
	if m == nil {
		if m, err = p.addMember(ctx, t, user); err != nil {
			return nil, nil, err
		}
		added = true
		l.Info("baton-mattermost: added member", zap.String("target", t.String()), zap.String("user_id", uid))
	}
	if slug == memberEntitlement {
		return membershipGrants(r, uid, m.guest, false), nil, nil
	}

	if m.guest {
		err := refusal(codes.FailedPrecondition, "%s is a guest in %s, and guests cannot be %s admins; promote the guest "+
			"to a member first (System Console > Users > Promote to Member, or POST /api/v4/users/%s/promote)",
			describeUser(user), t, t.kind, uid)
		return nil, nil, p.undoAdd(ctx, t, user, added, err)
	}
	if err := p.setAdmin(ctx, t, user, true); err != nil {
		return nil, nil, p.undoAdd(ctx, t, user, added, err)
	}
	l.Info("baton-mattermost: made admin", zap.String("target", t.String()), zap.String("user_id", uid))
	grants := membershipGrants(r, uid, false, true)
	if !added {
		grants = grants[1:] // only the admin grant is new
	}
	return grants, nil, nil
}

// checkGrant refuses grants Mattermost would refuse, or would accept but
// should not: it adds deactivated users to teams, and members to archived teams.
func (p *membershipProvisioner) checkGrant(ctx context.Context, t *membershipTarget, user *mattermost.User, slug string) error {
	switch {
	case !user.IsActive():
		return refusal(codes.FailedPrecondition, "%s is deactivated; reactivate the account (System Console > Users) "+
			"before granting it access to %s", describeUser(user), t)
	case user.RemoteID != "":
		return refusal(codes.FailedPrecondition, "%s belongs to a remote server connected through Shared Channels "+
			"(remote_id %s); its access is managed on its home server, not here", describeUser(user), user.RemoteID)
	case slug == adminEntitlement && user.HasRole(mattermost.RoleSystemGuest):
		return refusal(codes.FailedPrecondition, "%s is a guest, and guests cannot be %s admins; promote the guest to a "+
			"member first (System Console > Users > Promote to Member, or POST /api/v4/users/%s/promote)",
			describeUser(user), t.kind, user.ID)
	case t.archived:
		return refusal(codes.FailedPrecondition, "%s is archived; restore it before granting access to it", t)
	case t.groupConstrained && !user.IsBot:
		return groupSyncedRefusal(t, "add the user to one of its linked groups")
	}
	return p.ops.checkGrant(ctx, t)
}

// changeFailed adds context to an API error that has no better explanation;
// other errors (refusals) are returned as they are.
func changeFailed(t *membershipTarget, user *mattermost.User, err error) error {
	var apiErr *mattermost.Error
	if !errors.As(err, &apiErr) {
		return err
	}
	return fmt.Errorf("changing the membership of %s in %s: %w", describeUser(user), t, err)
}

func groupSyncedRefusal(t *membershipTarget, remedy string) error {
	return refusal(codes.FailedPrecondition, "%s is group-synced (group_constrained): its members come from LDAP group "+
		"sync and cannot be changed one by one; %s, or turn off group sync for it", t, remedy)
}

// addMember adds the user, accepting a failure that left the user a member anyway.
func (p *membershipProvisioner) addMember(ctx context.Context, t *membershipTarget, user *mattermost.User) (*membership, error) {
	m, err := p.ops.add(ctx, t, user)
	if err == nil {
		return m, nil
	}
	if now, getErr := p.ops.get(ctx, t, user.ID); getErr == nil && now != nil {
		return now, nil
	}
	return nil, p.ops.explain(t, user, err)
}

// setAdmin sets or clears the admin role, accepting a failure that left it as asked.
func (p *membershipProvisioner) setAdmin(ctx context.Context, t *membershipTarget, user *mattermost.User, admin bool) error {
	err := p.ops.setAdmin(ctx, t, user, admin)
	if err == nil {
		return nil
	}
	if now, getErr := p.ops.get(ctx, t, user.ID); getErr == nil && now != nil && now.admin == admin {
		return nil
	}
	return p.ops.explain(t, user, err)
}

// undoAdd removes a membership that Grant added only to make the user admin,
// after the admin role could not be set, so that no half-applied grant is
// left behind; if that fails too, the error says exactly what was applied.
func (p *membershipProvisioner) undoAdd(ctx context.Context, t *membershipTarget, user *mattermost.User, added bool, cause error) error {
	if !added {
		return cause
	}
	if _, err := p.ops.remove(ctx, t, user); err != nil {
		return status.Errorf(status.Code(cause), "%v; baton-mattermost had added %s to %s as a member to make them admin, "+
			"and removing that membership again failed too (%v): the user is now a member but not an admin of %s",
			cause, describeUser(user), t, err, t)
	}
	return status.Errorf(status.Code(cause), "%v (the membership added for the admin role was removed again; nothing changed)", cause)
}

// Revoke takes the grant as ConductorOne sends it (entitlement and principal
// ids) and removes the membership or admin role, reading the current state
// from the server first.
func (p *membershipProvisioner) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	l := ctxzap.Extract(ctx)
	uid, err := p.userID(g.GetPrincipal().GetId())
	if err != nil {
		return nil, err
	}
	slug, err := p.slug(g.GetEntitlement())
	if err != nil {
		return nil, err
	}
	targetID := g.GetEntitlement().GetResource().GetId().GetResource()
	alreadyRevoked := func(why string) (annotations.Annotations, error) {
		l.Info("baton-mattermost: grant not held, nothing to revoke", zap.String("entitlement", g.GetEntitlement().GetId()),
			zap.String("user_id", uid), zap.String("reason", why))
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	t, err := p.ops.load(ctx, targetID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return alreadyRevoked(p.ops.resourceType().GetId() + " no longer exists")
	}
	m, err := p.ops.get(ctx, t, uid)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return alreadyRevoked("not a member")
	}
	if slug == adminEntitlement && !m.admin {
		return alreadyRevoked("not an admin")
	}
	user, err := p.getUser(ctx, uid)
	if err != nil {
		return nil, err
	}

	if t.groupConstrained && !user.IsBot {
		// Group sync owns both the membership and the admin role (a group
		// linked with scheme_admin makes its members admins).
		return nil, groupSyncedRefusal(t, "remove the user from its linked groups")
	}
	if slug == adminEntitlement {
		if err := p.setAdmin(ctx, t, user, false); err != nil {
			return nil, err
		}
		l.Info("baton-mattermost: removed admin role (membership kept)", zap.String("target", t.String()), zap.String("user_id", uid))
		return nil, nil
	}
	annos, err := p.ops.remove(ctx, t, user)
	if err != nil {
		if now, getErr := p.ops.get(ctx, t, uid); getErr == nil && now == nil {
			return annos, nil
		}
		return nil, p.ops.explain(t, user, err)
	}
	l.Info("baton-mattermost: removed member", zap.String("target", t.String()), zap.String("user_id", uid))
	return annos, nil
}
