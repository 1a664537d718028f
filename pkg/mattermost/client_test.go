package mattermost_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// fastRetry keeps retry tests quick while still exercising every retry.
var fastRetry = mattermost.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

func newClient(t *testing.T, fake *mmfake.Server) *mattermost.Client {
	t.Helper()
	c, err := mattermost.New(mattermost.Config{BaseURL: fake.URL, Token: mmfake.Token, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// errorAs returns err as the client error type E, failing the test otherwise.
func errorAs[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("want %T, got %T: %v", target, err, err)
	}
	return target
}

// walkUsers pages /users to the end as the connector does and returns usernames.
func walkUsers(t *testing.T, c *mattermost.Client) []string {
	t.Helper()
	var names []string
	for cur := (mattermost.Cursor{}); ; {
		p, err := c.ListUsers(context.Background(), cur)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range p.Items {
			names = append(names, u.Username)
		}
		if p.Next == nil {
			return names
		}
		cur = *p.Next
	}
}

func TestListUsersPaging(t *testing.T) {
	for _, n := range []int{0, 1, 199, 200, 201, 400, 401} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			fake := mmfake.New(t)
			fake.Users = nil
			for i := range n {
				fake.Users = append(fake.Users, mmfake.User{ID: fmt.Sprintf("u%04d", i), Username: fmt.Sprintf("user%04d", i)})
			}
			names := walkUsers(t, newClient(t, fake))
			if len(names) != n {
				t.Fatalf("got %d users, want %d", len(names), n)
			}
			seen := map[string]bool{}
			for _, name := range names {
				if seen[name] {
					t.Fatalf("user %s returned twice", name)
				}
				seen[name] = true
			}
			// Pages: ceil(n/200), plus one empty page only after an exact multiple of 200 (0 included).
			wantPages := n/200 + 1
			reqs := fake.Requests()
			if len(reqs) != wantPages {
				t.Fatalf("got %d requests, want %d: %v", len(reqs), wantPages, reqs)
			}
			for i, r := range reqs {
				if want := fmt.Sprintf("GET /api/v4/users?page=%d&per_page=200", i); r != want {
					t.Errorf("request %d = %q, want %q", i, r, want)
				}
			}
		})
	}
}

func TestErrorBodyIsDecoded(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		mmfake.WriteError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		return true
	}
	_, err := newClient(t, fake).ListTeams(context.Background(), mattermost.Cursor{})
	var apiErr *mattermost.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *mattermost.APIError, got %T %v", err, err)
	}
	if apiErr.StatusCode != 403 || apiErr.ID != mmfake.IDPermissions || apiErr.RequestID != "fakerequestid" {
		t.Errorf("decoded %+v", apiErr)
	}
	if !mattermost.HasID(err, mmfake.IDMissingAccount, mmfake.IDPermissions) {
		t.Error("HasID false")
	}
	for _, want := range []string{"GET /api/v4/teams?page=0&per_page=200", "HTTP 403", "appropriate permissions", "fakerequestid"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(fake.Requests()) != 1 {
		t.Errorf("a 403 was retried: %v", fake.Requests())
	}
}

func TestRejectedTokenIsUnauthenticated(t *testing.T) {
	fake := mmfake.New(t)
	fake.Token = "someothertoken"
	_, err := newClient(t, fake).GetMe(context.Background())
	var apiErr *mattermost.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || mattermost.StatusCode(err) != 401 {
		t.Fatalf("got %T %v", err, err)
	}
	if strings.Contains(err.Error(), mmfake.Token) {
		t.Fatal("error message contains the token")
	}
}

func TestTokenEchoedByServerIsRedacted(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		// Mattermost in developer mode echoes the token in detailed_error.
		mmfake.WriteJSON(w, http.StatusUnauthorized, map[string]any{"id": "api.context.session_expired.app_error",
			"message": "Invalid or expired session, please login again.", "detailed_error": "token=" + mmfake.Token})
		return true
	}
	_, err := newClient(t, fake).GetMe(context.Background())
	if err == nil || strings.Contains(err.Error(), mmfake.Token) || !strings.Contains(err.Error(), "token=[REDACTED]") {
		t.Fatalf("token not redacted: %v", err)
	}
}

