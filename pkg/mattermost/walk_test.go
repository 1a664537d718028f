package mattermost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// channelFake is a fake with one channel "c1" whose members are user000..user{n-1}.
func channelFake(t *testing.T, n int) *mmfake.Server {
	fake := mmfake.New(t)
	fake.Teams = []mmfake.Team{{ID: "t1", Name: "t", DisplayName: "T"}}
	fake.AddChannel(mmfake.Channel{ID: "c1", TeamID: "t1", Type: mmfake.ChannelPrivate, Name: "c", DisplayName: "C"})
	for i := range n {
		addUser(fake, userName(i))
		fake.AddChannelMember("c1", userName(i), false, false)
	}
	return fake
}

func userName(i int) string { return fmt.Sprintf("user%04d", i) }

func addUser(fake *mmfake.Server, name string) {
	fake.Mu.Lock()
	defer fake.Mu.Unlock()
	fake.Users = append(fake.Users, mmfake.User{ID: name, Username: name, Roles: "system_user"})
}

// walkAll walks the channel's members to the end, calling between() before
// every request after the first, and returns how often each user was returned.
func walkAll(t *testing.T, fake *mmfake.Server, between func(request int)) map[string]int {
	t.Helper()
	requests := 0
	fake.Intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v4/users" && r.URL.Query().Get("in_channel") == "c1" {
			if requests > 0 {
				between(requests)
			}
			requests++
		}
		return false
	}
	defer func() { fake.Intercept = nil }()
	c := newClient(t, fake)
	seen := map[string]int{}
	cur := mattermost.Cursor{}
	for calls := 0; ; calls++ {
		if calls > 1000 {
			t.Fatal("walk does not end")
		}
		page, err := c.ListChannelUsers(context.Background(), "c1", cur)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Items {
			seen[u.ID]++
		}
		if page.Next == nil {
			return seen
		}
		cur = *page.Next
	}
}

func members(fake *mmfake.Server) map[string]bool {
	fake.Mu.Lock()
	defer fake.Mu.Unlock()
	out := map[string]bool{}
	for _, m := range fake.ChannelMembers["c1"] {
		out[m.UserID] = true
	}
	return out
}

func TestWalkWithoutChangesReadsEachMemberOnce(t *testing.T) {
	for _, n := range []int{0, 1, 199, 200, 201, 400, 1234} {
		fake := channelFake(t, n)
		seen := walkAll(t, fake, func(int) {})
		if len(seen) != n {
			t.Errorf("n=%d: got %d distinct members", n, len(seen))
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("n=%d: %s returned %d times", n, id, k)
			}
		}
	}
}

// Removing members before the cursor between two pages shifts the offsets:
// plain page/per_page paging then never returns the members at the page
// boundary. The overlapping walk must return every member that stayed.
func TestWalkSurvivesRemovalsBeforeTheCursor(t *testing.T) {
	fake := channelFake(t, 600)
	before := members(fake)
	seen := walkAll(t, fake, func(request int) {
		if request == 1 {
			// Ten members that were on the first page leave.
			for i := 10; i < 20; i++ {
				fake.RemoveChannelMember("c1", userName(i))
			}
		}
	})
	for id := range before {
		stayed := members(fake)[id]
		if stayed && seen[id] == 0 {
			t.Errorf("member %s was in the channel all along but was not returned", id)
		}
	}
	// The same change with plain offset paging loses users at the boundary.
	if missed := plainPagingMisses(t); missed == 0 {
		t.Fatal("expected plain offset paging to miss members; the test no longer shows the problem")
	}
}

// plainPagingMisses shows the failure the walk avoids: it pages with a fixed
// per_page and applies the same removal, and counts members never returned.
func plainPagingMisses(t *testing.T) int {
	fake := channelFake(t, 600)
	c := &http.Client{}
	got := map[string]bool{}
	for page := 0; ; page++ {
		if page == 1 {
			for i := 10; i < 20; i++ {
				fake.RemoveChannelMember("c1", userName(i))
			}
		}
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v4/users?in_channel=c1&page=%d&per_page=200", fake.URL, page), nil)
		req.Header.Set("Authorization", "Bearer "+mmfake.Token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var users []mmfake.User
		err = decodeJSON(resp, &users)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			got[u.ID] = true
		}
		if len(users) < 200 {
			break
		}
	}
	missed := 0
	for id := range members(fake) {
		if !got[id] {
			missed++
		}
	}
	return missed
}

