package mmfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Account lifecycle endpoints: user creation, (de)activation of users and
// bots, sessions, and the client configuration's password settings.
func (s *Server) registerLifecycle() {
	s.Sessions = map[string][]Session{}
	s.PasswordMinimumLength = 8
	s.Mux.HandleFunc("POST /api/v4/users", s.createUser)
	// One pattern for /users/email/{e}, /users/username/{u}, /users/{id}/sessions and /users/stats/filtered:
	// separate patterns would overlap (/users/email/sessions) and make ServeMux panic.
	s.Mux.HandleFunc("GET /api/v4/users/{a}/{b}", s.getUserSubresource)
	s.Mux.HandleFunc("PUT /api/v4/users/{id}/active", s.updateUserActive)
	s.Mux.HandleFunc("POST /api/v4/users/{id}/sessions/revoke/all", s.revokeAllSessions)
	s.Mux.HandleFunc("POST /api/v4/bots/{id}/{verb}", s.updateBotActive)
	s.Mux.HandleFunc("GET /api/v4/config/client", s.clientConfig)
}

var fakeUsername = regexp.MustCompile(`^[a-z0-9.\-_]{1,64}$`)

// AddSession gives a user a session; accessToken marks one opened by a personal access token.
func (s *Server) AddSession(userID, sessionID string, accessToken bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	props := map[string]string{}
	if accessToken {
		props["type"] = "UserAccessToken"
	}
	s.Sessions[userID] = append(s.Sessions[userID], Session{ID: sessionID, CreateAt: 1, Props: props})
}

// User returns the stored user with this id.
func (s *Server) User(id string) (User, bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.findUser(id)
}

func (s *Server) userIndex(match func(*User) bool) int {
	return slices.IndexFunc(s.Users, func(u User) bool { return match(&u) })
}

// createUser mimics CreateUserAsAdmin: validation, uniqueness of e-mail and username, 201.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	nu, ok := decodeBody[NewUser](w, r, failure{http.StatusBadRequest, IDInvalidBodyParam, "Invalid or missing user in request body."}, nil)
	if !ok {
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.CreatedUsers = append(s.CreatedUsers, nu)
	email, username := strings.ToLower(nu.Email), strings.ToLower(nu.Username)
	switch {
	case !strings.Contains(email, "@"):
		WriteError(w, http.StatusBadRequest, IDInvalidEmail, "Invalid email.")
		return
	case !fakeUsername.MatchString(username) || slices.Contains([]string{"all", "channel", "matterbot", "system"}, username):
		WriteError(w, http.StatusBadRequest, IDInvalidUsername, "Invalid username.")
		return
	case nu.AuthService != "" && nu.Password != "":
		WriteError(w, http.StatusBadRequest, IDAuthDataConflict, "Invalid user, password and auth data cannot both be set.")
		return
	case nu.AuthService == "" && len(nu.Password) < s.PasswordMinimumLength:
		WriteError(w, http.StatusBadRequest, IDBelowMinimumLength, "Your password must be at least "+strconv.Itoa(s.PasswordMinimumLength)+" characters.")
		return
	}
	emailTaken := s.userIndex(func(u *User) bool { return strings.EqualFold(u.Email, email) }) >= 0
	usernameTaken := s.userIndex(func(u *User) bool { return u.Username == username }) >= 0
	if usernameTaken && (s.UsernameConflictFirst || !emailTaken) {
		WriteError(w, http.StatusBadRequest, IDUsernameExists, "An account with that username already exists.")
		return
	}
	if emailTaken {
		WriteError(w, http.StatusBadRequest, IDEmailExists, "An account with that email already exists.")
		return
	}
	now := time.Now().UnixMilli()
	u := User{ID: fmt.Sprintf("new%023d", len(s.Users)), CreateAt: now, UpdateAt: now, Username: username,
		Email: email, FirstName: nu.FirstName, LastName: nu.LastName, AuthService: nu.AuthService, Roles: roleSystemUser}
	s.Users = append(s.Users, u)
	WriteJSON(w, http.StatusCreated, u)
}

