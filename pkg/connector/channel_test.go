package connector

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

func boolPtr(b bool) *bool { return &b }

// seedChannels adds channels of every kind to seedSmallOrg's teams.
func seedChannels(fake *mmfake.Server) {
	for _, ch := range []mmfake.Channel{
		{ID: "town1000000000000000000000", TeamID: "t1000000000000000000000000", Type: "O", Name: "town-square", DisplayName: "Town Square"},
		{ID: "random10000000000000000000", TeamID: "t1000000000000000000000000", Type: "O", Name: "random", DisplayName: "Random"},
		{ID: "backend0000000000000000000", TeamID: "t1000000000000000000000000", Type: "P", Name: "backend", DisplayName: "Backend", Purpose: "APIs",
			GroupConstrained: boolPtr(false), Shared: boolPtr(true)},
		{ID: "oldp0000000000000000000000", TeamID: "t1000000000000000000000000", Type: "P", Name: "old-private", DisplayName: "Old Private", DeleteAt: 1_700_000_000_000},
		{ID: "deals000000000000000000000", TeamID: "t2000000000000000000000000", Type: "P", Name: "deals", DisplayName: "Deals"},
		{ID: "runbooks000000000000000000", TeamID: "t3000000000000000000000000", Type: "P", Name: "runbooks", DisplayName: "Runbooks"},
		{ID: "dm100000000000000000000000", TeamID: "", Type: "D", Name: "alice__bob", DisplayName: ""},
	} {
		fake.AddChannel(ch)
	}
	fake.AddChannelMember("town1000000000000000000000", "alice000000000000000000000", false, false)
	fake.AddChannelMember("town1000000000000000000000", "bob00000000000000000000000", false, false)
	fake.AddChannelMember("town1000000000000000000000", "gina0000000000000000000000", false, true)
	fake.AddChannelMember("random10000000000000000000", "alice000000000000000000000", true, false)
	fake.AddChannelMember("backend0000000000000000000", "alice000000000000000000000", true, false)
	fake.AddChannelMember("backend0000000000000000000", "bob00000000000000000000000", false, false)
	fake.AddChannelMember("backend0000000000000000000", "gina0000000000000000000000", false, true)
	fake.AddChannelMember("oldp0000000000000000000000", "alice000000000000000000000", false, false)
	fake.AddChannelMember("deals000000000000000000000", "robot000000000000000000000", false, false)
	fake.AddChannelMember("runbooks000000000000000000", "alice000000000000000000000", false, false)
	fake.AddChannelMember("dm100000000000000000000000", "alice000000000000000000000", false, false)
	fake.AddChannelMember("dm100000000000000000000000", "bob00000000000000000000000", false, false)
}

