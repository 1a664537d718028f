package mmfake

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Channel listings and the team and channel membership endpoints, with the
// checks and error ids of Mattermost 11 (server/channels/api4/{team,channel}.go,
// server/channels/app/{team,channel}.go) that provisioning depends on. What
// the two kinds of membership share is served once, told apart by a membershipKind.

// Channel types (model.ChannelType) and the channel every team member is in.
const (
	ChannelOpen        = "O"
	ChannelPrivate     = "P"
	DefaultChannelName = "town-square"
)

// membershipKind is what the team and channel membership endpoints differ in.
type membershipKind struct {
	// name is "team" or "channel": the path's collection and the role names' prefix (team_user, channel_admin).
	name string
	// place reports whether the team or channel exists and whether group sync owns its membership.
	place func(s *Server, id string) (exists, groupConstrained bool)
	// member returns a user's row as served (nil when there is none), the
	// part the kinds share, and whether it is current (a team member who left
	// keeps a row that is not).
	member func(s *Server, placeID, userID string) (row any, m *Member, current bool)
	// leave removes the user's membership, with the kind's own rules, and answers.
	leave func(s *Server, w http.ResponseWriter, placeID string, u User)
	// notFound and memberMissing answer for a missing team or channel and a missing membership.
	notFound, memberMissing failure
	// The ids of a removal that group sync forbids, of a guest in a scheme
	// roles change, and of a change that would unset scheme_user.
	removeGroupConstrainedID, rolesGuestID, unsetUserSchemeID string
}

var teamMemberships = &membershipKind{name: "team", place: (*Server).teamPlace, member: (*Server).teamRow, leave: (*Server).leaveTeam,
	notFound:                 teamNotFound,
	memberMissing:            failure{http.StatusNotFound, IDTeamMemberMissing, "Unable to find the team member."},
	removeGroupConstrainedID: IDTeamRemoveGroupConstrained, rolesGuestID: IDTeamRolesGuest, unsetUserSchemeID: IDTeamRolesUnsetUser,
}

var channelMemberships = &membershipKind{name: "channel", place: (*Server).channelPlace, member: (*Server).channelRow, leave: (*Server).leaveChannel,
	notFound:                 channelNotFound,
	memberMissing:            failure{http.StatusNotFound, IDChannelMemberMissing, "No channel member found for that user ID and channel ID."},
	removeGroupConstrainedID: IDChannelRemoveGroupConstrained, rolesGuestID: IDChannelRolesGuest, unsetUserSchemeID: IDChannelRolesUnsetUser,
}

var (
	channelNotFound = failure{http.StatusNotFound, IDChannelNotFound, "Unable to find the existing channel."}
	badUserIDs      = failure{http.StatusBadRequest, IDInvalidParam, "Invalid user_ids parameter."}
)

func (s *Server) registerMembershipRoutes() {
	s.Mux.HandleFunc("GET /api/v4/teams/{id}/channels/private", s.listTeamChannels(ChannelPrivate))
	s.Mux.HandleFunc("GET /api/v4/teams/{id}/channels", s.listTeamChannels(ChannelOpen))
	s.Mux.HandleFunc("POST /api/v4/channels/search", s.searchAllChannels)
	s.Mux.HandleFunc("GET /api/v4/channels/{id}/members", s.listChannelMembers)
	s.Mux.HandleFunc("GET /api/v4/channels/{id}", s.getChannel)
	s.Mux.HandleFunc("GET /api/v4/users/{uid}/teams/{tid}/channels", s.userChannelsInTeam)
	s.Mux.HandleFunc("POST /api/v4/teams/{id}/members", s.addTeamMember)
	s.Mux.HandleFunc("POST /api/v4/channels/{id}/members", s.addChannelMember)
	for _, k := range []*membershipKind{teamMemberships, channelMemberships} {
		s.Mux.HandleFunc("POST /api/v4/"+k.name+"s/{id}/members/ids", s.membersByIDs(k))
		s.Mux.HandleFunc("DELETE /api/v4/"+k.name+"s/{id}/members/{uid}", s.removeMember(k))
		s.Mux.HandleFunc("PUT /api/v4/"+k.name+"s/{id}/members/{uid}/schemeRoles", s.updateSchemeRoles(k))
	}
}

