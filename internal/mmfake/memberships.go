package mmfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// Channel listings and the team and channel membership endpoints, with the
// checks and error ids of Mattermost 11 (server/channels/api4/{team,channel}.go,
// server/channels/app/{team,channel}.go) that provisioning depends on.

func (s *Server) registerMembershipRoutes() {
	s.Mux.HandleFunc("GET /api/v4/teams/{id}/channels/private", s.listTeamChannels(mattermost.ChannelTypePrivate))
	s.Mux.HandleFunc("GET /api/v4/teams/{id}/channels", s.listTeamChannels(mattermost.ChannelTypeOpen))
	s.Mux.HandleFunc("GET /api/v4/channels/{id}", s.getChannel)
	s.Mux.HandleFunc("POST /api/v4/channels/{id}/members/ids", s.channelMembersByIDs)
	s.Mux.HandleFunc("POST /api/v4/channels/{id}/members", s.addChannelMember)
	s.Mux.HandleFunc("DELETE /api/v4/channels/{id}/members/{uid}", s.removeChannelMember)
	s.Mux.HandleFunc("PUT /api/v4/channels/{id}/members/{uid}/schemeRoles", s.channelSchemeRoles)
	s.Mux.HandleFunc("POST /api/v4/teams/{id}/members/ids", s.teamMembersByIDs)
	s.Mux.HandleFunc("POST /api/v4/teams/{id}/members", s.addTeamMember)
	s.Mux.HandleFunc("DELETE /api/v4/teams/{id}/members/{uid}", s.removeTeamMember)
	s.Mux.HandleFunc("PUT /api/v4/teams/{id}/members/{uid}/schemeRoles", s.teamSchemeRoles)
	s.Mux.HandleFunc("GET /api/v4/users/{uid}/teams/{tid}/channels", s.userChannelsInTeam)
}

// AddChannel records a channel.
func (s *Server) AddChannel(ch mattermost.Channel) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.Channels = append(s.Channels, ch)
}

// AddChannelMember records a channel membership with the scheme flags Mattermost sets.
func (s *Server) AddChannelMember(channelID, userID string, admin, guest bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.putChannelMember(channelID, userID, admin, guest)
}

// RemoveChannelMember deletes a channel membership.
func (s *Server) RemoveChannelMember(channelID, userID string) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.deleteChannelMember(channelID, userID)
}

// TeamMember returns a user's membership row of a team (also a left one), or nil.
func (s *Server) TeamMember(teamID, userID string) *mattermost.TeamMember {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if m := s.teamMember(teamID, userID); m != nil {
		c := *m
		return &c
	}
	return nil
}

// ChannelMember returns a user's membership of a channel, or nil.
func (s *Server) ChannelMember(channelID, userID string) *mattermost.ChannelMember {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if m := s.channelMember(channelID, userID); m != nil {
		c := *m
		return &c
	}
	return nil
}

// The helpers below expect s.Mu to be held.

func (s *Server) putChannelMember(channelID, userID string, admin, guest bool) {
	roles := "channel_user"
	if guest {
		roles = "channel_guest"
	}
	if admin {
		roles += " channel_admin"
	}
	s.ChannelMembers[channelID] = append(s.ChannelMembers[channelID], mattermost.ChannelMember{ChannelID: channelID,
		UserID: userID, Roles: roles, SchemeUser: !guest, SchemeGuest: guest, SchemeAdmin: admin})
}

func (s *Server) deleteChannelMember(channelID, userID string) {
	s.ChannelMembers[channelID] = slices.DeleteFunc(s.ChannelMembers[channelID],
		func(m mattermost.ChannelMember) bool { return m.UserID == userID })
}

func (s *Server) channelMember(channelID, userID string) *mattermost.ChannelMember {
	for i := range s.ChannelMembers[channelID] {
		if m := &s.ChannelMembers[channelID][i]; m.UserID == userID {
			return m
		}
	}
	return nil
}

func (s *Server) teamMember(teamID, userID string) *mattermost.TeamMember {
	for i := range s.TeamMembers[teamID] {
		if m := &s.TeamMembers[teamID][i]; m.UserID == userID {
			return m
		}
	}
	return nil
}

