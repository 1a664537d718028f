package mmfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// The system roles the handlers branch on (server/public/model/role.go).
const (
	roleSystemAdmin = "system_admin"
	roleSystemUser  = "system_user"
	roleSystemGuest = "system_guest"
)

// builtInSystemRoles are the system roles a Mattermost 11 server defines,
// with the i18n keys it stores as their names.
func builtInSystemRoles() map[string]Role {
	roles := map[string]Role{}
	for _, r := range []struct {
		name, key     string
		schemeManaged bool
		permissions   []string
	}{
		{"system_admin", "global_admin", true, []string{"manage_system", "manage_roles"}},
		{"system_user", "global_user", true, []string{"create_team", "view_members"}},
		{"system_guest", "global_guest", true, []string{"create_direct_channel"}},
		{"system_post_all", "system_post_all", false, []string{"create_post"}},
		{"system_post_all_public", "system_post_all_public", false, []string{"create_post_public"}},
		{"system_user_access_token", "system_user_access_token", false, []string{"create_user_access_token"}},
		{"system_user_manager", "system_user_manager", false, []string{"sysconsole_read_user_management_users"}},
		{"system_read_only_admin", "system_read_only_admin", false, []string{"sysconsole_read_about"}},
		{"system_manager", "system_manager", false, []string{"sysconsole_write_environment"}},
		{"system_custom_group_admin", "system_custom_group_admin", false, []string{"create_custom_group"}},
	} {
		roles[r.name] = Role{ID: "roleid" + r.name, Name: r.name,
			DisplayName: "authentication.roles." + r.key + ".name", Description: "authentication.roles." + r.key + ".description",
			Permissions: r.permissions, SchemeManaged: r.schemeManaged, BuiltIn: true}
	}
	return roles
}

// licensedRoles may only be assigned with a license (model.NewSystemRoleIDs).
var licensedRoles = []string{"system_user_manager", "system_read_only_admin", "system_manager"}

func (s *Server) registerRoles() {
	s.Mux.HandleFunc("POST /api/v4/roles/names", s.getRolesByNames)
	s.Mux.HandleFunc("PUT /api/v4/users/{id}/roles", s.updateUserRoles)
	s.Mux.HandleFunc("GET /api/v4/license/client", s.getClientLicense)
}

func (s *Server) getRolesByNames(w http.ResponseWriter, r *http.Request) {
	names, ok := decodeBody(w, r, failure{http.StatusBadRequest, IDInvalidBodyParam, "Invalid or missing rolenames in request body."},
		func(names []string) bool { return len(names) > 0 && len(names) <= 100 })
	if !ok {
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	WriteJSON(w, http.StatusOK, pick(names, func(name string) (Role, bool) {
		role, ok := s.Roles[name]
		return role, ok
	}))
}

// updateUserRoles follows api4.updateUserRoles and App.UpdateUserRoles.
func (s *Server) updateUserRoles(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	_ = json.NewDecoder(r.Body).Decode(&body)
	newRoles := strings.Fields(body["roles"])
	if len(newRoles) == 0 || (len(newRoles) == 1 && newRoles[0] == roleSystemAdmin) {
		WriteError(w, http.StatusBadRequest, IDInvalidBodyParam, "Invalid or missing roles in request body.")
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	for _, role := range newRoles {
		if slices.Contains(licensedRoles, role) && s.License["CustomPermissionsSchemes"] != "true" {
			WriteError(w, http.StatusBadRequest, IDRolesNeedLicense, "Your license does not support updating a user's roles.")
			return
		}
	}
	i := slices.IndexFunc(s.Users, func(u User) bool { return u.ID == r.PathValue("id") })
	if i < 0 {
		WriteError(w, http.StatusBadRequest, IDMissingAccount, "Unable to find the user.")
		return
	}
	for _, role := range newRoles {
		if _, ok := s.Roles[role]; !ok {
			WriteError(w, http.StatusBadRequest, IDRoleNotFound, "The provided role does not exist")
			return
		}
	}
	u := &s.Users[i]
	if u.hasRole(roleSystemAdmin) && !strings.Contains(body["roles"], roleSystemAdmin) {
		admins := 0
		for _, o := range s.Users {
			if o.hasRole(roleSystemAdmin) && !o.IsBot && o.IsActive() {
				admins++
			}
		}
		if admins <= 1 {
			WriteError(w, http.StatusBadRequest, IDLastAdmin, "Cannot demote the last system admin.")
			return
		}
	}
	u.Roles = strings.Join(newRoles, " ")
	WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

func (s *Server) getClientLicense(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("format") != "old" {
		WriteError(w, http.StatusNotImplemented, IDLicenseOldFormat, "New format for the client license is not supported yet.")
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	WriteJSON(w, http.StatusOK, s.License)
}

// Licensed makes the server licensed with the given SKU (e.g. "enterprise")
// and license features set to "true" (e.g. "LDAPGroups", "CustomPermissionsSchemes").
func (s *Server) Licensed(sku string, features ...string) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.License = map[string]string{"IsLicensed": "true", "SkuShortName": sku}
	for _, f := range features {
		s.License[f] = "true"
	}
}

func (s *Server) licensed() bool {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.License["IsLicensed"] == "true"
}

// UserRoles returns a user's current roles field.
func (s *Server) UserRoles(userID string) string {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	u, _ := s.findUser(userID)
	return u.Roles
}
