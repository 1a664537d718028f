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
	"google.golang.org/grpc/codes"
)

// assignedEntitlement is the slug of a role's only entitlement.
const assignedEntitlement = "assigned"

// systemRole is a system role synced as a role resource. The names and
// descriptions are the System Console's (webapp rolesStrings): the server
// only stores i18n keys for built-in roles.
type systemRole struct {
	name        string
	displayName string
	description string
	// licensed roles can only be assigned on a server whose license has
	// custom permission schemes (model.NewSystemRoleIDs).
	licensed bool
}

// systemRoles are the system roles an access review cares about, most
// powerful first. system_user is deliberately not one: every account that is
// not a guest holds it (bots too), so as a role it would only restate the
// user list at the cost of walking /users a second time, and it cannot be
// revoked (Mattermost requires system_user or system_guest). It stays visible
// in each user's "roles" profile field. Roles the server does not know (the
// last two only exist on newer servers) are skipped.
var systemRoles = []systemRole{
	{name: mattermost.RoleSystemAdmin, displayName: "System Admin", description: "Access to modifying everything."},
	{name: mattermost.RoleSystemManager, displayName: "System Manager", licensed: true,
		description: "Delegated admin: slightly less access than a System Admin."},
	{name: mattermost.RoleSystemUserManager, displayName: "User Manager", licensed: true,
		description: "Delegated admin: enough access to help with user management."},
	{name: mattermost.RoleSystemReadOnlyAdmin, displayName: "Viewer", licensed: true,
		description: "Delegated admin: read-only access to the System Console, for oversight."},
	{name: mattermost.RoleSystemCustomGroupAdmin, displayName: "Custom Group Manager",
		description: "Administers all custom groups across the system."},
	{name: "system_shared_channel_manager", displayName: "Shared Channel Manager",
		description: "Can browse available connections and share or unshare channels with remote servers."},
	{name: "system_secure_connection_manager", displayName: "Secure Connection Manager",
		description: "Can create, manage, and remove secure connections to remote servers."},
	{name: mattermost.RoleSystemPostAll, displayName: "Post to all channels (post:all)",
		description: "Can post in every channel, private channels and direct messages included, without being a member."},
	{name: mattermost.RoleSystemPostAllPublic, displayName: "Post to all public channels (post:channels)",
		description: "Can post in every public channel without being a member."},
	{name: mattermost.RoleSystemUserAccessToken, displayName: "Personal access token creator",
		description: "Can create personal access tokens for API access (also needs EnableUserAccessTokens)."},
	{name: mattermost.RoleSystemGuest, displayName: "Guest",
		description: "Guest account: sees only the teams and channels it was invited to. Changed only by promoting or demoting the account."},
}

func findSystemRole(name string) (systemRole, bool) {
	for _, r := range systemRoles {
		if r.name == name {
			return r, true
		}
	}
	return systemRole{}, false
}

type roleSyncer struct {
	client *mattermost.Client
}

func newRoleSyncer(client *mattermost.Client) *roleSyncer {
	return &roleSyncer{client: client}
}

func (s *roleSyncer) ResourceType(_ context.Context) *v2.ResourceType { return roleResourceType }

// List returns the system roles the server defines, in one POST /roles/names.
func (s *roleSyncer) List(ctx context.Context, _ *v2.ResourceId, _ resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	return sdkResult(s.list(ctx))
}

