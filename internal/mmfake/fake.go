// Package mmfake is an in-memory fake of the Mattermost REST API v4 for unit
// tests: the endpoints baton-mattermost reads, with Mattermost's paging,
// ordering and error bodies. Integration tests use a real server instead.
package mmfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Token is the API token the fake accepts unless Server.Token is changed.
const Token = "faketoken0000000000000000a"

// Server is a fake Mattermost server. Lock Mu to change its data while it serves.
type Server struct {
	*httptest.Server
	Mux *http.ServeMux

	Mu          sync.Mutex
	Token       string
	MeID        string
	Users       []User
	Teams       []Team
	TeamMembers map[string][]TeamMember // by team id
	// Channels and ChannelMembers (by channel id) back the channel endpoints (memberships.go).
	Channels       []Channel
	ChannelMembers map[string][]ChannelMember
	// MaxUsersPerTeam, when > 0, is TeamSettings.MaxUsersPerTeam (adds beyond it fail).
	MaxUsersPerTeam int

	// Roles are the server's roles by name; New fills in the built-in system roles.
	Roles map[string]Role
	// LastLogins are the users' last login times (Unix ms) and PostStats
	// their activity, by user id, served by /reports/users only.
	LastLogins map[string]int64
	PostStats  map[string]PostStats
	// License is what /license/client?format=old answers; New makes the server unlicensed.
	License map[string]string
	// Groups, their members (user ids by group id) and their links to teams
	// and channels (by team or channel id); served only when licensed.
	Groups        []Group
	GroupMembers  map[string][]string
	TeamGroups    map[string][]GroupLink
	ChannelGroups map[string][]GroupLink

	// Account lifecycle (lifecycle.go).
	Sessions              map[string][]Session // by user id
	CreatedUsers          []NewUser            // bodies of POST /users, in order
	PasswordMinimumLength int                  // PasswordSettings.MinimumLength (default 8)
	// UsernameConflictFirst makes POST /users name a taken username before a
	// taken e-mail address when both are taken (the server names either).
	UsernameConflictFirst bool

	// AccessTokens are the server's personal access tokens and bot tokens, and
	// EnableUserAccessTokens is ServiceSettings.EnableUserAccessTokens (New: true) (tokens.go).
	AccessTokens           []AccessToken
	EnableUserAccessTokens bool

	// Intercept, when set, sees every request first; returning true means it answered.
	Intercept func(w http.ResponseWriter, r *http.Request) bool

	reqMu    sync.Mutex
	requests []string
}

// New starts a fake server with one System Admin (id "admin", the token's owner).
func New(t testing.TB) *Server {
	return start(t, httptest.NewServer)
}

// NewTLS starts the fake behind HTTPS with httptest's self-signed
// certificate; s.Certificate() is the CA a client must trust.
func NewTLS(t testing.TB) *Server {
	return start(t, httptest.NewTLSServer)
}

func start(t testing.TB, newServer func(http.Handler) *httptest.Server) *Server {
	s := &Server{
		Mux:            http.NewServeMux(),
		Token:          Token,
		MeID:           "admin",
		TeamMembers:    map[string][]TeamMember{},
		ChannelMembers: map[string][]ChannelMember{},
		Users: []User{{ID: "admin", Username: "admin", Email: "admin@example.com",
			Roles: "system_admin system_user", CreateAt: 1_600_000_000_000}},
		Roles:         builtInSystemRoles(),
		LastLogins:    map[string]int64{},
		PostStats:     map[string]PostStats{},
		License:       map[string]string{"IsLicensed": "false"},
		GroupMembers:  map[string][]string{},
		TeamGroups:    map[string][]GroupLink{},
		ChannelGroups: map[string][]GroupLink{},
	}
	s.Mux.HandleFunc("GET /api/v4/users/me", s.getMe)
	s.Mux.HandleFunc("GET /api/v4/users", s.listUsers)
	s.Mux.HandleFunc("GET /api/v4/users/{id}", s.getUser)
	s.Mux.HandleFunc("GET /api/v4/teams", s.listTeams)
	s.Mux.HandleFunc("GET /api/v4/teams/{id}", s.getTeam)
	s.Mux.HandleFunc("GET /api/v4/teams/{id}/members", s.listTeamMembers)
	s.registerMembershipRoutes()
	s.registerRoles()
	s.registerReports()
	s.registerGroups()
	s.registerLifecycle()
	s.registerTokens()
	s.Server = newServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.reqMu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
	s.reqMu.Unlock()
	if s.Intercept != nil && s.Intercept(w, r) {
		return
	}
	s.Mu.Lock()
	token := s.Token
	s.Mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		sessionExpired.write(w)
		return
	}
	s.Mux.ServeHTTP(w, r)
}

