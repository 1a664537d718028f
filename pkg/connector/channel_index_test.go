package connector

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

// seedManyTeams adds 40 live teams without private channels, and 450 private
// channels (with a member each) to team t1, to seedSmallOrg and seedChannels.
func seedManyTeams(fake *mmfake.Server) {
	for i := range 40 {
		fake.Teams = append(fake.Teams, mmfake.Team{ID: fmt.Sprintf("empty%02d", i), Name: fmt.Sprintf("empty-%d", i),
			DisplayName: fmt.Sprintf("Empty %d", i), Type: "O"})
	}
	for i := range 450 {
		id := fmt.Sprintf("p%03d", i)
		fake.AddChannel(mmfake.Channel{ID: id, TeamID: "t1000000000000000000000000", Type: "P", Name: id, DisplayName: fmt.Sprintf("Private %d", i%7)})
		fake.AddChannelMember(id, "alice000000000000000000000", i%3 == 0, false)
	}
}

func isTeamPrivateList(r string) bool {
	return strings.HasPrefix(r, "GET /api/v4/teams/") && strings.Contains(r, "/channels/private")
}

// Private channels come from the server-wide search, a few requests for the
// whole server however many teams it has, and the sync stores exactly what
// listing each team's private channels stores: every live private channel of
// a live team under its team, a team's many channels over several pages.
func TestPrivateChannelsFromOneSearch(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	seedChannels(fake)
	seedManyTeams(fake)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	searches := countRequests(fake, "POST /api/v4/channels/search")
	perTeam := len(slices.DeleteFunc(fake.Requests(), func(r string) bool { return !isTeamPrivateList(r) }))
	// 452 channels in windows of 100-200 that overlap by 8: 3 requests.
	if searches != 3 || perTeam != 0 {
		t.Errorf("%d searches and %d per-team private channel lists, want 3 and 0", searches, perTeam)
	}
	channels := res.ResourcesOfType("channel")
	if len(channels) != 452 || channels["deals000000000000000000000"] == nil || channels["backend0000000000000000000"] == nil || channels["p449"] == nil {
		t.Errorf("%d channels synced00000000000000000000, want the 450 of t1000000000000000000000000, backend0000000000000000000 and deals000000000000000000000", len(channels))
	}
	for id, ch := range channels {
		if want := map[bool]string{true: "t2000000000000000000000000", false: "t1000000000000000000000000"}[id == "deals000000000000000000000"]; ch.GetParentResourceId().GetResource() != want {
			t.Errorf("channel %s under %v, want team %s", id, ch.GetParentResourceId(), want)
		}
	}
	for _, gone := range []string{"runbooks000000000000000000", "oldp0000000000000000000000", "dm100000000000000000000000"} { // an archived team's, archived, a direct message
		if channels[gone] != nil {
			t.Errorf("channel %s synced00000000000000000000", gone)
		}
	}

	// The same sync with the search refused lists each team: the same result.
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v4/channels/search" {
			mmfake.WriteError(w, http.StatusForbidden, mmfake.IDPermissions, "You do not have the appropriate permissions.")
			return true
		}
		return false
	}
	perTeamRes, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync without the search: %v", err)
	}
	if diffs := synctest.Diff(perTeamRes, res); len(diffs) > 0 {
		t.Errorf("the sync from the search differs from the one listing each team:\n%s", strings.Join(diffs[:min(len(diffs), 10)], "\n"))
	}
	if n := len(slices.DeleteFunc(fake.Requests(), func(r string) bool { return !isTeamPrivateList(r) })); n < 42 {
		t.Errorf("%d per-team private channel lists without the search, want one or more for each of the 42 live teams", n)
	}
}

// listChannels calls the channel syncer's List for one team and sync until its last page.
func listChannels(t *testing.T, s *channelSyncer, syncID, teamID string) []string {
	t.Helper()
	var ids []string
	for tok := ""; ; {
		rs, res, err := s.list(context.Background(), teamID, resource.SyncOpAttrs{SyncID: syncID, PageToken: pagination.Token{Token: tok}})
		if err != nil {
			t.Fatalf("List(%s, %s): %v", syncID, teamID, err)
		}
		for _, r := range rs {
			ids = append(ids, r.GetId().GetResource())
		}
		if res == nil || res.NextPageToken == "" {
			return ids
		}
		tok = res.NextPageToken
	}
}