func TestHTMLAnswerIsNotMattermost(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Welcome to nginx!</body></html>"))
		return true
	}
	_, err := newClient(t, fake).GetMe(context.Background())
	var notMM *mattermost.NotMattermostError
	if !errors.As(err, &notMM) || notMM.ContentType != "text/html" || !strings.Contains(err.Error(), "Welcome to nginx") {
		t.Fatalf("got %T %v", err, err)
	}
}

// flaky answers the first `failures` requests with the given fault, then passes.
func flaky(failures int32, fault func(w http.ResponseWriter)) func(http.ResponseWriter, *http.Request) bool {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) bool {
		if n.Add(1) > failures {
			return false
		}
		fault(w)
		return true
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	faults := map[string]func(w http.ResponseWriter){
		"503": func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
		"502 html": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>Bad Gateway</html>"))
		},
		"429 plain text": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte("limit exceeded\n"))
		},
		"truncated json": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`[{"id":"u1","usern`))
		},
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			fake := mmfake.New(t)
			fake.Intercept = flaky(2, fault)
			names := walkUsers(t, newClient(t, fake))
			if len(names) != 1 || names[0] != "admin" {
				t.Fatalf("got %v", names)
			}
			if n := len(fake.Requests()); n != 3 {
				t.Errorf("got %d requests, want 3 (two failures, one success)", n)
			}
		})
	}
}

func TestPersistentFailuresEndTheCall(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = flaky(1000, func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) })
	_, err := newClient(t, fake).ListUsers(context.Background(), mattermost.Cursor{})
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(fake.Requests()); n != fastRetry.MaxAttempts {
		t.Errorf("got %d attempts, want %d", n, fastRetry.MaxAttempts)
	}
	var transient *mattermost.TransientError
	if !errors.As(err, &transient) || transient.Attempts != 3 || transient.MayHaveApplied || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("got %T %v", err, err)
	}
}

func TestPersistentRateLimitEndsTheCallWithTheReset(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = flaky(1000, func(w http.ResponseWriter) {
		w.Header().Set("X-Ratelimit-Limit", "101")
		w.Header().Set("X-Ratelimit-Remaining", "0")
		w.Header().Set("X-Ratelimit-Reset", "1")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	policy := fastRetry
	policy.RateLimitPatience = 2500 * time.Millisecond // room for two waits of 1s
	c, err := mattermost.New(mattermost.Config{BaseURL: fake.URL, Token: mmfake.Token, Retry: policy})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListUsers(context.Background(), mattermost.Cursor{})
	var rl *mattermost.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("want *mattermost.RateLimitError, got %T %v", err, err)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Errorf("got %d requests, want 3 (two waits of Retry-After 1s fit the patience)", n)
	}
	for _, want := range []string{"HTTP 429", "still rate limited after waiting 2s", "requests-per-second"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if rl.Limit != 101 || rl.Remaining != 0 || rl.ResetAt.IsZero() || rl.Waited < time.Second {
		t.Fatalf("rate limit error = %+v", rl)
	}
}

func TestPostIsNotRetriedAfterServerError(t *testing.T) {
	fake := mmfake.New(t)
	var posts atomic.Int32
	fake.Mux.HandleFunc("POST /api/v4/echo", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	})
	err := mattermost.PostForTest(newClient(t, fake), context.Background(), "/echo")
	var transient *mattermost.TransientError
	if !errors.As(err, &transient) || !transient.MayHaveApplied || posts.Load() != 1 {
		t.Fatalf("err=%v posts=%d: a POST that may have been applied must not be repeated", err, posts.Load())
	}
}