// AddTeamMember records a team membership with the scheme flags Mattermost sets.
func (s *Server) AddTeamMember(teamID, userID string, admin, guest bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.TeamMembers[teamID] = append(s.TeamMembers[teamID], TeamMember{TeamID: teamID, Member: newMember("team", userID, admin, guest)})
}

// AddChannel records a channel.
func (s *Server) AddChannel(ch Channel) {
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

// TeamMember returns a copy of a user's membership row of a team (also a left one), or nil.
func (s *Server) TeamMember(teamID, userID string) *TeamMember {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return copyOf(s.teamMember(teamID, userID))
}

// ChannelMember returns a copy of a user's membership of a channel, or nil.
func (s *Server) ChannelMember(channelID, userID string) *ChannelMember {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return copyOf(s.channelMember(channelID, userID))
}

// copyOf returns a copy of *p, or nil: what the fake hands out must not alias its data.
func copyOf[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// newMember is a membership with the scheme flags and role names Mattermost
// gives a member of the kind ("team" or "channel").
func newMember(kind, userID string, admin, guest bool) Member {
	roles := kind + "_user"
	if guest {
		roles = kind + "_guest"
	}
	if admin {
		roles += " " + kind + "_admin"
	}
	return Member{UserID: userID, Roles: roles, SchemeUser: !guest, SchemeGuest: guest, SchemeAdmin: admin}
}

// The helpers below expect s.Mu to be held.

func (s *Server) putChannelMember(channelID, userID string, admin, guest bool) {
	s.ChannelMembers[channelID] = append(s.ChannelMembers[channelID],
		ChannelMember{ChannelID: channelID, Member: newMember("channel", userID, admin, guest)})
}

func (s *Server) deleteChannelMember(channelID, userID string) {
	s.ChannelMembers[channelID] = slices.DeleteFunc(s.ChannelMembers[channelID],
		func(m ChannelMember) bool { return m.UserID == userID })
}

// channelPlace and channelRow are channelMemberships' place and member.
func (s *Server) channelPlace(id string) (bool, bool) {
	ch := s.findChannel(id)
	return ch != nil, ch != nil && isTrue(ch.GroupConstrained)
}

func (s *Server) channelRow(channelID, userID string) (any, *Member, bool) {
	if m := s.channelMember(channelID, userID); m != nil {
		return m, &m.Member, true
	}
	return nil, nil, false
}

func (s *Server) channelMember(channelID, userID string) *ChannelMember {
	return find(s.ChannelMembers[channelID], func(m *ChannelMember) bool { return m.UserID == userID })
}

func (s *Server) teamMember(teamID, userID string) *TeamMember {
	return find(s.TeamMembers[teamID], func(m *TeamMember) bool { return m.UserID == userID })
}

func (s *Server) findTeam(id string) *Team {
	return find(s.Teams, func(t *Team) bool { return t.ID == id })
}

func (s *Server) findChannel(id string) *Channel {
	return find(s.Channels, func(ch *Channel) bool { return ch.ID == id })
}

// find returns the first item that matches, in place, or nil.
func find[T any](items []T, match func(*T) bool) *T {
	for i := range items {
		if match(&items[i]) {
			return &items[i]
		}
	}
	return nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// target finds the team or channel and the user a membership request names,
// answering as Mattermost does when either is missing or when group sync owns
// the membership (denied) and the user is not a bot.
func (s *Server) target(w http.ResponseWriter, k *membershipKind, placeID, userID string, denied failure) (User, bool) {
	exists, groupConstrained := k.place(s, placeID)
	if !exists {
		k.notFound.write(w)
		return User{}, false
	}
	return s.memberUser(w, userID, groupConstrained, denied)
}

// memberUser finds the user a membership request names and, as Mattermost
// does, refuses anyone but a bot when group sync owns the membership.
func (s *Server) memberUser(w http.ResponseWriter, userID string, groupConstrained bool, denied failure) (User, bool) {
	u, ok := s.findUser(userID)
	if !ok {
		missingAccount.write(w)
		return u, false
	}
	if groupConstrained && !u.IsBot {
		denied.write(w)
		return u, false
	}
	return u, true
}

func writeOK(w http.ResponseWriter) { WriteJSON(w, http.StatusOK, map[string]string{"status": "OK"}) }

// listTeamChannels serves a team's live channels of one type, ordered by display name.
func (s *Server) listTeamChannels(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.Mu.Lock()
		var out []Channel
		for _, ch := range s.Channels {
			if ch.TeamID == r.PathValue("id") && ch.Type == typ && ch.DeleteAt == 0 {
				out = append(out, ch)
			}
		}
		s.Mu.Unlock()
		servePageSorted(w, r, out, func(ch Channel) string { return ch.DisplayName })
	}
}

// searchAllChannels serves POST /channels/search as a System Admin asks it
// (api4 searchAllChannels, SqlChannelStore.channelSearchQuery) for private
// channels without a term: the live private channels of every team, archived
// teams' included, each with its team's names, ordered by display name, then
// team display name. With page and per_page (not clamped) the answer is
// {"channels": [...], "total_count": N}; without, a bare list of at most 100.
func (s *Server) searchAllChannels(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Term    string `json:"term"`
		Private bool   `json:"private"`
		Page    *int   `json:"page"`
		PerPage *int   `json:"per_page"`
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		WriteError(w, http.StatusBadRequest, IDInvalidParam, "Invalid or missing channel_search in request body.")
		return
	}
	if q.Term != "" || !q.Private {
		WriteError(w, http.StatusBadRequest, "fake.unsupported", "the fake searches private channels without a term only")
		return
	}
	type row struct {
		Channel
		TeamDisplayName string `json:"team_display_name"`
		TeamName        string `json:"team_name"`
	}
	s.Mu.Lock()
	me, _ := s.findUser(s.MeID)
	var rows []row
	for _, ch := range s.Channels {
		if t := s.findTeam(ch.TeamID); t != nil && ch.Type == ChannelPrivate && ch.DeleteAt == 0 {
			rows = append(rows, row{Channel: ch, TeamDisplayName: t.DisplayName, TeamName: t.Name})
		}
	}
	s.Mu.Unlock()
	if !slices.Contains(strings.Fields(me.Roles), roleSystemAdmin) {
		WriteError(w, http.StatusForbidden, IDPermissions, "You do not have the appropriate permissions.")
		return
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		return cmp.Or(strings.Compare(a.DisplayName, b.DisplayName), strings.Compare(a.TeamDisplayName, b.TeamDisplayName))
	})
	if q.Page == nil || q.PerPage == nil {
		WriteJSON(w, http.StatusOK, orEmpty(rows[:min(100, len(rows))]))
		return
	}
	start := min(max(*q.Page**q.PerPage, 0), len(rows))
	end := min(start+max(*q.PerPage, 0), len(rows))
	WriteJSON(w, http.StatusOK, map[string]any{"channels": orEmpty(rows[start:end]), "total_count": len(rows)})
}