// The index belongs to one sync: the same sync is served from it (one search
// for all its teams), the next sync sees the server as it is then, and an
// index nobody used for idleAfter is dropped and walked again.
func TestPrivateChannelIndexIsPerSync(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	seedChannels(fake)
	client, err := mattermost.New(mattermost.Config{BaseURL: fake.URL, Token: mmfake.Token})
	if err != nil {
		t.Fatal(err)
	}
	s := newChannelSyncer(client, Options{})
	searches := func() int { return countRequests(fake, "POST /api/v4/channels/search") }
	if got := listChannels(t, s, "s1", "t1000000000000000000000000"); fmt.Sprint(got) != "[backend0000000000000000000]" {
		t.Errorf("sync s1, team t1000000000000000000000000: %v, want [backend0000000000000000000]", got)
	}
	fake.AddChannel(mmfake.Channel{ID: "ops", TeamID: "t1000000000000000000000000", Type: "P", Name: "ops", DisplayName: "Ops"})
	if got := listChannels(t, s, "s1", "t2000000000000000000000000"); fmt.Sprint(got) != "[deals000000000000000000000]" || searches() != 1 {
		t.Errorf("sync s1, team t2000000000000000000000000: %v after %d searches, want [deals000000000000000000000] after 1", got, searches())
	}
	if got := listChannels(t, s, "s2", "t1000000000000000000000000"); fmt.Sprint(got) != "[backend0000000000000000000 ops]" || searches() != 2 {
		t.Errorf("sync s2, team t1000000000000000000000000: %v after %d searches, want [backend0000000000000000000 ops] after 2", got, searches())
	}

	s.private.idleAfter = 50 * time.Millisecond
	listChannels(t, s, "s2", "t2000000000000000000000000") // restarts the timer with the short wait
	time.Sleep(300 * time.Millisecond)
	fake.AddChannel(mmfake.Channel{ID: "sre", TeamID: "t1000000000000000000000000", Type: "P", Name: "sre", DisplayName: "SRE"})
	if got := listChannels(t, s, "s2", "t1000000000000000000000000"); fmt.Sprint(got) != "[backend0000000000000000000 ops sre]" || searches() != 3 {
		t.Errorf("sync s2 after the index was idle: %v after %d searches, want [backend0000000000000000000 ops sre] after 3", got, searches())
	}
}

// A server with more private channels than the index holds has each team's
// listed one by one; one that does not page the search fails the sync after
// a bounded number of requests instead of walking forever.
func TestPrivateChannelIndexBounds(t *testing.T) {
	t.Run("too many", func(t *testing.T) {
		fake := mmfake.New(t)
		seedSmallOrg(fake)
		seedChannels(fake)
		fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/api/v4/channels/search" {
				mmfake.WriteJSON(w, http.StatusOK, map[string]any{"channels": []any{}, "total_count": maxIndexedChannels + 1})
				return true
			}
			return false
		}
		res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
		if err != nil {
			t.Fatalf("sync: %v", err)
		}
		if got := keys(res.ResourcesOfType("channel")); fmt.Sprint(got) != "[backend0000000000000000000 deals000000000000000000000]" {
			t.Errorf("channels %v, want [backend0000000000000000000 deals000000000000000000000] listed team by team", got)
		}
		if n := countRequests(fake, "POST /api/v4/channels/search"); n != 1 {
			t.Errorf("%d searches, want 1: the first page's total_count tells the index is too large", n)
		}
	})
	t.Run("no paging", func(t *testing.T) {
		fake := mmfake.New(t)
		seedSmallOrg(fake)
		page := make([]mmfake.Channel, 200)
		for i := range page {
			page[i] = mmfake.Channel{ID: fmt.Sprintf("c%03d", i), TeamID: "t1000000000000000000000000", Type: "P", DisplayName: fmt.Sprintf("C %03d", i)}
		}
		fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/api/v4/channels/search" { // the same page whatever is asked
				mmfake.WriteJSON(w, http.StatusOK, map[string]any{"channels": page, "total_count": 300})
				return true
			}
			return false
		}
		_, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
		if err == nil || !strings.Contains(err.Error(), "ignores the page parameter") {
			t.Fatalf("sync error %v, want the search that repeats its page", err)
		}
		if n := countRequests(fake, "POST /api/v4/channels/search"); n != 2 {
			t.Errorf("%d searches before giving up, want 2 (the second window repeats the first)", n)
		}
	})
}
