package mmfake

import (
	"net/http"
	"slices"
	"strings"
)

// GroupLink links a group to a team or channel (a group syncable).
type GroupLink struct {
	GroupID     string
	SchemeAdmin bool
}

func (s *Server) registerGroups() {
	s.Mux.HandleFunc("GET /api/v4/groups", s.requireLicense(s.listGroups))
	s.Mux.HandleFunc("GET /api/v4/groups/{id}", s.requireLicense(s.getGroup))
	s.Mux.HandleFunc("GET /api/v4/groups/{id}/members", s.requireLicense(s.listGroupMembers))
	s.Mux.HandleFunc("GET /api/v4/teams/{id}/groups", s.requireLicense(s.linkedGroups(func() map[string][]GroupLink { return s.TeamGroups })))
	s.Mux.HandleFunc("GET /api/v4/channels/{id}/groups", s.requireLicense(s.linkedGroups(func() map[string][]GroupLink { return s.ChannelGroups })))
}

// requireLicense answers 501 api.license_error on an unlicensed server, as every group endpoint does.
func (s *Server) requireLicense(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.licensed() {
			WriteError(w, http.StatusNotImplemented, IDLicenseRequired, "api endpoint requires a license")
			return
		}
		h(w, r)
	}
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	groups := slices.DeleteFunc(slices.Clone(s.Groups), func(g Group) bool { return g.DeleteAt > 0 })
	s.Mu.Unlock()
	servePageSorted(w, r, groups, func(g Group) string { return g.DisplayName })
}

// getGroup serves one group, archived ones included.
func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	serveFound(w, find(s.Groups, func(g *Group) bool { return g.ID == r.PathValue("id") }), groupNotFound)
}

func (s *Server) listGroupMembers(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	var members []User
	for _, id := range s.GroupMembers[r.PathValue("id")] {
		if u, ok := s.findUser(id); ok && u.IsActive() {
			members = append(members, u)
		}
	}
	s.Mu.Unlock()
	slices.SortFunc(members, func(a, b User) int { return strings.Compare(a.Username, b.Username) })
	WriteJSON(w, http.StatusOK, map[string]any{"members": orEmpty(PageOf(r, members)), "total_member_count": len(members)})
}

// linkedGroups serves /teams/{id}/groups or /channels/{id}/groups: the linked
// groups with the link's scheme_admin flag.
func (s *Server) linkedGroups(links func() map[string][]GroupLink) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.Mu.Lock()
		var groups []groupWithSchemeAdmin
		for _, l := range links()[r.PathValue("id")] {
			for _, g := range s.Groups {
				if g.ID == l.GroupID && g.DeleteAt == 0 {
					groups = append(groups, groupWithSchemeAdmin{Group: g, SchemeAdmin: &l.SchemeAdmin})
				}
			}
		}
		s.Mu.Unlock()
		WriteJSON(w, http.StatusOK, map[string]any{"groups": orEmpty(PageOf(r, groups)), "total_group_count": len(groups)})
	}
}

func orEmpty[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}
