package connector

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Grant gives a user a system role: PUT /users/{id}/roles with the user's
// current roles (read fresh) plus the role. Already holding it is success.
func (s *roleSyncer) Grant(ctx context.Context, principal *v2.Resource, ent *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	roleName := ent.GetResource().GetId().GetResource()
	if err := checkProvisionableRole(roleName); err != nil {
		return nil, nil, err
	}
	u, err := s.roleTarget(ctx, principal.GetId(), roleName)
	if err != nil {
		if status.Code(err) == codes.NotFound {
			return nil, nil, status.Errorf(codes.NotFound, "cannot give the %s role: %v", roleName, err)
		}
		return nil, nil, err
	}
	if !u.IsActive() {
		return nil, nil, status.Errorf(codes.FailedPrecondition,
			"cannot give %s the %s role: the account is deactivated; reactivate it first", u.Username, roleName)
	}
	if u.IsGuest() {
		return nil, nil, status.Errorf(codes.FailedPrecondition,
			"cannot give %s the %s role: %s is a guest account; promote it to a member first "+
				"(System Console > Users, or POST /api/v4/users/{id}/promote)", u.Username, roleName, u.Username)
	}
	if u.HasRole(roleName) {
		return nil, annotations.New(&v2.GrantAlreadyExists{}), nil
	}
	roles := append(withoutRole(u.RoleList(), roleName), roleName)
	if err := s.client.UpdateUserRoles(ctx, u.ID, ensureBaseRole(u, roles)); err != nil {
		return nil, nil, explainRoleUpdateError(err, u, "give", roleName)
	}
	return []*v2.Grant{roleGrant(ent.GetResource(), u.ID)}, nil, nil
}

// Revoke takes a system role away from a user: PUT /users/{id}/roles with the
// user's current roles (read fresh, so no sync state is needed) minus the
// role. It works for deactivated users on purpose: they keep their roles and
// get them back when reactivated, so removing an admin role from a departed
// employee is exactly what an access review asks for.
func (s *roleSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	roleName := g.GetEntitlement().GetResource().GetId().GetResource()
	if err := checkProvisionableRole(roleName); err != nil {
		return nil, err
	}
	u, err := s.roleTarget(ctx, g.GetPrincipal().GetId(), roleName)
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
	if err := s.client.UpdateUserRoles(ctx, u.ID, ensureBaseRole(u, withoutRole(u.RoleList(), roleName))); err != nil {
		return nil, explainRoleUpdateError(err, u, "remove", roleName)
	}
	return nil, nil
}

// checkProvisionableRole refuses roles that PUT /users/{id}/roles must not change.
func checkProvisionableRole(roleName string) error {
	switch roleName {
	case mattermost.RoleSystemGuest:
		return status.Errorf(codes.FailedPrecondition,
			"the Guest role is not granted or revoked as a role: Mattermost turns a member into a guest and back with "+
				"demote/promote (System Console > Users, or POST /api/v4/users/{id}/demote and /promote), which also "+
				"changes the account's team and channel memberships")
	case mattermost.RoleSystemUser:
		return status.Errorf(codes.InvalidArgument,
			"system_user is every member's base role: it is kept on every grant and revoke and cannot be changed alone")
	}
	if _, ok := findSystemRole(roleName); !ok {
		return status.Errorf(codes.InvalidArgument, "%q is not a system role baton-mattermost manages", roleName)
	}
	return nil
}

// roleTarget reads the principal fresh and refuses accounts whose roles are
// not ours to change. A missing user is a NotFound error.
func (s *roleSyncer) roleTarget(ctx context.Context, principal *v2.ResourceId, roleName string) (*mattermost.User, error) {
	if principal.GetResourceType() != userResourceType.GetId() || principal.GetResource() == "" {
		return nil, status.Errorf(codes.InvalidArgument,
			"the %s role can only be given to a user, not to %s %q", roleName, principal.GetResourceType(), principal.GetResource())
	}
	u, err := s.client.GetUser(ctx, principal.GetResource())
	if err != nil {
		if mattermost.StatusCode(err) == http.StatusNotFound {
			return nil, status.Errorf(codes.NotFound, "user %s does not exist on the server (%v)", principal.GetResource(), err)
		}
		return nil, fmt.Errorf("reading user %s: %w", principal.GetResource(), err)
	}
	if u.IsRemote() {
		return nil, status.Errorf(codes.FailedPrecondition,
			"cannot change the roles of %s: it is a user of a remote server connected through shared channels "+
				"(remote_id %s); manage it on its own server", u.Username, u.RemoteID)
	}
	return u, nil
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
	case mattermost.HasID(err, mattermost.ErrLastAdmin):
		return status.Errorf(codes.FailedPrecondition,
			"%s: %s is the last active System Admin (bots do not count) and Mattermost refuses to leave the server "+
				"without one; make another person System Admin first (%v)", what, u.Username, err)
	case mattermost.HasID(err, mattermost.ErrRoleNeedsLicense):
		return status.Errorf(codes.FailedPrecondition,
			"%s: the delegated admin roles (system_manager, system_user_manager, system_read_only_admin) can only be "+
				"assigned on a server whose license includes custom permission schemes (Professional or Enterprise), "+
				"and this server's license does not (%v)", what, err)
	}
	switch mattermost.StatusCode(err) {
	case http.StatusForbidden:
		return status.Errorf(codes.PermissionDenied,
			"%s: the api-token may not change system roles (permission manage_roles, held by System Admins) (%v)", what, err)
	case http.StatusBadRequest, http.StatusNotFound:
		return status.Errorf(codes.InvalidArgument, "%s: Mattermost refused the new role set (%v)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
