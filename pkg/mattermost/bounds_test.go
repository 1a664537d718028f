package mattermost_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// Servers that misbehave in ways a real Mattermost does not: every loop,
// body and wait of the client must still end, with an error that says why.

func hostileClient(t *testing.T, h http.HandlerFunc) *mattermost.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := mattermost.New(mattermost.Config{BaseURL: srv.URL, Token: "hostiletoken0000000000000a", Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func usersJSON(from, n int) []byte {
	users := make([]map[string]any, n)
	for i := range users {
		users[i] = map[string]any{"id": fmt.Sprintf("u%05d", from+i), "username": fmt.Sprintf("user%05d", from+i)}
	}
	b, _ := json.Marshal(users)
	return b
}

func TestRepeatedPageEndsTheList(t *testing.T) {
	// A server (or caching proxy) that ignores ?page= and answers the same full page forever.
	var requests atomic.Int32
	c := hostileClient(t, func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(usersJSON(0, mattermost.PerPage))
	})
	cur := mattermost.Cursor{}
	var err error
	for range 10 {
		var page mattermost.Page[mattermost.User]
		if page, err = c.ListUsers(context.Background(), cur); err != nil || page.Next == nil {
			break
		}
		cur = *page.Next
	}
	var listErr *mattermost.ListError
	if !errors.As(err, &listErr) || !strings.Contains(err.Error(), "ignores the page parameter") {
		t.Fatalf("got %v, want a ListError about the repeated page", err)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (the repeat is seen on the second page)", n)
	}
}

func TestRepeatedReportPageEndsTheReport(t *testing.T) {
	c := hostileClient(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(usersJSON(0, mattermost.ReportPageSize))
	})
	page, err := c.ListUserReport(context.Background(), mattermost.Cursor{})
	if err != nil || page.Next == nil {
		t.Fatalf("first page: %v, next %v", err, page.Next)
	}
	_, err = c.ListUserReport(context.Background(), *page.Next)
	var listErr *mattermost.ListError
	if !errors.As(err, &listErr) {
		t.Fatalf("got %v, want a ListError", err)
	}
}

func TestEndlessBodyIsCutWithBoundedMemory(t *testing.T) {
	var requests atomic.Int32
	c := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(`{"id":"x","username":"y"},`, 4096))
		_, _ = w.Write([]byte("["))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.ListUsers(context.Background(), mattermost.Cursor{})
	var tooLarge *mattermost.ResponseTooLargeError
	if !errors.As(err, &tooLarge) {
		t.Fatalf("got %v, want a ResponseTooLargeError", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 8*uint64(mattermost.MaxBodyBytes) {
		t.Errorf("allocated %d MiB reading one answer; the body bound is %d MiB", grown>>20, mattermost.MaxBodyBytes>>20)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests: an oversized answer must not be retried", n)
	}
}

func TestIDsAreEscapedOnceAndDotSegmentsRefused(t *testing.T) {
	var got []string
	c := hostileClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.EscapedPath())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x"}`))
	})
	if _, err := c.GetTeam(context.Background(), "a/b c"); err != nil {
		t.Fatal(err)
	}
	if want := "/api/v4/teams/a%2Fb%20c"; len(got) != 1 || got[0] != want {
		t.Errorf("requested %v, want %s", got, want)
	}
	for _, id := range []string{"..", ".", ""} {
		err := c.RemoveTeamMember(context.Background(), id, "u1")
		if !errors.Is(err, mattermost.ErrBadPathSegment) {
			t.Errorf("team id %q: got %v, want ErrBadPathSegment", id, err)
		}
	}
	if len(got) != 1 {
		t.Errorf("requests sent for refused ids: %v", got[1:])
	}
	if _, err := c.GetUserByEmail(context.Background(), "a/b?c%d@example.com"); err != nil {
		t.Fatal(err)
	}
	if want := "/api/v4/users/email/a%2Fb%3Fc%25d@example.com"; got[len(got)-1] != want {
		t.Errorf("requested %s, want %s", got[len(got)-1], want)
	}
}