// listChannelMembers serves a channel's memberships a page at a time, in the
// order they were added: the server's query has no ORDER BY.
func (s *Server) listChannelMembers(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.findChannel(r.PathValue("id")) == nil {
		channelNotFound.write(w)
		return
	}
	WriteJSON(w, http.StatusOK, PageOf(r, s.ChannelMembers[r.PathValue("id")]))
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	serveFound(w, s.findChannel(r.PathValue("id")), channelNotFound)
}

// membersByIDs answers with the current memberships of the given users.
func (s *Server) membersByIDs(k *membershipKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ids, ok := decodeBody(w, r, badUserIDs, func(ids []string) bool { return len(ids) > 0 })
		if !ok {
			return
		}
		s.Mu.Lock()
		defer s.Mu.Unlock()
		WriteJSON(w, http.StatusOK, pick(ids, func(id string) (any, bool) {
			row, _, current := k.member(s, r.PathValue("id"), id)
			return row, row != nil && current
		}))
	}
}

// updateSchemeRoles sets a current member's scheme_admin; guests and unsetting scheme_user are refused.
func (s *Server) updateSchemeRoles(k *membershipKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		roles, ok := decodeBody[schemeRoles](w, r, failure{http.StatusBadRequest, IDInvalidBodyParam, "Invalid scheme roles."}, nil)
		if !ok {
			return
		}
		s.Mu.Lock()
		defer s.Mu.Unlock()
		_, m, current := k.member(s, r.PathValue("id"), r.PathValue("uid"))
		switch {
		case m == nil || !current:
			k.memberMissing.write(w)
		case m.SchemeGuest || roles.SchemeGuest:
			WriteError(w, http.StatusBadRequest, k.rolesGuestID, "Invalid or missing scheme roles: guests cannot be set.")
		case !roles.SchemeUser:
			WriteError(w, http.StatusBadRequest, k.unsetUserSchemeID, "Cannot unset the user scheme role.")
		default:
			m.SchemeAdmin, m.SchemeUser = roles.SchemeAdmin, true
			writeOK(w)
		}
	}
}