// Random changes between every two requests: members leave, new members
// join anywhere in the order, whole runs of consecutive members (the walk's
// anchors among them) disappear, and former members come back. Whatever
// happens, every member present from start to end is returned, and nobody
// who never was a member.
func TestWalkIsExactUnderRandomChanges(t *testing.T) {
	for seed := uint64(1); seed <= 25; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 300 + rng.IntN(900)
		fake := channelFake(t, n)
		initial := members(fake)
		var names []string // every user ever created, in creation order
		for i := range n {
			names = append(names, userName(i))
		}
		everMember := maps.Clone(initial)
		left := map[string]bool{} // members that left at some time, even if they came back
		leave := func(id string) {
			left[id] = true
			fake.RemoveChannelMember("c1", id)
		}
		bulkAdds := 0
		seen := walkAll(t, fake, func(int) {
			cur := slices.Sorted(maps.Keys(members(fake)))
			for range rng.IntN(30) {
				leave(cur[rng.IntN(len(cur))])
			}
			if rng.IntN(3) == 0 { // a run of consecutive members leaves
				start := rng.IntN(len(cur))
				for _, id := range cur[start:min(start+8+rng.IntN(20), len(cur))] {
					leave(id)
				}
			}
			if bulkAdds < 2 && rng.IntN(10) == 0 { // a bulk add that sorts before the cursor
				bulkAdds++
				for range 250 {
					name := fmt.Sprintf("user0000-%d", len(names))
					addUser(fake, name)
					names = append(names, name)
					fake.AddChannelMember("c1", name, false, false)
					everMember[name] = true
				}
			}
			for range rng.IntN(30) {
				// A new user sorts right after a random existing one.
				name := fmt.Sprintf("%s-%d", names[rng.IntN(len(names))], len(names))
				addUser(fake, name)
				names = append(names, name)
				fake.AddChannelMember("c1", name, false, false)
				everMember[name] = true
			}
			now := members(fake)
			for range rng.IntN(5) {
				if name := names[rng.IntN(len(names))]; !now[name] {
					fake.AddChannelMember("c1", name, false, false)
					now[name] = true
					everMember[name] = true
				}
			}
		})
		for id := range initial {
			if !left[id] && seen[id] == 0 {
				t.Errorf("seed %d: %s was a member throughout but was not returned", seed, id)
			}
		}
		for id := range seen {
			if !everMember[id] {
				t.Errorf("seed %d: %s returned but never a member", seed, id)
			}
		}
	}
}

func decodeJSON(resp *http.Response, out any) error {
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		return fmt.Errorf("not JSON: %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// A list whose members are all replaced between every two requests can never
// be read consistently: the walk gives up after its restarts with a ListError
// (final, not retried), instead of paging forever.
func TestWalkOfAListThatNeverHoldsStillEnds(t *testing.T) {
	fake := channelFake(t, 400)
	generation := 0
	requests := 0
	fake.Intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v4/users" || r.URL.Query().Get("in_channel") != "c1" {
			return false
		}
		if requests++; requests > 1 {
			// Everyone seen so far leaves; 400 new members who sort first join.
			for id := range members(fake) {
				fake.RemoveChannelMember("c1", id)
			}
			generation++
			for i := range 400 {
				name := fmt.Sprintf("a%03d-%04d", generation, i)
				addUser(fake, name)
				fake.AddChannelMember("c1", name, false, false)
			}
		}
		return false
	}
	c := newClient(t, fake)
	cur := mattermost.Cursor{}
	for calls := 0; ; calls++ {
		if calls > 100 {
			t.Fatal("the walk does not end")
		}
		page, err := c.ListChannelUsers(context.Background(), "c1", cur)
		if err != nil {
			listErr := errorAs[*mattermost.ListError](t, err)
			if !strings.Contains(listErr.Reason, "changed too much") || !strings.Contains(err.Error(), "in_channel=c1") {
				t.Fatalf("error does not explain itself: %v", err)
			}
			// Six walks (the first and five restarts), each stepping back over a few windows.
			if requests > 150 {
				t.Errorf("%d requests before giving up", requests)
			}
			return
		}
		if page.Next == nil {
			t.Fatalf("the walk ended normally after %d requests on a list that never held still", requests)
		}
		cur = *page.Next
	}
}

