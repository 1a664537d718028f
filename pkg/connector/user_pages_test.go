package connector

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// userPagesFake is a fake with 5 full /users pages and a short sixth, and
// user pages reading it with last logins.
func userPagesFake(t *testing.T) (*mmfake.Server, *userPages) {
	t.Helper()
	fake := mmfake.New(t)
	seedManyUsers(fake, 5*mattermost.PerPage+6) // with the admin: 5 full pages and 7 users on page 5
	client, err := mattermost.New(mattermost.Config{BaseURL: fake.URL, Token: mmfake.Token,
		Retry: mattermost.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return fake, newUserPages(client, true)
}

// usersPage is the page number of a GET /users request, or -1 for another request.
func usersPage(r *http.Request) int {
	if r.URL.Path != "/api/v4/users" || r.URL.Query().Has("in_channel") || r.URL.Query().Has("in_team") {
		return -1
	}
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil {
		return -1
	}
	return n
}

// walkUserPages reads the whole user list as the SDK does, one page after the
// other, and returns how many users it served.
func walkUserPages(t *testing.T, p *userPages, syncID string) int {
	t.Helper()
	n := 0
	for tok := (&userPageToken{}); tok != nil; {
		page, err := p.get(context.Background(), syncID, *tok)
		if err != nil {
			t.Fatalf("page %d: %v", tok.Users.Page, err)
		}
		n += len(page.users.Items)
		tok = page.next(*tok)
	}
	return n
}

// While the SDK stores one page, the next userPagesAhead pages are in flight
// together, and each page is asked for once.
func TestUserPagesFetchAheadTogetherAndOnce(t *testing.T) {
	fake, p := userPagesFake(t)
	release := make(chan struct{})
	var mu sync.Mutex
	asked := map[int]int{}
	fake.Intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if page := usersPage(r); page >= 0 {
			mu.Lock()
			asked[page]++
			mu.Unlock()
			if page >= 1 {
				<-release
			}
		}
		return false
	}
	if _, err := p.get(context.Background(), "s1", userPageToken{}); err != nil {
		t.Fatal(err)
	}
	inFlight := func() int {
		mu.Lock()
		defer mu.Unlock()
		return asked[1] + asked[2]
	}
	for deadline := time.Now().Add(5 * time.Second); inFlight() < 2; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pages 1 and 2 are not fetched together while the SDK stores page 0: asked %v", asked)
		}
	}
	close(release)

	p2 := newUserPages(p.client, true)
	mu.Lock()
	clear(asked)
	mu.Unlock()
	if got, want := walkUserPages(t, p2, "s2"), len(fake.Users); got != want {
		t.Fatalf("served %d users, want %d", got, want)
	}
	time.Sleep(50 * time.Millisecond) // a fetch past the end may still be answering
	mu.Lock()
	defer mu.Unlock()
	for page := 0; page <= 5; page++ {
		if asked[page] != 1 {
			t.Errorf("page %d asked %d times, want once (asked %v)", page, asked[page], asked)
		}
	}
	if len(asked) > 5+userPagesAhead {
		t.Errorf("asked pages %v: more than userPagesAhead-1 past the end", asked)
	}
}

// A page whose fetch ahead failed is fetched again by the call that needs it,
// which then sees the error (and retries) as it would without fetching ahead.
func TestUserPagesFailedFetchAheadIsFetchedAgain(t *testing.T) {
	fake, p := userPagesFake(t)
	var failures atomic.Int32
	var asked2 atomic.Int32
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if usersPage(r) == 2 {
			asked2.Add(1)
			if failures.Add(1) <= 2 { // both tries of the fetch ahead fail
				w.WriteHeader(http.StatusBadGateway)
				return true
			}
		}
		return false
	}
	if got, want := walkUserPages(t, p, "s1"), len(fake.Users); got != want {
		t.Fatalf("served %d users, want %d", got, want)
	}
	if n := asked2.Load(); n != 3 {
		t.Errorf("page 2 asked %d times, want 3 (two failed tries ahead, one by its own call)", n)
	}
}

// Pages fetched ahead for one sync are never served to another.
func TestUserPagesServeNoOtherSync(t *testing.T) {
	fake, p := userPagesFake(t)
	var asked1 atomic.Int32
	fake.Intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if usersPage(r) == 1 {
			asked1.Add(1)
		}
		return false
	}
	if _, err := p.get(context.Background(), "s1", userPageToken{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); asked1.Load() == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("page 1 was not fetched ahead")
		}
	}
	if _, err := p.get(context.Background(), "s2", userPageToken{Users: mattermost.Cursor{Page: 1}}); err != nil {
		t.Fatal(err)
	}
	if n := asked1.Load(); n != 2 {
		t.Errorf("page 1 asked %d times, want 2: sync s2 was served sync s1's page", n)
	}
}

// Fetches ahead end with their sync: when it reaches its last page, when
// another sync starts, and when nobody asks for a page for idleAfter (the
// SDK gave the sync up). None is left waiting on the server.
func TestUserPagesFetchesAheadEndWithTheSync(t *testing.T) {
	for _, how := range []string{"idle", "another sync"} {
		t.Run(how, func(t *testing.T) {
			fake, p := userPagesFake(t)
			p.idleAfter = 300 * time.Millisecond
			var waiting, cancelled atomic.Int32
			var hold atomic.Bool
			hold.Store(true)
			fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
				if page := usersPage(r); hold.Load() && (page == 1 || page == 2) {
					waiting.Add(1)
					select { // a server that never answers
					case <-r.Context().Done():
						cancelled.Add(1)
					case <-time.After(time.Minute):
					}
					w.WriteHeader(http.StatusGatewayTimeout)
					return true
				}
				return false
			}
			if _, err := p.get(context.Background(), "s1", userPageToken{}); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(5 * time.Second); waiting.Load() < userPagesAhead; time.Sleep(2 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d fetches ahead waiting, want %d", waiting.Load(), userPagesAhead)
				}
			}
			if how == "another sync" {
				hold.Store(false)
				if _, err := p.get(context.Background(), "s2", userPageToken{Users: mattermost.Cursor{Page: 5}}); err != nil {
					t.Fatal(err)
				}
			}
			for deadline := time.Now().Add(10 * time.Second); cancelled.Load() < userPagesAhead; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d fetches ahead still running", int32(userPagesAhead)-cancelled.Load(), userPagesAhead)
				}
			}
		})
	}
}
