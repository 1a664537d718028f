//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
)

type serverChannel struct {
	ID               string `json:"id"`
	TeamID           string `json:"team_id"`
	Type             string `json:"type"`
	Name             string `json:"name"`
	DisplayName      string `json:"display_name"`
	DeleteAt         int64  `json:"delete_at"`
	GroupConstrained *bool  `json:"group_constrained"`
	Shared           *bool  `json:"shared"`
}

type serverChannelMember struct {
	UserID      string `json:"user_id"`
	SchemeAdmin bool   `json:"scheme_admin"`
}

// wantChannels is what the server says should be synced: the live channels
// (private, and public when asked) of live teams, with their members and admins.
type wantChannels struct {
	channels  map[string]serverChannel
	grants    map[string]bool
	admins    int
	archived  []serverChannel // archived channels of live teams: never synced
	orphans   []serverChannel // live channels of archived teams: never synced
	byTypeCnt map[string]int
}

func channelsFromServer(t *testing.T, public bool) wantChannels {
	a := adminAPI(t)
	w := wantChannels{channels: map[string]serverChannel{}, grants: map[string]bool{}, byTypeCnt: map[string]int{}}
	for _, team := range getAll[serverTeam](a, "/teams") {
		lists := []string{"/teams/" + team.ID + "/channels/private"}
		if public {
			lists = append(lists, "/teams/"+team.ID+"/channels")
		}
		var live []serverChannel
		for _, l := range lists {
			live = append(live, getAll[serverChannel](a, l)...)
		}
		if team.DeleteAt > 0 {
			w.orphans = append(w.orphans, live...)
			continue
		}
		w.archived = append(w.archived, getAll[serverChannel](a, "/teams/"+team.ID+"/channels/deleted")...)
		for _, ch := range live {
			w.channels[ch.ID] = ch
			w.byTypeCnt[ch.Type]++
			// The server's own member list: fine to page plainly here, nothing changes during the test.
			for _, m := range getAll[serverChannelMember](a, "/channels/"+ch.ID+"/members") {
				w.grants[fmt.Sprintf("channel:%s:member:user:%s", ch.ID, m.UserID)] = true
				if m.SchemeAdmin {
					w.admins++
					w.grants[fmt.Sprintf("channel:%s:admin:user:%s", ch.ID, m.UserID)] = true
				}
			}
		}
	}
	return w
}

func checkChannels(t *testing.T, res *synctest.Result, want wantChannels) {
	t.Helper()
	synced := res.ResourcesOfType("channel")
	for id, ch := range want.channels {
		r := synced[id]
		if r == nil {
			t.Errorf("channel %s (%s) not synced", ch.Name, ch.Type)
			continue
		}
		f := r.GetProfile().GetFields()
		wantType := map[string]string{"O": "public", "P": "private"}[ch.Type]
		if f["type"].GetStringValue() != wantType || f["team_id"].GetStringValue() != ch.TeamID || f["name"].GetStringValue() != ch.Name ||
			f["group_constrained"].GetBoolValue() != (ch.GroupConstrained != nil && *ch.GroupConstrained) ||
			f["shared"].GetBoolValue() != (ch.Shared != nil && *ch.Shared) {
			t.Errorf("channel %s profile %v, server %+v", ch.Name, f, ch)
		}
		if p := r.GetParentResourceId(); p.GetResourceType() != "team" || p.GetResource() != ch.TeamID {
			t.Errorf("channel %s parent %v, want team %s", ch.Name, p, ch.TeamID)
		}
		if r.GetDisplayName() != ch.DisplayName {
			t.Errorf("channel %s display name %q, want %q", ch.Name, r.GetDisplayName(), ch.DisplayName)
		}
	}
	for id := range synced {
		if _, ok := want.channels[id]; !ok {
			t.Errorf("channel %s synced but the server does not list it among the live channels to sync", id)
		}
	}
	for _, ch := range append(want.archived, want.orphans...) {
		if synced[ch.ID] != nil {
			t.Errorf("channel %s (archived, or of an archived team) synced", ch.Name)
		}
	}
	got := map[string]bool{}
	for id := range res.GrantIDs() {
		if strings.HasPrefix(id, "channel:") {
			got[id] = true
		}
	}
	if missing, extra := diffSets(want.grants, got); len(missing)+len(extra) > 0 {
		t.Errorf("channel grants differ from the server's members:\nmissing %v\nextra %v", missing, extra)
	}
	ents := 0
	for _, e := range res.Entitlements {
		if strings.HasPrefix(e.GetId(), "channel:") {
			ents++
		}
	}
	if ents != 2*len(want.channels) {
		t.Errorf("%d channel entitlements, want member and admin of %d channels", ents, len(want.channels))
	}
}

func TestPrivateChannelsMatchServer(t *testing.T) {
	dm := directMessage(t)
	res := syncResult(t, nil)
	want := channelsFromServer(t, false)
	if want.byTypeCnt["P"] == 0 || want.admins == 0 || len(want.archived) == 0 || len(want.orphans) == 0 {
		t.Fatalf("the seed lacks private channels, channel admins, archived channels or channels of archived teams: %+v", want.byTypeCnt)
	}
	checkChannels(t, res, want)
	if res.ResourcesOfType("channel")[dm] != nil {
		t.Error("a direct message channel was synced")
	}
}

func TestPublicChannelsOnRequest(t *testing.T) {
	res := syncResult(t, nil, "--sync-public-channels")
	want := channelsFromServer(t, true)
	if want.byTypeCnt["O"] == 0 || want.byTypeCnt["P"] == 0 {
		t.Fatalf("the seed lacks public or private channels: %v", want.byTypeCnt)
	}
	checkChannels(t, res, want)
}

// With archived teams included, their channels are still not synced.
func TestChannelsOfArchivedTeamsNeverSynced(t *testing.T) {
	res := syncResult(t, nil, "--include-archived-teams", "--sync-public-channels")
	want := channelsFromServer(t, true)
	checkChannels(t, res, want)
}

// directMessage makes sure a direct message channel exists and returns its id.
func directMessage(t *testing.T) string {
	var ch serverChannel
	a := adminAPI(t)
	ids := []string{userIDByName(t, "noah.patel"), userIDByName(t, "emma.rodriguez")}
	if code := a.do("POST", "/channels/direct", ids, &ch); code != 201 && code != 200 {
		t.Fatalf("creating a direct message: HTTP %d", code)
	}
	return ch.ID
}