// The server-wide private channel search is walked like the other ordered
// lists: every channel of every team (an archived team's too) once, also when
// channels before the walk's position are removed between its requests,
// which would make plain offset pages skip one; Total is the server's count.
func TestSearchPrivateChannelsWalksEveryChannelOnce(t *testing.T) {
	fake := mmfake.New(t)
	fake.Teams = []mmfake.Team{{ID: "t1", Name: "a", DisplayName: "A"}, {ID: "t2", Name: "b", DisplayName: "B", DeleteAt: 1}}
	for i := range 450 {
		fake.AddChannel(mmfake.Channel{ID: fmt.Sprintf("c%03d", i), TeamID: []string{"t1", "t2"}[i%2], Type: mmfake.ChannelPrivate,
			DisplayName: fmt.Sprintf("Channel %03d", i)})
	}
	fake.AddChannel(mmfake.Channel{ID: "gone", TeamID: "t1", Type: mmfake.ChannelPrivate, DisplayName: "Channel", DeleteAt: 1})
	var bodies []map[string]any
	fake.Intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v4/channels/search" {
			return false
		}
		var body map[string]any
		data, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(data))
		if err := json.Unmarshal(data, &body); err != nil {
			t.Errorf("search body %q: %v", data, err)
		}
		if len(bodies) > 0 { // a channel early in the order goes away between requests
			fake.Mu.Lock()
			fake.Channels = slices.Delete(fake.Channels, 0, 1)
			fake.Mu.Unlock()
		}
		bodies = append(bodies, body)
		return false
	}
	c := newClient(t, fake)
	seen := map[string]int{}
	total := 0
	for cur, calls := (mattermost.Cursor{}), 0; ; calls++ {
		if calls > 20 {
			t.Fatal("walk does not end")
		}
		page, err := c.SearchPrivateChannels(context.Background(), cur)
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range page.Items {
			seen[ch.ID]++
		}
		total = page.Total
		if page.Next == nil {
			break
		}
		cur = *page.Next
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("channel %s returned %d times", id, n)
		}
	}
	// The channels removed were the first ones in the order, one per request after the first.
	for i := len(bodies) - 1; i < 450; i++ {
		if id := fmt.Sprintf("c%03d", i); seen[id] != 1 {
			t.Errorf("channel %s, there for the whole walk, returned %d times", id, seen[id])
		}
	}
	if seen["gone"] != 0 || total != 450-(len(bodies)-1) {
		t.Errorf("archived channel returned %d times, total %d after %d requests", seen["gone"], total, len(bodies))
	}
	for _, b := range bodies {
		if b["term"] != "" || b["private"] != true || b["page"] == nil || b["per_page"] == nil {
			t.Errorf("search body %v, want an empty term, private, page and per_page", b)
		}
	}
}

// A server that ignores the page parameter of a walked list (the same
// window whatever is asked) ends the walk at its second call with a
// ListError, instead of handing out no new item forever.
func TestWalkOfARepeatedPageEnds(t *testing.T) {
	fake := channelFake(t, 450)
	requests := 0
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v4/users" || r.URL.Query().Get("in_channel") != "c1" {
			return false
		}
		requests++
		q := r.URL.Query()
		q.Set("page", "0")
		r.URL.RawQuery = q.Encode()
		return false // served as page 0, whatever was asked
	}
	c := newClient(t, fake)
	cur := mattermost.Cursor{}
	for calls := 0; ; calls++ {
		if calls > 10 {
			t.Fatal("the walk does not end")
		}
		page, err := c.ListChannelUsers(context.Background(), "c1", cur)
		if err != nil {
			listErr := errorAs[*mattermost.ListError](t, err)
			if !strings.Contains(listErr.Reason, "ignores the page parameter") || requests != 2 {
				t.Fatalf("after %d requests: %v", requests, err)
			}
			return
		}
		if page.Next == nil {
			t.Fatalf("the walk ended normally on a server that repeats its first page")
		}
		cur = *page.Next
	}
}