func (s *roleSyncer) list(ctx context.Context) ([]*v2.Resource, *resource.SyncOpResults, error) {
	names := make([]string, len(systemRoles))
	for i, r := range systemRoles {
		names[i] = r.name
	}
	roles, err := s.client.GetRolesByNames(ctx, names)
	if err != nil {
		return nil, nil, err
	}
	byName := make(map[string]*mattermost.Role, len(roles))
	for i := range roles {
		byName[roles[i].Name] = &roles[i]
	}
	out := make([]*v2.Resource, 0, len(roles))
	for _, def := range systemRoles {
		role := byName[def.name]
		if role == nil || role.DeleteAt > 0 {
			continue
		}
		r, err := roleResource(def, role)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	return out, nil, nil
}

// Get returns one system role for a targeted sync (targeted.go), in one POST /roles/names.
func (s *roleSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	r, err := s.get(ctx, id)
	return targetResult(id, r, err)
}

func (s *roleSyncer) get(ctx context.Context, id *v2.ResourceId) (*v2.Resource, error) {
	def, ok := findSystemRole(id.GetResource())
	if !ok {
		names := make([]string, len(systemRoles))
		for i, r := range systemRoles {
			names[i] = r.name
		}
		return nil, notSyncable(codes.InvalidArgument, id, "baton-mattermost syncs only the system roles "+strings.Join(names, ", "), nil)
	}
	roles, err := s.client.GetRolesByNames(ctx, []string{def.name})
	if err != nil {
		return nil, err
	}
	for i := range roles {
		if roles[i].Name == def.name && roles[i].DeleteAt == 0 {
			return roleResource(def, &roles[i])
		}
	}
	return nil, notSyncable(codes.InvalidArgument, id, "this Mattermost server does not define the role (older servers lack some)", nil)
}

// isI18nKey tells the translation ids Mattermost stores as built-in roles'
// names ("authentication.roles.global_admin.name") from real text.
func isI18nKey(s string) bool { return strings.HasPrefix(s, "authentication.roles.") }

func roleResource(def systemRole, role *mattermost.Role) (*v2.Resource, error) {
	name, description := def.displayName, def.description
	if role.DisplayName != "" && !isI18nKey(role.DisplayName) {
		name = role.DisplayName
	}
	if role.Description != "" && !isI18nKey(role.Description) {
		description = role.Description
	}
	if def.licensed {
		description += " Assigning it needs a Mattermost license with custom permission schemes."
	}
	permissions := make([]interface{}, len(role.Permissions))
	for i, p := range role.Permissions {
		permissions[i] = p
	}
	profile := map[string]interface{}{
		"role_id":        role.ID,
		"name":           role.Name,
		"built_in":       role.BuiltIn,
		"scheme_managed": role.SchemeManaged,
		"needs_license":  def.licensed,
		"permissions":    permissions,
	}
	return resource.NewResource(name, roleResourceType, role.Name,
		resource.WithRoleTrait(),
		resource.WithResourceProfile(profile),
		resource.WithDescription(description),
	)
}

func (s *roleSyncer) Entitlements(_ context.Context, r *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	opts := []entitlement.EntitlementOption{
		entitlement.WithGrantableTo(userResourceType),
		entitlement.WithDisplayName(fmt.Sprintf("%s role", r.GetDisplayName())),
		entitlement.WithDescription(fmt.Sprintf("Has the Mattermost system role %s (%s)", r.GetDisplayName(), r.GetId().GetResource())),
	}
	if r.GetId().GetResource() == mattermost.RoleSystemGuest {
		// Guest is a kind of account, not a role to hand out: see Grant.
		opts = append(opts, entitlement.WithAnnotation(&v2.EntitlementImmutable{}))
	}
	return []*v2.Entitlement{entitlement.NewAssignmentEntitlement(r, assignedEntitlement, opts...)}, nil, nil
}

// Grants lists the role's holders from /users?role=<name>, deactivated users
// and bots included, one page of 200 a call: no request per user. The server
// matches role names as substrings, so holders are checked exactly here.
func (s *roleSyncer) Grants(ctx context.Context, r *v2.Resource, attrs resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	roleName := r.GetId().GetResource()
	list := func(ctx context.Context, cur mattermost.Cursor) (mattermost.Page[mattermost.User], error) {
		return s.client.ListUsersWithRole(ctx, roleName, cur)
	}
	return sdkResult(onePage(ctx, attrs, list, func(u *mattermost.User) ([]*v2.Grant, error) {
		if !u.HasRole(roleName) {
			return nil, nil
		}
		return []*v2.Grant{roleGrant(r, u.ID)}, nil
	}))
}

// roleGrant is the grant of a role to one user.
func roleGrant(r *v2.Resource, userID string) *v2.Grant {
	principal := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: userID}.Build()
	var opts []grant.GrantOption
	if r.GetId().GetResource() == mattermost.RoleSystemGuest {
		opts = append(opts, grant.WithAnnotation(&v2.GrantImmutable{}))
	}
	return grant.NewGrant(r, assignedEntitlement, principal, opts...)
}
