package mmfake

import (
	"fmt"
	"net/http"
	"slices"
)

// Personal access tokens and bot tokens (server/channels/api4/user.go,
// server/channels/app/user_access_token.go), and POST /users/ids.
func (s *Server) registerTokens() {
	s.EnableUserAccessTokens = true
	s.Mux.HandleFunc("GET /api/v4/users/tokens", s.listAccessTokens)
	s.Mux.HandleFunc("GET /api/v4/users/tokens/{id}", s.getAccessToken)
	s.Mux.HandleFunc("POST /api/v4/users/tokens/{verb}", s.updateAccessToken)
	s.Mux.HandleFunc("POST /api/v4/users/ids", s.usersByIDs)
}

var accessTokenNotFound = failure{http.StatusNotFound, IDAccessTokenNotFound, "Unable to get the personal access tokens by user."}

// AddAccessToken gives a user or bot an active token and returns it (without
// its secret: the fake authenticates only Server.Token).
func (s *Server) AddAccessToken(userID, description string) AccessToken {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	t := AccessToken{ID: fmt.Sprintf("tok%023d", len(s.AccessTokens)+1), UserID: userID, Description: description, IsActive: true}
	s.AccessTokens = append(s.AccessTokens, t)
	return t
}

// UseAccessToken makes a request with the token, as far as sessions go: its
// first use opens a session recording the token's id, which lasts until the
// token is disabled or revoked.
func (s *Server) UseAccessToken(tokenID string) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	i := s.tokenIndex(tokenID)
	userID := s.AccessTokens[i].UserID
	if slices.ContainsFunc(s.Sessions[userID], func(se Session) bool { return se.Props["user_access_token_id"] == tokenID }) {
		return
	}
	s.Sessions[userID] = append(s.Sessions[userID], Session{ID: "session" + tokenID, CreateAt: 1,
		Props: map[string]string{"type": "UserAccessToken", "user_access_token_id": tokenID}})
}

// AccessToken returns the stored token with this id.
func (s *Server) AccessToken(id string) (AccessToken, bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if i := s.tokenIndex(id); i >= 0 {
		return s.AccessTokens[i], true
	}
	return AccessToken{}, false
}

func (s *Server) tokenIndex(id string) int {
	return slices.IndexFunc(s.AccessTokens, func(t AccessToken) bool { return t.ID == id })
}

// listAccessTokens serves every token, in stored order: Mattermost's query has no ORDER BY.
func (s *Server) listAccessTokens(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	tokens := slices.Clone(s.AccessTokens)
	s.Mu.Unlock()
	WriteJSON(w, http.StatusOK, PageOf(r, tokens))
}

func (s *Server) getAccessToken(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	var t *AccessToken
	if i := s.tokenIndex(r.PathValue("id")); i >= 0 {
		t = &s.AccessTokens[i]
	}
	serveFound(w, t, accessTokenNotFound)
}

// updateAccessToken revokes (deletes), disables or enables a token. Revoking
// and disabling end the session the token opened; repeating either is no error.
func (s *Server) updateAccessToken(w http.ResponseWriter, r *http.Request) {
	verb := r.PathValue("verb")
	if verb != "revoke" && verb != "disable" && verb != "enable" {
		pageNotFound.write(w)
		return
	}
	body, ok := decodeBody(w, r, failure{http.StatusBadRequest, IDInvalidParam, "Invalid or missing token_id parameter."},
		func(b map[string]string) bool { return b["token_id"] != "" })
	if !ok {
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	i := s.tokenIndex(body["token_id"])
	if i < 0 {
		accessTokenNotFound.write(w)
		return
	}
	t := s.AccessTokens[i]
	if verb != "enable" {
		s.Sessions[t.UserID] = slices.DeleteFunc(s.Sessions[t.UserID], func(se Session) bool {
			return se.Props["user_access_token_id"] == t.ID
		})
	}
	switch verb {
	case "revoke":
		s.AccessTokens = slices.Delete(s.AccessTokens, i, i+1)
	default:
		s.AccessTokens[i].IsActive = verb == "enable"
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"})
}

// usersByIDs serves the users with the ids of the body, deactivated ones
// included, leaving out unknown ids.
func (s *Server) usersByIDs(w http.ResponseWriter, r *http.Request) {
	ids, ok := decodeBody(w, r, failure{http.StatusBadRequest, IDInvalidBodyParam, "Invalid or missing user_ids in request body."},
		func(ids []string) bool { return len(ids) > 0 })
	if !ok {
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	WriteJSON(w, http.StatusOK, pick(ids, s.findUser))
}