func (s *Server) findTeam(id string) *mattermost.Team {
	for i := range s.Teams {
		if s.Teams[i].ID == id {
			return &s.Teams[i]
		}
	}
	return nil
}

func (s *Server) findChannel(id string) *mattermost.Channel {
	for i := range s.Channels {
		if s.Channels[i].ID == id {
			return &s.Channels[i]
		}
	}
	return nil
}

func isGuest(u mattermost.User) bool { return u.HasRole(mattermost.RoleSystemGuest) }

func writeOK(w http.ResponseWriter) { WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"}) }

// listTeamChannels serves a team's live channels of one type, ordered by display name.
func (s *Server) listTeamChannels(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.Mu.Lock()
		var out []mattermost.Channel
		for _, ch := range s.Channels {
			if ch.TeamID == r.PathValue("id") && ch.Type == typ && ch.DeleteAt == 0 {
				out = append(out, ch)
			}
		}
		s.Mu.Unlock()
		slices.SortStableFunc(out, func(a, b mattermost.Channel) int { return strings.Compare(a.DisplayName, b.DisplayName) })
		WriteJSON(w, http.StatusOK, PageOf(r, out))
	}
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if ch := s.findChannel(r.PathValue("id")); ch != nil {
		WriteJSON(w, http.StatusOK, ch)
		return
	}
	WriteError(w, http.StatusNotFound, "app.channel.get.existing.app_error", "Unable to find the existing channel.")
}

func (s *Server) channelMembersByIDs(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil || len(ids) == 0 {
		WriteError(w, http.StatusBadRequest, "api.context.invalid_param.app_error", "Invalid user_ids parameter.")
		return
	}
	s.Mu.Lock()
	out := []mattermost.ChannelMember{}
	for _, id := range ids {
		if m := s.channelMember(r.PathValue("id"), id); m != nil {
			out = append(out, *m)
		}
	}
	s.Mu.Unlock()
	WriteJSON(w, http.StatusOK, out)
}