// Requests returns every request received so far, as "METHOD /path?query".
func (s *Server) Requests() []string {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	return slices.Clone(s.requests)
}

// WriteJSON answers with a JSON body, as Mattermost does.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "fakerequestid")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers with Mattermost's AppError body.
func WriteError(w http.ResponseWriter, code int, id, message string) {
	WriteJSON(w, code, appError{ID: id, Message: message, RequestID: "fakerequestid", StatusCode: code})
}

// decodeBody reads the request's JSON body into a T, answering with bad when
// it is not one or, given valid, not a valid one.
func decodeBody[T any](w http.ResponseWriter, r *http.Request, bad failure, valid func(T) bool) (T, bool) {
	var v T
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil || (valid != nil && !valid(v)) {
		bad.write(w)
		return v, false
	}
	return v, true
}

// pick returns, in order, what get finds for each of keys: the answer of the
// endpoints that look items up by a list of ids or names.
func pick[T any](keys []string, get func(string) (T, bool)) []T {
	out := []T{}
	for _, key := range keys {
		if v, ok := get(key); ok {
			out = append(out, v)
		}
	}
	return out
}

// servePageSorted answers with the request's page of items ordered by key,
// stably: Mattermost's display-name orders are not unique.
func servePageSorted[T any](w http.ResponseWriter, r *http.Request, items []T, key func(T) string) {
	slices.SortStableFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	WriteJSON(w, http.StatusOK, PageOf(r, items))
}

// PageOf returns the page of items that Mattermost's page/per_page paging
// gives for the request: per_page defaults to 60 and is clamped to 200. Past
// the end it is empty, never nil: Mattermost answers [], not null.
func PageOf[T any](r *http.Request, items []T) []T {
	page, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || page < 0 {
		page = 0
	}
	perPage, err := strconv.Atoi(r.URL.Query().Get("per_page"))
	if err != nil || perPage < 0 {
		perPage = 60
	}
	perPage = min(perPage, 200)
	start := min(page*perPage, len(items))
	end := min(start+perPage, len(items))
	return append(make([]T, 0, end-start), items[start:end]...)
}

func (s *Server) findUser(id string) (User, bool) {
	for _, u := range s.Users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

func (s *Server) getMe(w http.ResponseWriter, _ *http.Request) {
	s.Mu.Lock()
	me := s.MeID
	s.Mu.Unlock()
	s.serveUser(w, me, sessionExpired)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.serveUser(w, r.PathValue("id"), missingAccount)
}

// serveUser answers with the user, or with missing when there is none.
func (s *Server) serveUser(w http.ResponseWriter, id string, missing failure) {
	s.Mu.Lock()
	u, ok := s.findUser(id)
	s.Mu.Unlock()
	if !ok {
		missing.write(w)
		return
	}
	WriteJSON(w, http.StatusOK, u)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	users := slices.Clone(s.Users)
	if ch := r.URL.Query().Get("in_channel"); ch != "" {
		in := map[string]bool{}
		for _, m := range s.ChannelMembers[ch] {
			in[m.UserID] = true
		}
		users = slices.DeleteFunc(users, func(u User) bool { return !in[u.ID] })
	}
	_, roleExists := s.Roles[r.URL.Query().Get("role")]
	s.Mu.Unlock()
	if role := r.URL.Query().Get("role"); role != "" {
		// Mattermost checks that the role exists, then matches Roles LIKE %role%.
		if !roleExists {
			WriteError(w, http.StatusBadRequest, IDInvalidBodyParam, "Invalid or missing role in request body.")
			return
		}
		users = slices.DeleteFunc(users, func(u User) bool { return !strings.Contains(u.Roles, role) })
	}
	servePageSorted(w, r, users, func(u User) string { return u.Username })
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	teams := slices.Clone(s.Teams)
	s.Mu.Unlock()
	servePageSorted(w, r, teams, func(t Team) string { return t.DisplayName })
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	serveFound(w, s.findTeam(r.PathValue("id")), teamNotFound)
}

// serveFound answers with the item, or with missing when there is none.
func serveFound[T any](w http.ResponseWriter, item *T, missing failure) {
	if item == nil {
		missing.write(w)
		return
	}
	WriteJSON(w, http.StatusOK, item)
}

// listTeamMembers serves active memberships only, ordered by user id, as Mattermost does.
func (s *Server) listTeamMembers(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	var members []TeamMember
	for _, m := range s.TeamMembers[r.PathValue("id")] {
		if m.DeleteAt == 0 {
			members = append(members, m)
		}
	}
	s.Mu.Unlock()
	servePageSorted(w, r, members, func(m TeamMember) string { return m.UserID })
}