func TestWritesAreNotRepeatedAfterAFailureTheServerMayHaveApplied(t *testing.T) {
	var requests atomic.Int32
	c := hostileClient(t, func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"id":"","message":"upstream"}`))
	})
	err := c.UpdateUserRoles(context.Background(), "u1", []string{"system_user"})
	var transient *mattermost.TransientError
	if !errors.As(err, &transient) || !transient.MayHaveApplied {
		t.Fatalf("got %v, want a TransientError with MayHaveApplied", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the PUT was sent %d times, want once", n)
	}
}

func TestCleartextHTTPOnlyToLoopbackOrWhenAllowed(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:8065", "http://localhost:8065", "http://[::1]:8065", "https://chat.example.com"} {
		if _, err := mattermost.New(mattermost.Config{BaseURL: base, Token: "t"}); err != nil {
			t.Errorf("%s refused: %v", base, err)
		}
	}
	_, err := mattermost.New(mattermost.Config{BaseURL: "http://chat.example.com", Token: "t"})
	if err == nil || !strings.Contains(err.Error(), "clear text") || !strings.Contains(err.Error(), "allow-http") {
		t.Errorf("http:// to a remote host: got %v", err)
	}
	if _, err := mattermost.New(mattermost.Config{BaseURL: "http://chat.example.com", Token: "t", AllowHTTP: true}); err != nil {
		t.Errorf("allowed http:// refused: %v", err)
	}
}

func TestCABundleMustBeASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem")
	if err := os.WriteFile(big, make([]byte, 5<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "not a regular file", big: "MiB", "/dev/zero": "not a regular file",
		dir: "not a regular file"} {
		done := make(chan error, 1)
		go func() { _, err := mattermost.TLSConfigWithCABundle(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: got %v, want %q", path, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: reading the ca-bundle hangs", path)
		}
	}
}

func TestRateLimiterWaitEndsWithTheContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"me"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := mattermost.New(mattermost.Config{BaseURL: srv.URL, Token: "t", RequestsPerSecond: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetMe(context.Background()); err != nil { // takes the one slot
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.GetMe(ctx)
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(fmt.Sprint(err), "would exceed context deadline") {
		t.Errorf("got %v, want the context's end", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("waited %v for a rate slot after the context ended", d)
	}
}

// endlessList answers every page/per_page request with a full window of an
// ordered list that never ends: the items [page*per_page, (page+1)*per_page).
func endlessList(requests *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		var page, perPage int
		_, _ = fmt.Sscan(r.URL.Query().Get("page"), &page)
		_, _ = fmt.Sscan(r.URL.Query().Get("per_page"), &perPage)
		items := make([]map[string]any, perPage)
		for i := range items {
			id := fmt.Sprintf("m%025d", page*perPage+i)
			items[i] = map[string]any{"id": id, "user_id": id, "username": id}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(items)
	}
}

func TestListsWithoutACountEndPastMaxListItems(t *testing.T) {
	ctx := context.Background()
	last := mattermost.MaxListItems/mattermost.PerPage - 1 // the page holding item MaxListItems

	t.Run("pages", func(t *testing.T) {
		var requests atomic.Int32
		c := hostileClient(t, endlessList(&requests))
		page, err := c.ListTeamMembers(ctx, "team00000000000000000000000", mattermost.Cursor{Page: last})
		if err != nil || page.Next == nil {
			t.Fatalf("the page ending at MaxListItems: %v, next %v; want a full page and a next cursor", err, page.Next)
		}
		_, err = c.ListTeamMembers(ctx, "team00000000000000000000000", *page.Next)
		var listErr *mattermost.ListError
		if !errors.As(err, &listErr) || !strings.Contains(err.Error(), "more than any Mattermost server holds") {
			t.Fatalf("the page past MaxListItems: got %v, want a ListError", err)
		}
		if n := requests.Load(); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("ordered walk", func(t *testing.T) {
		var requests atomic.Int32
		c := hostileClient(t, endlessList(&requests))
		offset := mattermost.MaxListItems - 100
		cur := mattermost.Cursor{Offset: offset, Anchors: []string{fmt.Sprintf("m%025d", offset-1)}}
		_, err := c.ListChannelUsers(ctx, "chan00000000000000000000000", cur)
		var listErr *mattermost.ListError
		if !errors.As(err, &listErr) || !strings.Contains(err.Error(), "more than any Mattermost server holds") {
			t.Fatalf("a window past MaxListItems: got %v, want a ListError", err)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("a count's bound carries through a walk", func(t *testing.T) {
		var requests atomic.Int32
		c := hostileClient(t, endlessList(&requests))
		cur := mattermost.Cursor{Max: 500}
		var err error
		for range 10 {
			var page mattermost.Page[mattermost.User]
			if page, err = c.ListChannelUsers(ctx, "chan00000000000000000000000", cur); err != nil || page.Next == nil {
				break
			}
			cur = *page.Next
		}
		if !strings.Contains(fmt.Sprint(err), "past 500 items") {
			t.Fatalf("got %v, want a ListError past the cursor's Max", err)
		}
	})
}
