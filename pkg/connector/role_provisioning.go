package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// System roles are one space-separated string per user, written whole with
// PUT /users/{id}/roles. So a grant or revoke reads the user's roles fresh
// right before writing, changes only the one role, and never repeats the
// write after a failure the server may have applied: it reads the roles
// again and compares instead (a blind repeat could undo another admin's
// change made in between).

// Grant gives a user a system role. Already holding it is success.
func (s *roleSyncer) Grant(ctx context.Context, principal *v2.Resource, ent *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	return sdkResult(s.grant(ctx, principal, ent))
}

func (s *roleSyncer) grant(ctx context.Context, principal *v2.Resource, ent *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	roleName := ent.GetResource().GetId().GetResource()
	u, err := s.roleHolder(ctx, principal.GetId(), roleName)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !u.IsActive():
		return nil, nil, refuseDeactivated(u, "giving it the "+roleName+" role", nil)
	case u.IsGuest():
		return nil, nil, refuseGuest(u, "hold the "+roleName+" role", nil)
	case u.HasRole(roleName):
		return nil, annotations.New(&v2.GrantAlreadyExists{}), nil
	}
	roles := append(withoutRole(u.RoleList(), roleName), roleName)
	if err := s.updateRoles(ctx, u, roles, roleName, true); err != nil {
		return nil, nil, explainRoleUpdateError(err, u, "give", roleName)
	}
	return []*v2.Grant{roleGrant(ent.GetResource(), u.ID)}, nil, nil
}

// Revoke takes a system role away from a user. It works for deactivated
// users on purpose: they keep their roles and get them back when
// reactivated, so removing an admin role from a departed employee is exactly
// what an access review asks for.
func (s *roleSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	annos, err := s.revoke(ctx, g)
	return annos, grpcError(err)
}

func (s *roleSyncer) revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	roleName := g.GetEntitlement().GetResource().GetId().GetResource()
	u, err := s.roleHolder(ctx, g.GetPrincipal().GetId(), roleName)
	if status.Code(err) == codes.NotFound {
		// A user that no longer exists holds no role.
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	if err != nil {
		return nil, err
	}
	if !u.HasRole(roleName) {
		return annotations.New(&v2.GrantAlreadyRevoked{}), nil
	}
	if roleName == mattermost.RoleSystemAdmin {
		me, err := s.client.GetMe(ctx)
		if err != nil {
			return nil, err
		}
		if me.ID == u.ID {
			return nil, refusal(codes.FailedPrecondition, "refusing to remove the system_admin role from %s: it is the account "+
				"of the connector's own api-token, and without the role the connector is locked out of Mattermost; "+
				"remove it in the System Console, or with another System Admin's token", describeUser(u))
		}
	}
	if err := s.updateRoles(ctx, u, withoutRole(u.RoleList(), roleName), roleName, false); err != nil {
		return nil, explainRoleUpdateError(err, u, "remove", roleName)
	}
	return nil, nil
}

// updateRoles writes the user's new role set. When the write fails in a way
// the server may have applied, the roles are read again: if the role is now
// held (or not, for a revoke) as asked, the change took effect.
func (s *roleSyncer) updateRoles(ctx context.Context, u *mattermost.User, roles []string, roleName string, held bool) error {
	err := s.client.UpdateUserRoles(ctx, u.ID, ensureBaseRole(u, roles))
	var transient *mattermost.TransientError
	if err == nil || !errors.As(err, &transient) {
		return err
	}
	if now, getErr := s.client.GetUser(ctx, u.ID); getErr == nil && now.HasRole(roleName) == held {
		return nil
	}
	return err
}

// roleHolder checks the role and the principal, and reads the user fresh,
// refusing accounts whose roles are not ours to change. A missing user is
// a NotFound refusal.
func (s *roleSyncer) roleHolder(ctx context.Context, principal *v2.ResourceId, roleName string) (*mattermost.User, error) {
	if err := checkProvisionableRole(roleName); err != nil {
		return nil, err
	}
	uid, err := principalUser(principal, "the "+roleName+" role")
	if err != nil {
		return nil, err
	}
	u, err := loadUser(ctx, s.client, uid)
	if err != nil {
		return nil, err
	}
	if u.IsRemote() {
		return nil, refuseRemote(u)
	}
	return u, nil
}

// checkProvisionableRole refuses roles that PUT /users/{id}/roles must not change.
func checkProvisionableRole(roleName string) error {
	switch roleName {
	case mattermost.RoleSystemGuest:
		return refusal(codes.FailedPrecondition,
			"the Guest role is not granted or revoked as a role: Mattermost turns a member into a guest and back with "+
				"demote/promote (System Console > Users, or POST /api/v4/users/{id}/demote and /promote), which also "+
				"changes the account's team and channel memberships")
	case mattermost.RoleSystemUser:
		return refusal(codes.InvalidArgument,
			"system_user is every member's base role: it is kept on every grant and revoke and cannot be changed alone")
	}
	if _, ok := findSystemRole(roleName); !ok {
		return refusal(codes.InvalidArgument, "%s is not a system role baton-mattermost manages", quoteID(roleName))
	}
	return nil
}

func withoutRole(roles []string, roleName string) []string {
	return slices.DeleteFunc(slices.Clone(roles), func(r string) bool { return r == roleName })
}

// ensureBaseRole keeps the base role Mattermost requires in every role set:
// system_user for members; guests keep system_guest and never get system_user.
func ensureBaseRole(u *mattermost.User, roles []string) []string {
	if u.IsGuest() || slices.Contains(roles, mattermost.RoleSystemUser) {
		return roles
	}
	return append([]string{mattermost.RoleSystemUser}, roles...)
}

// explainRoleUpdateError says in plain words why Mattermost refused a role
// change, with a gRPC code the SDK does not retry.
func explainRoleUpdateError(err error, u *mattermost.User, verb, roleName string) error {
	what := fmt.Sprintf("cannot %s the %s role of %s", verb, roleName, u.Username)
	if verb == "give" {
		what = fmt.Sprintf("cannot give %s the %s role", u.Username, roleName)
	}
	switch {
	case mattermost.HasID(err, mattermost.IDLastAdmin):
		return refusal(codes.FailedPrecondition,
			"%s: %s is the last active System Admin (bots do not count) and Mattermost refuses to leave the server "+
				"without one; make another person System Admin first%s", what, u.Username, because(err))
	case mattermost.HasID(err, mattermost.IDRoleNeedsLicense):
		return refusal(codes.FailedPrecondition,
			"%s: the delegated admin roles (system_manager, system_user_manager, system_read_only_admin) can only be "+
				"assigned on a server whose license includes custom permission schemes (Professional or Enterprise), "+
				"and this server's license does not%s", what, because(err))
	}
	switch mattermost.StatusCode(err) {
	case http.StatusForbidden:
		return refusal(codes.PermissionDenied,
			"%s: the api-token may not change system roles (permission manage_roles, held by System Admins)%s", what, because(err))
	case http.StatusBadRequest, http.StatusNotFound:
		return refusal(codes.InvalidArgument, "%s: Mattermost refused the new role set%s", what, because(err))
	}
	return fmt.Errorf("%s: %w", what, err)
}