func (s *Server) addChannelMember(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserID string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.UserID == "" {
		WriteError(w, http.StatusBadRequest, IDInvalidParam, "Invalid user_id parameter.")
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	ch := s.findChannel(r.PathValue("id"))
	if ch == nil {
		channelNotFound.write(w)
		return
	}
	if ch.Type != ChannelOpen && ch.Type != ChannelPrivate {
		WriteError(w, http.StatusBadRequest, IDChannelAddType, "Can not add user to this channel type.")
		return
	}
	if m := s.channelMember(ch.ID, body.UserID); m != nil {
		WriteJSON(w, http.StatusCreated, m)
		return
	}
	u, ok := s.memberUser(w, body.UserID, isTrue(ch.GroupConstrained),
		failure{http.StatusBadRequest, IDChannelUserDenied, "The channel is restricted to group members."})
	if !ok {
		return
	}
	if u.DeleteAt > 0 {
		WriteError(w, http.StatusForbidden, IDChannelDeletedUser, "The user is deactivated.")
		return
	}
	tm := s.teamMember(ch.TeamID, u.ID)
	if tm == nil {
		WriteError(w, http.StatusNotFound, IDTeamMemberMissing, "Unable to find the team member.")
		return
	}
	if tm.DeleteAt > 0 {
		WriteError(w, http.StatusBadRequest, IDChannelLeftTeam, "Failed to add user to channel because they have been removed from the team.")
		return
	}
	s.putChannelMember(ch.ID, u.ID, false, u.isGuest())
	WriteJSON(w, http.StatusCreated, s.channelMember(ch.ID, u.ID))
}

// removeMember is DELETE .../members/{uid} of a team or channel.
func (s *Server) removeMember(k *membershipKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.Mu.Lock()
		defer s.Mu.Unlock()
		denied := failure{http.StatusBadRequest, k.removeGroupConstrainedID, "The " + k.name + " is group-constrained."}
		if u, ok := s.target(w, k, r.PathValue("id"), r.PathValue("uid"), denied); ok {
			k.leave(s, w, r.PathValue("id"), u)
		}
	}
}

// leaveChannel deletes the membership; no one but a guest leaves town-square.
func (s *Server) leaveChannel(w http.ResponseWriter, channelID string, u User) {
	if s.findChannel(channelID).Name == DefaultChannelName && !u.isGuest() {
		WriteError(w, http.StatusBadRequest, IDChannelRemoveDefault, "Unable to remove user from town-square.")
		return
	}
	s.deleteChannelMember(channelID, u.ID)
	writeOK(w)
}