func (s *Server) addChannelMember(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserID string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.UserID == "" {
		WriteError(w, http.StatusBadRequest, "api.context.invalid_param.app_error", "Invalid user_id parameter.")
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	ch := s.findChannel(r.PathValue("id"))
	if ch == nil {
		WriteError(w, http.StatusNotFound, "app.channel.get.existing.app_error", "Unable to find the existing channel.")
		return
	}
	if ch.Type != mattermost.ChannelTypeOpen && ch.Type != mattermost.ChannelTypePrivate {
		WriteError(w, http.StatusBadRequest, "api.channel.add_user_to_channel.type.app_error", "Can not add user to this channel type.")
		return
	}
	if m := s.channelMember(ch.ID, body.UserID); m != nil {
		WriteJSON(w, http.StatusCreated, m)
		return
	}
	u, ok := s.findUser(body.UserID)
	if !ok {
		WriteError(w, http.StatusNotFound, "app.user.missing_account.const", "Unable to find the user.")
		return
	}
	if ch.IsGroupConstrained() && !u.IsBot {
		WriteError(w, http.StatusBadRequest, mattermost.ErrChannelUserDenied, "The channel is restricted to group members.")
		return
	}
	if u.DeleteAt > 0 {
		WriteError(w, http.StatusForbidden, mattermost.ErrChannelDeletedUser, "The user is deactivated.")
		return
	}
	tm := s.teamMember(ch.TeamID, u.ID)
	if tm == nil {
		WriteError(w, http.StatusNotFound, mattermost.ErrChannelNotTeamMember, "Unable to find the team member.")
		return
	}
	if tm.DeleteAt > 0 {
		WriteError(w, http.StatusBadRequest, mattermost.ErrChannelLeftTeam, "Failed to add user to channel because they have been removed from the team.")
		return
	}
	s.putChannelMember(ch.ID, u.ID, false, isGuest(u))
	WriteJSON(w, http.StatusCreated, s.channelMember(ch.ID, u.ID))
}

func (s *Server) removeChannelMember(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	ch := s.findChannel(r.PathValue("id"))
	if ch == nil {
		WriteError(w, http.StatusNotFound, "app.channel.get.existing.app_error", "Unable to find the existing channel.")
		return
	}
	u, ok := s.findUser(r.PathValue("uid"))
	if !ok {
		WriteError(w, http.StatusNotFound, "app.user.missing_account.const", "Unable to find the user.")
		return
	}
	if ch.IsGroupConstrained() && !u.IsBot {
		WriteError(w, http.StatusBadRequest, mattermost.ErrChannelRemoveGroup, "The channel is group-constrained.")
		return
	}
	if ch.Name == mattermost.DefaultChannelName && !isGuest(u) {
		WriteError(w, http.StatusBadRequest, mattermost.ErrChannelRemoveDefault, "Unable to remove user from town-square.")
		return
	}
	s.deleteChannelMember(ch.ID, u.ID)
	writeOK(w)
}

func decodeSchemeRoles(w http.ResponseWriter, r *http.Request) (mattermost.SchemeRoles, bool) {
	var roles mattermost.SchemeRoles
	if err := json.NewDecoder(r.Body).Decode(&roles); err != nil {
		WriteError(w, http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid scheme roles.")
		return roles, false
	}
	return roles, true
}

func (s *Server) channelSchemeRoles(w http.ResponseWriter, r *http.Request) {
	roles, ok := decodeSchemeRoles(w, r)
	if !ok {
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	m := s.channelMember(r.PathValue("id"), r.PathValue("uid"))
	switch {
	case m == nil:
		WriteError(w, http.StatusNotFound, mattermost.ErrChannelMemberMissing, "No channel member found for that user ID and channel ID.")
	case m.SchemeGuest || roles.SchemeGuest:
		WriteError(w, http.StatusBadRequest, mattermost.ErrChannelRolesGuest, "Invalid or missing scheme roles: guests cannot be set.")
	case !roles.SchemeUser:
		WriteError(w, http.StatusBadRequest, "api.channel.update_channel_member_roles.unset_user_scheme.app_error", "Cannot unset the user scheme role.")
	default:
		m.SchemeAdmin, m.SchemeUser = roles.SchemeAdmin, true
		writeOK(w)
	}
}

// teamMembersByIDs answers with the active memberships of the given users.
func (s *Server) teamMembersByIDs(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil || len(ids) == 0 {
		WriteError(w, http.StatusBadRequest, "api.context.invalid_param.app_error", "Invalid user_ids parameter.")
		return
	}
	s.Mu.Lock()
	out := []mattermost.TeamMember{}
	for _, id := range ids {
		if m := s.teamMember(r.PathValue("id"), id); m != nil && m.DeleteAt == 0 {
			out = append(out, *m)
		}
	}
	s.Mu.Unlock()
	WriteJSON(w, http.StatusOK, out)
}

// addTeamMember adds (or re-activates) a membership, joins the team's
// town-square, and enforces MaxUsersPerTeam over active users.
func (s *Server) addTeamMember(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TeamID string `json:"team_id"`
		UserID string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.UserID == "" || body.TeamID != r.PathValue("id") {
		WriteError(w, http.StatusBadRequest, "api.context.invalid_param.app_error", "Invalid team_id or user_id parameter.")
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	team := s.findTeam(body.TeamID)
	if team == nil {
		WriteError(w, http.StatusNotFound, "app.team.get.find.app_error", "We couldn't find the existing team.")
		return
	}
	u, ok := s.findUser(body.UserID)
	if !ok {
		WriteError(w, http.StatusNotFound, "app.user.missing_account.const", "Unable to find the user.")
		return
	}
	if team.IsGroupConstrained() && !u.IsBot {
		WriteError(w, http.StatusBadRequest, mattermost.ErrTeamUserDenied, "This user is not a member of the team's groups.")
		return
	}
	m := s.teamMember(team.ID, u.ID)
	if m != nil && m.DeleteAt == 0 {
		WriteJSON(w, http.StatusCreated, m)
		return
	}
	if s.MaxUsersPerTeam > 0 && s.activeTeamMembers(team.ID) >= s.MaxUsersPerTeam {
		id := mattermost.ErrTeamSaveMaxAccounts
		if m != nil {
			id = mattermost.ErrTeamMaxAccounts
		}
		WriteError(w, http.StatusBadRequest, id, "This team has reached the maximum number of allowed accounts.")
		return
	}
	guest := isGuest(u)
	if m != nil {
		// A returning member starts over: the old admin flag is gone.
		*m = mattermost.TeamMember{TeamID: team.ID, UserID: u.ID, Roles: "team_user", SchemeUser: !guest, SchemeGuest: guest}
	} else {
		s.TeamMembers[team.ID] = append(s.TeamMembers[team.ID], mattermost.TeamMember{TeamID: team.ID, UserID: u.ID,
			Roles: "team_user", SchemeUser: !guest, SchemeGuest: guest})
	}
	for _, ch := range s.Channels {
		if ch.TeamID == team.ID && ch.Name == mattermost.DefaultChannelName && s.channelMember(ch.ID, u.ID) == nil {
			s.putChannelMember(ch.ID, u.ID, false, guest)
		}
	}
	WriteJSON(w, http.StatusCreated, s.teamMember(team.ID, u.ID))
}

func (s *Server) activeTeamMembers(teamID string) int {
	n := 0
	for _, m := range s.TeamMembers[teamID] {
		if u, ok := s.findUser(m.UserID); ok && m.DeleteAt == 0 && u.DeleteAt == 0 {
			n++
		}
	}
	return n
}

// removeTeamMember marks the membership left and, as Mattermost does, removes
// the user from every channel of the team.
func (s *Server) removeTeamMember(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	team := s.findTeam(r.PathValue("id"))
	if team == nil {
		WriteError(w, http.StatusNotFound, "app.team.get.find.app_error", "We couldn't find the existing team.")
		return
	}
	u, ok := s.findUser(r.PathValue("uid"))
	if !ok {
		WriteError(w, http.StatusNotFound, "app.user.missing_account.const", "Unable to find the user.")
		return
	}
	if team.IsGroupConstrained() && !u.IsBot {
		WriteError(w, http.StatusBadRequest, mattermost.ErrTeamRemoveGroup, "The team is group-constrained.")
		return
	}
	m := s.teamMember(team.ID, u.ID)
	if m == nil {
		WriteError(w, http.StatusBadRequest, mattermost.ErrTeamRemoveMissing, "The user is not a member of this team.")
		return
	}
	if m.DeleteAt == 0 {
		m.DeleteAt, m.Roles, m.SchemeAdmin = time.Now().UnixMilli(), "", false
		for _, ch := range s.Channels {
			if ch.TeamID == team.ID {
				s.deleteChannelMember(ch.ID, u.ID)
			}
		}
	}
	writeOK(w)
}

func (s *Server) teamSchemeRoles(w http.ResponseWriter, r *http.Request) {
	roles, ok := decodeSchemeRoles(w, r)
	if !ok {
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	m := s.teamMember(r.PathValue("id"), r.PathValue("uid"))
	switch {
	case m == nil || m.DeleteAt > 0:
		WriteError(w, http.StatusNotFound, "app.team.get_member.missing.app_error", "Unable to find the team member.")
	case m.SchemeGuest || roles.SchemeGuest:
		WriteError(w, http.StatusBadRequest, mattermost.ErrTeamRolesGuest, "Invalid or missing scheme roles: guests cannot be set.")
	case !roles.SchemeUser:
		WriteError(w, http.StatusBadRequest, mattermost.ErrTeamRolesUnsetUserRoles, "Cannot unset the user scheme role.")
	default:
		m.SchemeAdmin, m.SchemeUser = roles.SchemeAdmin, true
		writeOK(w)
	}
}

// userChannelsInTeam serves the user's live channels of a team plus, as
// Mattermost does, their direct and group messages (no team).
func (s *Server) userChannelsInTeam(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	out := []mattermost.Channel{}
	for _, ch := range s.Channels {
		if (ch.TeamID == r.PathValue("tid") || ch.TeamID == "") && ch.DeleteAt == 0 && s.channelMember(ch.ID, r.PathValue("uid")) != nil {
			out = append(out, ch)
		}
	}
	WriteJSON(w, http.StatusOK, out)
}
