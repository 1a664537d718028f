package connector

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*mmfake.Server)
		wantCode codes.Code
		wantText []string
	}{
		{"system admin", func(*mmfake.Server) {}, codes.OK, nil},
		{"rejected token", func(f *mmfake.Server) { f.Token = "another" }, codes.Unauthenticated,
			[]string{"api-token was rejected", "api.context.session_expired.app_error"}},
		{"not a system admin", func(f *mmfake.Server) {
			f.Users = append(f.Users, mmfake.User{ID: "carol", Username: "carol", Roles: "system_user"})
			f.MeID = "carol"
		}, codes.PermissionDenied, []string{`"carol"`, "System Admin", "manage_system", "private teams"}},
		{"html answer", func(f *mmfake.Server) {
			f.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte("<html>404 page not found</html>"))
				return true
			}
		}, codes.FailedPrecondition, []string{"does not look like a Mattermost server", "root URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := mmfake.New(t)
			tc.setup(fake)
			_, err := newTestConnector(t, fake, Options{}).Validate(context.Background())
			if got := status.Code(err); got != tc.wantCode {
				t.Fatalf("code = %v, want %v (%v)", got, tc.wantCode, err)
			}
			for _, want := range tc.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if err != nil && !strings.Contains(err.Error(), fake.URL) && tc.wantCode != codes.PermissionDenied {
				t.Errorf("error %q does not name the server URL", err)
			}
		})
	}
}

func TestValidateUnreachable(t *testing.T) {
	client, err := mattermost.New(mattermost.Config{BaseURL: "http://127.0.0.1:1", Token: mmfake.Token,
		Retry: mattermost.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewWithClient(client, Options{}).Validate(context.Background())
	if !strings.Contains(err.Error(), "cannot reach the Mattermost server at http://127.0.0.1:1") {
		t.Fatalf("got %v", err)
	}
}

func TestValidateExplainsTransportAndProxyFailures(t *testing.T) {
	fast := mattermost.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
	validate := func(t *testing.T, baseURL string) error {
		t.Helper()
		client, err := mattermost.New(mattermost.Config{BaseURL: baseURL, Token: mmfake.Token, Retry: fast})
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewWithClient(client, Options{}).Validate(context.Background())
		return err
	}
	check := func(t *testing.T, err error, code codes.Code, texts ...string) {
		t.Helper()
		if status.Code(err) != code {
			t.Fatalf("code = %v, want %v (%v)", status.Code(err), code, err)
		}
		for _, want := range texts {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		// Unavailable would make the SDK repeat Validate, and all its retries, five more times.
		if status.Code(err) == codes.Unavailable {
			t.Error("Unavailable")
		}
	}

	t.Run("persistent 502 from a proxy", func(t *testing.T) {
		fake := mmfake.New(t)
		fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>502 Bad Gateway</html>"))
			return true
		}
		check(t, validate(t, fake.URL), codes.Aborted, "kept failing", "HTTP 502", "after 2 attempts")
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		fake := mmfake.NewTLS(t)
		check(t, validate(t, fake.URL), codes.FailedPrecondition, "not trusted", "ca-bundle", "certificate")
	})
	t.Run("redirect to another host", func(t *testing.T) {
		fake := mmfake.New(t)
		fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, "http://login.example.com/sso", http.StatusFound)
			return true
		}
		check(t, validate(t, fake.URL), codes.FailedPrecondition, "redirects elsewhere", "http://login.example.com/sso")
	})
	t.Run("connection refused", func(t *testing.T) {
		check(t, validate(t, "http://127.0.0.1:1"), codes.Aborted, "cannot reach", "connection refused")
	})
	t.Run("unknown host", func(t *testing.T) {
		// NXDOMAIN is FailedPrecondition; without a resolver at all (offline CI) the lookup fails as Aborted.
		err := validate(t, "https://mattermost.invalid")
		if code := status.Code(err); code != codes.FailedPrecondition && code != codes.Aborted {
			t.Fatalf("code = %v (%v)", code, err)
		}
		check(t, err, status.Code(err), "cannot reach", "mattermost.invalid")
	})
}