// addTeamMember adds (or re-activates) a membership, joins the team's
// town-square, and enforces MaxUsersPerTeam over active users.
func (s *Server) addTeamMember(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TeamID string `json:"team_id"`
		UserID string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.UserID == "" || body.TeamID != r.PathValue("id") {
		WriteError(w, http.StatusBadRequest, IDInvalidParam, "Invalid team_id or user_id parameter.")
		return
	}
	s.Mu.Lock()
	defer s.Mu.Unlock()
	u, ok := s.target(w, teamMemberships, body.TeamID, body.UserID,
		failure{http.StatusBadRequest, IDTeamUserDenied, "This user is not a member of the team's groups."})
	if !ok {
		return
	}
	team := s.findTeam(body.TeamID)
	m := s.teamMember(team.ID, u.ID)
	if m != nil && m.DeleteAt == 0 {
		WriteJSON(w, http.StatusCreated, m)
		return
	}
	if s.MaxUsersPerTeam > 0 && s.activeTeamMembers(team.ID) >= s.MaxUsersPerTeam {
		id := IDTeamSaveMaxAccounts
		if m != nil {
			id = IDTeamMaxAccounts
		}
		WriteError(w, http.StatusBadRequest, id, "This team has reached the maximum number of allowed accounts.")
		return
	}
	// A returning member starts over: the old admin flag is gone.
	joined := TeamMember{TeamID: team.ID, Member: newMember("team", u.ID, false, u.isGuest())}
	if m != nil {
		*m = joined
	} else {
		s.TeamMembers[team.ID] = append(s.TeamMembers[team.ID], joined)
	}
	for _, ch := range s.Channels {
		if ch.TeamID == team.ID && ch.Name == DefaultChannelName && s.channelMember(ch.ID, u.ID) == nil {
			s.putChannelMember(ch.ID, u.ID, false, u.isGuest())
		}
	}
	WriteJSON(w, http.StatusCreated, s.teamMember(team.ID, u.ID))
}

// teamPlace and teamRow are teamMemberships' place and member.
func (s *Server) teamPlace(id string) (bool, bool) {
	t := s.findTeam(id)
	return t != nil, t != nil && isTrue(t.GroupConstrained)
}

func (s *Server) teamRow(teamID, userID string) (any, *Member, bool) {
	if m := s.teamMember(teamID, userID); m != nil {
		return m, &m.Member, m.DeleteAt == 0
	}
	return nil, nil, false
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

// leaveTeam marks the membership left and, as Mattermost does, removes the
// user from every channel of the team.
func (s *Server) leaveTeam(w http.ResponseWriter, teamID string, u User) {
	m := s.teamMember(teamID, u.ID)
	if m == nil {
		WriteError(w, http.StatusBadRequest, IDTeamRemoveMissing, "The user is not a member of this team.")
		return
	}
	if m.DeleteAt == 0 {
		m.DeleteAt, m.Roles, m.SchemeAdmin = time.Now().UnixMilli(), "", false
		for _, ch := range s.Channels {
			if ch.TeamID == teamID {
				s.deleteChannelMember(ch.ID, u.ID)
			}
		}
	}
	writeOK(w)
}

// userChannelsInTeam serves the user's live channels of a team plus, as
// Mattermost does, their direct and group messages (no team).
func (s *Server) userChannelsInTeam(w http.ResponseWriter, r *http.Request) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	out := []Channel{}
	for _, ch := range s.Channels {
		if (ch.TeamID == r.PathValue("tid") || ch.TeamID == "") && ch.DeleteAt == 0 && s.channelMember(ch.ID, r.PathValue("uid")) != nil {
			out = append(out, ch)
		}
	}
	WriteJSON(w, http.StatusOK, out)
}