func grantsWithPrefix(res *synctest.Result, prefix string) []string {
	var out []string
	for id := range res.GrantIDs() {
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	return keysOf(out)
}

func keysOf(ids []string) []string {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return keys(m)
}

func TestSyncPrivateChannelsByDefault(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	seedChannels(fake)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{IncludeArchivedTeams: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	channels := res.ResourcesOfType("channel")
	if got := keys(channels); fmt.Sprint(got) != "[backend0000000000000000000 deals000000000000000000000]" {
		t.Fatalf("channels = %v, want only the live private channels of live teams [backend0000000000000000000 deals000000000000000000000]", got)
	}
	backend := channels["backend0000000000000000000"]
	if got := backend.GetParentResourceId(); got.GetResourceType() != "team" || got.GetResource() != "t1000000000000000000000000" {
		t.Errorf("backend0000000000000000000 parent = %v, want team t1000000000000000000000000", got)
	}
	profile := backend.GetProfile().GetFields()
	for k, want := range map[string]any{"type": "private", "team_id": "t1000000000000000000000000", "name": "backend", "shared": true, "group_constrained": false} {
		if got := profile[k].AsInterface(); got != want {
			t.Errorf("backend0000000000000000000 profile %s = %v, want %v", k, got, want)
		}
	}
	if backend.GetDescription() != "APIs" || backend.GetDisplayName() != "Backend" {
		t.Errorf("backend0000000000000000000 description/display name = %q/%q", backend.GetDescription(), backend.GetDisplayName())
	}
	if _, err := resource.GetGroupTrait(backend); err != nil {
		t.Errorf("channel has no group trait: %v", err)
	}

	want := []string{
		"channel:backend0000000000000000000:admin:user:alice000000000000000000000", "channel:backend0000000000000000000:member:user:alice000000000000000000000",
		"channel:backend0000000000000000000:member:user:bob00000000000000000000000", "channel:backend0000000000000000000:member:user:gina0000000000000000000000",
		"channel:deals000000000000000000000:member:user:robot000000000000000000000",
	}
	if got := grantsWithPrefix(res, "channel:"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("channel grants:\n got %v\nwant %v", got, want)
	}
	for _, g := range res.Grants {
		if g.GetId() != "channel:backend0000000000000000000:member:user:gina0000000000000000000000" {
			continue
		}
		md := &v2.GrantMetadata{}
		annos := annotations.Annotations(g.GetAnnotations())
		if ok, _ := annos.Pick(md); !ok || !md.GetMetadata().GetFields()["guest"].GetBoolValue() {
			t.Errorf("gina's channel grant lacks guest metadata")
		}
	}
	var channelEnts []string
	for _, e := range res.Entitlements {
		if strings.HasPrefix(e.GetId(), "channel:") {
			channelEnts = append(channelEnts, e.GetId())
		}
	}
	if got := keysOf(channelEnts); fmt.Sprint(got) != "[channel:backend0000000000000000000:admin channel:backend0000000000000000000:member "+
		"channel:deals000000000000000000000:admin channel:deals000000000000000000000:member]" {
		t.Errorf("channel entitlements = %v", got)
	}
}

func TestSyncPublicChannelsWhenAsked(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	seedChannels(fake)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SyncPublicChannels: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	channels := res.ResourcesOfType("channel")
	if got := keys(channels); fmt.Sprint(got) != "[backend0000000000000000000 deals000000000000000000000 random10000000000000000000 town1000000000000000000000]" {
		t.Fatalf("channels = %v", got)
	}
	if got := channels["town1000000000000000000000"].GetProfile().GetFields()["type"].GetStringValue(); got != "public" {
		t.Errorf("town1000000000000000000000 type = %q", got)
	}
	want := []string{"channel:random10000000000000000000:admin:user:alice000000000000000000000", "channel:random10000000000000000000:member:user:alice000000000000000000000",
		"channel:town1000000000000000000000:member:user:alice000000000000000000000", "channel:town1000000000000000000000:member:user:bob00000000000000000000000",
		"channel:town1000000000000000000000:member:user:gina0000000000000000000000"}
	got := append(grantsWithPrefix(res, "channel:random10000000000000000000:"), grantsWithPrefix(res, "channel:town1000000000000000000000:")...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("public channel grants:\n got %v\nwant %v", got, want)
	}
}

func TestChannelListWithoutParentIsEmpty(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	seedChannels(fake)
	s := newChannelSyncer(newTestConnector(t, fake, Options{SyncPublicChannels: true}).client, Options{SyncPublicChannels: true})
	rs, res, err := s.List(context.Background(), nil, resource.SyncOpAttrs{})
	if err != nil || len(rs) != 0 || (res != nil && res.NextPageToken != "") {
		t.Fatalf("List(nil) = %d resources, %v, %v; want nothing", len(rs), res, err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("List(nil) made %d requests", n)
	}
}

// The channel's membership changes while the sync pages through it: members
// before the cursor leave (which shifts plain offset pages and would lose
// the members at the page boundary) and new ones join. Every member who
// stayed must get a grant, nobody who never was a member may.
func TestChannelGrantsExactWhileMembersChangeBetweenPages(t *testing.T) {
	fake := mmfake.New(t)
	fake.Teams = []mmfake.Team{{ID: "t1000000000000000000000000", Name: "eng", DisplayName: "Engineering"}}
	fake.AddChannel(mmfake.Channel{ID: "big00000000000000000000000", TeamID: "t1000000000000000000000000", Type: "P", Name: "big", DisplayName: "Big"})
	name := func(i int) string { return fmt.Sprintf("u%04d", i) }
	for i := range 650 {
		fake.Users = append(fake.Users, mmfake.User{ID: name(i), Username: name(i), Roles: "system_user"})
		fake.AddTeamMember("t1000000000000000000000000", name(i), false, false)
		fake.AddChannelMember("big00000000000000000000000", name(i), i%100 == 0, false)
	}
	removed := map[string]bool{}
	pages := 0
	fake.Intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v4/users" || r.URL.Query().Get("in_channel") != "big00000000000000000000000" {
			return false
		}
		pages++
		switch pages {
		case 2: // members of the first page leave
			for i := 50; i < 70; i++ {
				fake.RemoveChannelMember("big00000000000000000000000", name(i))
				removed[name(i)] = true
			}
		case 3: // others join before and after the cursor
			for _, n := range []string{"u0001a", "u0500a", "zz"} {
				fake.Mu.Lock()
				fake.Users = append(fake.Users, mmfake.User{ID: n, Username: n, Roles: "system_user"})
				fake.Mu.Unlock()
				fake.AddChannelMember("big00000000000000000000000", n, false, false)
			}
		}
		return false
	}
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if pages < 4 {
		t.Fatalf("only %d member pages were read; the test needs several", pages)
	}
	got := res.GrantIDs()
	for i := range 650 {
		id := "channel:big00000000000000000000000:member:user:" + name(i)
		if !removed[name(i)] && !got[id] {
			t.Errorf("%s stayed in the channel but has no grant", name(i))
		}
		if admin := "channel:big00000000000000000000000:admin:user:" + name(i); (i%100 == 0) != got[admin] {
			t.Errorf("admin grant of %s = %v, want %v", name(i), got[admin], i%100 == 0)
		}
	}
	if !got["channel:big00000000000000000000000:member:user:zz"] {
		t.Error("zz joined after the cursor and should have been read")
	}
	for id := range got {
		u := id[strings.LastIndexByte(id, ':')+1:]
		if strings.HasPrefix(id, "channel:big00000000000000000000000:") && !strings.HasPrefix(u, "u") && u != "zz" {
			t.Errorf("unexpected grant %s", id)
		}
	}
}

// A group-constrained channel's members come from its linked groups: the
// channel's grants name the group, and the SDK expands them to its members.
func TestGroupConstrainedChannelGrantsItsGroups(t *testing.T) {
	fake := mmfake.New(t)
	seedGroups(fake)
	fake.AddChannel(mmfake.Channel{ID: "gch00000000000000000000000", TeamID: "t2000000000000000000000000", Type: "P", Name: "synced", DisplayName: "Synced", GroupConstrained: boolPtr(true)})
	fake.AddChannel(mmfake.Channel{ID: "plain000000000000000000000", TeamID: "t2000000000000000000000000", Type: "P", Name: "plain", DisplayName: "Plain"})
	fake.AddChannelMember("gch00000000000000000000000", "carol000000000000000000000", false, false)
	fake.AddChannelMember("plain000000000000000000000", "carol000000000000000000000", false, false)
	fake.ChannelGroups["gch00000000000000000000000"] = []mmfake.GroupLink{{GroupID: "gsales00000000000000000000", SchemeAdmin: true}}
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	got := res.GrantIDs()
	for _, id := range []string{"channel:gch00000000000000000000000:member:group:gsales00000000000000000000", "channel:gch00000000000000000000000:admin:group:gsales00000000000000000000",
		"channel:gch00000000000000000000000:member:user:carol000000000000000000000", "channel:gch00000000000000000000000:member:user:bob00000000000000000000000",
		"channel:gch00000000000000000000000:admin:user:bob00000000000000000000000"} {
		if !got[id] {
			t.Errorf("grant %s missing", id)
		}
	}
	if n := countRequests(fake, "GET /api/v4/channels/gch00000000000000000000000/groups"); n != 1 {
		t.Errorf("GET /channels/gch00000000000000000000000/groups: %d requests, want 1", n)
	}
	if n := countRequests(fake, "GET /api/v4/channels/plain000000000000000000000/groups"); n != 0 {
		t.Errorf("GET /channels/plain000000000000000000000/groups: %d requests, want 0 (not group-constrained)", n)
	}
}

// A channel of fewer than 200 members is read in one request, a larger one
// walked in windows (the first request, a full page, tells which).
func TestSmallChannelsTakeOneRequest(t *testing.T) {
	for _, n := range []int{3, 199, 200} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			fake := mmfake.New(t)
			fake.Teams = []mmfake.Team{{ID: "t1", Name: "eng", DisplayName: "Engineering"}}
			fake.AddChannel(mmfake.Channel{ID: "c1", TeamID: "t1", Type: "P", Name: "c", DisplayName: "C"})
			for i := range n {
				id := fmt.Sprintf("u%03d", i)
				fake.Users = append(fake.Users, mmfake.User{ID: id, Username: id, Roles: "system_user"})
				fake.AddChannelMember("c1", id, i == 1, i == 2)
			}
			res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			got := res.GrantIDs()
			if members := grantsWithPrefix(res, "channel:c1:member:"); len(members) != n ||
				!got["channel:c1:admin:user:u001"] || len(grantsWithPrefix(res, "channel:c1:admin:")) != 1 {
				t.Errorf("%d member grants and admin grants %v, want %d and u001 only", len(members), grantsWithPrefix(res, "channel:c1:admin:"), n)
			}
			var requests []string
			for _, r := range fake.Requests() {
				if strings.Contains(r, "/channels/c1/members") || strings.Contains(r, "in_channel=c1") {
					requests = append(requests, r)
				}
			}
			want := []string{"GET /api/v4/channels/c1/members?page=0&per_page=200"}
			if n >= 200 { // then the walk: a window of users and their memberships
				want = append(want, "GET /api/v4/users?in_channel=c1&page=0&per_page=200", "POST /api/v4/channels/c1/members/ids")
			}
			if fmt.Sprint(requests[:min(len(requests), len(want))]) != fmt.Sprint(want) || n < 200 && len(requests) != 1 {
				t.Errorf("requests %v, want %v first", requests, want)
			}
		})
	}
}