func (s *Server) getUserSubresource(w http.ResponseWriter, r *http.Request) {
	a, b := r.PathValue("a"), r.PathValue("b")
	s.Mu.Lock()
	defer s.Mu.Unlock()
	var i int
	switch {
	case a == "stats" && b == "filtered":
		WriteJSON(w, http.StatusOK, map[string]int{"total_users_count": s.countUsers(r.URL.Query())})
		return
	case a == "email":
		i = s.userIndex(func(u *User) bool { return strings.EqualFold(u.Email, b) })
	case a == "username":
		i = s.userIndex(func(u *User) bool { return u.Username == b })
	case b == "sessions":
		i = s.userIndex(func(u *User) bool { return u.ID == a })
	default:
		pageNotFound.write(w)
		return
	}
	if i < 0 {
		missingAccount.write(w)
		return
	}
	if b == "sessions" {
		WriteJSON(w, http.StatusOK, append([]Session{}, s.Sessions[a]...))
		return
	}
	WriteJSON(w, http.StatusOK, s.Users[i])
}

// countUsers counts as GET /users/stats/filtered does: active non-bot local
// accounts, plus deactivated, bot and remote ones when asked for.
func (s *Server) countUsers(q url.Values) int {
	n := 0
	for _, u := range s.Users {
		switch {
		case !u.IsActive() && q.Get("include_deleted") != "true",
			u.IsBot && q.Get("include_bots") != "true",
			u.RemoteID != "" && q.Get("include_remote_users") != "true":
		default:
			n++
		}
	}
	return n
}

// setActiveLocked applies (de)activation as App.UpdateActive does: deactivation revokes sessions.
func (s *Server) setActiveLocked(i int, active bool) {
	if active {
		s.Users[i].DeleteAt = 0
		return
	}
	s.Users[i].DeleteAt = time.Now().UnixMilli()
	delete(s.Sessions, s.Users[i].ID)
}

func (s *Server) updateUserActive(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	active, ok := false, false
	if json.NewDecoder(r.Body).Decode(&body) == nil {
		active, ok = body["active"].(bool)
	}
	if !ok {
		WriteError(w, http.StatusBadRequest, IDInvalidBodyParam, "Invalid or missing active in request body.")
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	i := s.userIndex(func(u *User) bool { return u.ID == r.PathValue("id") })
	switch {
	case i < 0:
		missingAccount.write(w)
	case s.Users[i].AuthService == "ldap":
		WriteError(w, http.StatusForbidden, IDManagedByLDAP, "You cannot modify user status. User is managed by LDAP")
	default:
		s.setActiveLocked(i, active)
		WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"})
	}
}

func (s *Server) updateBotActive(w http.ResponseWriter, r *http.Request) {
	verb := r.PathValue("verb")
	if verb != "disable" && verb != "enable" {
		pageNotFound.write(w)
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	i := s.userIndex(func(u *User) bool { return u.ID == r.PathValue("id") && u.IsBot })
	if i < 0 {
		WriteError(w, http.StatusNotFound, IDBotMissing, "Bot does not exist.")
		return
	}
	s.setActiveLocked(i, verb == "enable")
	WriteJSON(w, http.StatusOK, map[string]any{"user_id": s.Users[i].ID, "username": s.Users[i].Username, "delete_at": s.Users[i].DeleteAt})
}

func (s *Server) revokeAllSessions(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.userIndex(func(u *User) bool { return u.ID == r.PathValue("id") }) < 0 {
		missingAccount.write(w)
		return
	}
	delete(s.Sessions, r.PathValue("id"))
	WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

func (s *Server) clientConfig(w http.ResponseWriter, _ *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	WriteJSON(w, http.StatusOK, map[string]string{"PasswordMinimumLength": strconv.Itoa(s.PasswordMinimumLength),
		"PasswordRequireLowercase": "false", "PasswordRequireUppercase": "false", "PasswordRequireNumber": "false", "PasswordRequireSymbol": "false",
		"EnableUserAccessTokens": strconv.FormatBool(s.EnableUserAccessTokens)})
}
