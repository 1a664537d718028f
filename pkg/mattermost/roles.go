package mattermost

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Role is a Mattermost role definition (server/public/model/role.go).
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
	// Permissions are the permission ids the role grants.
	Permissions   []string `json:"permissions"`
	SchemeManaged bool     `json:"scheme_managed"`
	BuiltIn       bool     `json:"built_in"`
	DeleteAt      int64    `json:"delete_at"`
}

// System role names (server/public/model/role.go).
const (
	RoleSystemAdmin            = "system_admin"
	RoleSystemUser             = "system_user"
	RoleSystemGuest            = "system_guest"
	RoleSystemManager          = "system_manager"
	RoleSystemUserManager      = "system_user_manager"
	RoleSystemReadOnlyAdmin    = "system_read_only_admin"
	RoleSystemCustomGroupAdmin = "system_custom_group_admin"
	RoleSystemUserAccessToken  = "system_user_access_token" //nolint:gosec // a role name, not a credential
	RoleSystemPostAll          = "system_post_all"
	RoleSystemPostAllPublic    = "system_post_all_public"
)

// GetRolesByNames returns the roles with the given names; names the server
// does not know are left out of the answer. The server takes up to 100 names.
func (c *Client) GetRolesByNames(ctx context.Context, names []string) ([]Role, error) {
	var roles []Role
	if err := c.readByPost(ctx, path("roles", "names"), names, &roles); err != nil {
		return nil, err
	}
	return roles, nil
}

// ListUsersWithRole returns one page of the users whose roles field contains
// role. The server matches a substring (Roles LIKE %role%), so a page also
// holds users of longer role names (system_post_all finds system_post_all_public
// holders): callers must check User.HasRole. Deactivated users and bots are included.
func (c *Client) ListUsersWithRole(ctx context.Context, role string, cur Cursor) (Page[User], error) {
	return listPage(ctx, c, path("users"), url.Values{"role": {role}}, cur, userID)
}

// UpdateUserRoles replaces a user's system roles with roles (a space-separated
// set that must hold system_user or system_guest).
func (c *Client) UpdateUserRoles(ctx context.Context, userID string, roles []string) error {
	body := map[string]string{"roles": strings.Join(roles, " ")}
	return c.write(ctx, http.MethodPut, path("users", userID, "roles"), body, nil)
}
