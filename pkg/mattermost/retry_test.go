package mattermost_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"github.com/baton-mattermost/baton-mattermost/test/faultproxy"
)

func newClientWith(t *testing.T, cfg mattermost.Config) *mattermost.Client {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = mmfake.Token
	}
	if cfg.Retry == (mattermost.RetryPolicy{}) {
		cfg.Retry = fastRetry
	}
	c, err := mattermost.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// proxied puts a fault proxy in front of a fake with a few users.
func proxied(t *testing.T, cfg faultproxy.Config) (*mmfake.Server, *faultproxy.Proxy) {
	t.Helper()
	fake := mmfake.New(t)
	for _, n := range []string{"alice", "bob", "carol"} {
		fake.Users = append(fake.Users, mmfake.User{ID: n, Username: n})
	}
	cfg.Upstream = fake.URL
	p, err := faultproxy.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return fake, p
}

func TestEveryTransientFaultIsRetried(t *testing.T) {
	for _, f := range []faultproxy.Fault{faultproxy.InternalError, faultproxy.BadGateway, faultproxy.Unavailable,
		faultproxy.GatewayTimeout, faultproxy.Reset, faultproxy.Truncate, faultproxy.Slow, faultproxy.RateLimit} {
		t.Run(string(f), func(t *testing.T) {
			// Every request fails on its first two tries: the third gets through.
			_, p := proxied(t, faultproxy.Config{Rate: 1, Burst: 2, Faults: []faultproxy.Fault{f}, Delay: 2 * time.Second})
			hc := &http.Client{Timeout: 200 * time.Millisecond}
			c := newClientWith(t, mattermost.Config{BaseURL: p.URL, HTTPClient: hc,
				Retry: mattermost.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
			page, err := c.ListUsers(context.Background(), mattermost.Cursor{})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 4 {
				t.Fatalf("got %d users, want 4", len(page.Items))
			}
			if st := p.Stats(); st.Requests != 3 || st.Faults[f] != 2 {
				t.Fatalf("stats %v, want 3 requests of which 2 faults", st)
			}
		})
	}
}

func TestPersistentFaultsEndTheCallWithoutARetryableCode(t *testing.T) {
	cases := map[faultproxy.Fault]string{
		faultproxy.InternalError:  "HTTP 500 app.internal_error",
		faultproxy.BadGateway:     "HTTP 502",
		faultproxy.GatewayTimeout: "HTTP 504",
		faultproxy.Reset:          "connection reset",
		faultproxy.Truncate:       "cut short",
		faultproxy.Slow:           "http-timeout-seconds",
	}
	for f, want := range cases {
		t.Run(string(f), func(t *testing.T) {
			_, p := proxied(t, faultproxy.Config{Rate: 1, Faults: []faultproxy.Fault{f}, Delay: 2 * time.Second})
			c := newClientWith(t, mattermost.Config{BaseURL: p.URL, HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
			_, err := c.ListUsers(context.Background(), mattermost.Cursor{})
			if transient := errorAs[*mattermost.TransientError](t, err); transient.Attempts != fastRetry.MaxAttempts {
				t.Errorf("attempts %d, want %d", transient.Attempts, fastRetry.MaxAttempts)
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "after 3 attempts") {
				t.Errorf("error %q lacks %q or the attempt count", err, want)
			}
			if n := p.Stats().Requests; n != fastRetry.MaxAttempts {
				t.Errorf("%d requests, want %d", n, fastRetry.MaxAttempts)
			}
		})
	}
}

func TestRateLimitsDoNotUseUpAttempts(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = flaky(5, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	// Five 429s in a row, MaxAttempts 3: a 429 was not processed and costs no attempt.
	if names := walkUsers(t, newClient(t, fake)); len(names) != 1 {
		t.Fatalf("got %v", names)
	}
	if n := len(fake.Requests()); n != 6 {
		t.Errorf("%d requests, want 6", n)
	}
}

func TestBareRateLimitBacksOff(t *testing.T) {
	fake := mmfake.New(t)
	// No Retry-After, no X-Ratelimit-*: the client must back off on its own
	// (not wait baton-sdk's default 60s, not spin) and give up at the patience.
	fake.Intercept = flaky(1_000_000, func(w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) })
	c := newClientWith(t, mattermost.Config{BaseURL: fake.URL, Retry: mattermost.RetryPolicy{
		MaxAttempts: 3, BaseDelay: 10 * time.Millisecond, MaxDelay: 40 * time.Millisecond, RateLimitPatience: 300 * time.Millisecond}})
	_, err := c.GetMe(context.Background())
	_ = errorAs[*mattermost.RateLimitError](t, err)
	// Waits of 10..40ms (jittered) within 300ms: at least 300/60 and at most 300/10 retries.
	if n := len(fake.Requests()); n < 6 || n > 31 {
		t.Errorf("%d requests: the backoff is not 10..40ms", n)
	}
}

func TestRateLimitLongerThanThePatienceEndsAtOnce(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = flaky(1000, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := newClient(t, fake).GetMe(context.Background())
	if rl := errorAs[*mattermost.RateLimitError](t, err); rl.RetryAfter != time.Hour || !strings.Contains(err.Error(), "asks to wait 1h0m0s more") {
		t.Fatalf("got %+v: %v", rl, err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestProxyErrorPageIsNotNotFound(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v4/teams/t1/members" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html><h1>404 Not Found</h1><hr>nginx</html>"))
			return true
		}
		return false
	}
	c := newClient(t, fake)
	// baton-sdk skips NotFound as a warning and finishes the sync: a proxy's
	// page must not pass for Mattermost's "no such team".
	_, err := c.ListTeamMembers(context.Background(), "t1", mattermost.Cursor{})
	_ = errorAs[*mattermost.NotMattermostError](t, err)
	if mattermost.IsNotFound(err) || !strings.Contains(err.Error(), "404 Not Found") {
		t.Fatalf("proxy 404: got %v", err)
	}
	_, err = c.GetTeam(context.Background(), "nope")
	if !mattermost.IsNotFound(err) || !mattermost.HasID(err, mmfake.IDTeamNotFound) {
		t.Fatalf("Mattermost 404: got %v", err)
	}
}

func TestNullAnswerIsNotAnEmptyList(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		mmfake.WriteJSON(w, http.StatusOK, nil)
		return true
	}
	_, err := newClient(t, fake).ListUsers(context.Background(), mattermost.Cursor{})
	_ = errorAs[*mattermost.TransientError](t, err)
	if !strings.Contains(err.Error(), "answered null") {
		t.Fatalf("got %v", err)
	}
}

func TestRetryAfterOn503IsHonouredWithinMaxDelay(t *testing.T) {
	fake := mmfake.New(t)
	var first time.Time
	var gap time.Duration
	var n atomic.Int32
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		switch n.Add(1) {
		case 1:
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		case 2:
			gap = time.Since(first)
		}
		return false
	}
	c := newClientWith(t, mattermost.Config{BaseURL: fake.URL,
		Retry: mattermost.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Second}})
	if _, err := c.GetMe(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: the client must not come back before the server said.
	if gap < time.Second {
		t.Errorf("retried after %v, before Retry-After: 1", gap)
	}
}

func TestContextCancelStopsTheWait(t *testing.T) {
	fake := mmfake.New(t)
	fake.Intercept = flaky(1000, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := newClient(t, fake).GetMe(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestPostIsRetriedWhenItNeverLeft(t *testing.T) {
	var dials atomic.Int32
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	c := newClientWith(t, mattermost.Config{BaseURL: "http://127.0.0.1:1", HTTPClient: hc})
	err := mattermost.PostForTest(c, context.Background(), "/x")
	if transient := errorAs[*mattermost.TransientError](t, err); transient.MayHaveApplied || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %+v: %v", transient, err)
	}
	if n := dials.Load(); n != int32(fastRetry.MaxAttempts) {
		t.Errorf("%d dials, want %d: a refused POST was never sent and may be repeated", n, fastRetry.MaxAttempts)
	}
}

func TestTokenIsScrubbedFromErrors(t *testing.T) {
	fake := mmfake.New(t)
	// A debugging proxy that echoes the request headers into its error pages.
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		auth := r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/api/v4/users/me":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>" + strings.Repeat("x", 100) + "upstream failed for " + auth + "</html>"))
		case "/api/v4/teams":
			mmfake.WriteError(w, http.StatusBadRequest, "api.bad", "bad header "+auth)
		default:
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(auth))
		}
		return true
	}
	c := newClient(t, fake)
	_, err1 := c.GetMe(context.Background())
	_, err2 := c.ListTeams(context.Background(), mattermost.Cursor{})
	_, err3 := c.ListUsers(context.Background(), mattermost.Cursor{})
	for _, err := range []error{err1, err2, err3} {
		if err == nil {
			t.Fatal("no error")
		}
		// The snippet is cut at 120 characters: no piece of the token may survive either.
		if strings.Contains(err.Error(), mmfake.Token[:8]) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
	if !strings.Contains(err2.Error(), "[REDACTED]") {
		t.Errorf("redaction not visible: %v", err2)
	}
}

// redirector answers every request with a redirect to target+path.
func redirector(t *testing.T, code int, target func(r *http.Request) string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target(r), code)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirectsStayOnTheConfiguredOrigin(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("Authorization"))
		mu.Unlock()
		mmfake.WriteJSON(w, http.StatusOK, mmfake.User{ID: "x", Roles: "system_admin"})
	}))
	t.Cleanup(elsewhere.Close)

	t.Run("other host", func(t *testing.T) {
		from := redirector(t, http.StatusFound, func(r *http.Request) string { return elsewhere.URL + r.URL.RequestURI() })
		_, err := newClient(t, &mmfake.Server{Server: from}).GetMe(context.Background())
		var redir *mattermost.RedirectError
		if !errors.As(err, &redir) {
			t.Fatalf("got %T %v", err, err)
		}
		if !strings.Contains(err.Error(), elsewhere.URL) || !strings.Contains(err.Error(), "base-url") {
			t.Errorf("error does not say where to: %v", err)
		}
	})
	t.Run("same host, other scheme", func(t *testing.T) {
		from := redirector(t, http.StatusMovedPermanently, func(r *http.Request) string {
			return "https://" + r.Host + r.URL.RequestURI()
		})
		_, err := newClient(t, &mmfake.Server{Server: from}).GetMe(context.Background())
		_ = errorAs[*mattermost.RedirectError](t, err)
		if !strings.Contains(err.Error(), "refused to follow") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("query of the target is not shown", func(t *testing.T) {
		from := redirector(t, http.StatusFound, func(r *http.Request) string { return elsewhere.URL + "/login?session=s3cr3t" })
		_, err := newClient(t, &mmfake.Server{Server: from}).GetMe(context.Background())
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("got %v", err)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) != 0 {
		t.Fatalf("the other server received %d requests (Authorization %q)", len(leaked), leaked)
	}
}

func TestSameOriginRedirectIsFollowed(t *testing.T) {
	fake := mmfake.New(t)
	var redirected atomic.Int32
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/old/") {
			redirected.Add(1)
			http.Redirect(w, r, strings.TrimPrefix(r.URL.RequestURI(), "/old"), http.StatusPermanentRedirect)
			return true
		}
		return false
	}
	c := newClientWith(t, mattermost.Config{BaseURL: fake.URL + "/old"})
	me, err := c.GetMe(context.Background())
	if err != nil || me.ID != "admin" || redirected.Load() != 1 {
		t.Fatalf("got %v %v (%d redirects)", me, err, redirected.Load())
	}
	// A POST redirected with 302 would come back as a GET: refused.
	fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, "/api/v4/users/me", http.StatusFound)
		return true
	}
	err = mattermost.PostForTest(newClient(t, fake), context.Background(), "/x")
	if err == nil || !strings.Contains(err.Error(), "turn the POST into a GET") {
		t.Fatalf("got %v", err)
	}
}

func writeCA(t *testing.T, certs ...*x509.Certificate) string {
	t.Helper()
	var b strings.Builder
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// selfSignedCA makes a CA certificate that signed nothing the tests serve.
func selfSignedCA(t *testing.T) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "unrelated CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestTLSVerificationAndCABundle(t *testing.T) {
	fake := mmfake.NewTLS(t)

	_, err := newClient(t, fake).GetMe(context.Background())
	if tlsErr := errorAs[*mattermost.TLSError](t, err); !tlsErr.Certificate || !mattermost.IsCertificateError(err) {
		t.Fatalf("without ca-bundle: got %+v", tlsErr)
	}
	if strings.Contains(err.Error(), "after") {
		t.Errorf("a certificate error was retried: %v", err)
	}

	withBundle := func(t *testing.T, path string) *mattermost.Client {
		t.Helper()
		tlsConfig, err := mattermost.TLSConfigWithCABundle(path)
		if err != nil {
			t.Fatal(err)
		}
		return newClientWith(t, mattermost.Config{BaseURL: fake.URL, HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}})
	}
	if me, err := withBundle(t, writeCA(t, fake.Certificate())).GetMe(context.Background()); err != nil || me.ID != "admin" {
		t.Fatalf("with ca-bundle: %v %v", me, err)
	}

	// A bundle without the server's CA still fails: the bundle adds trust, it never switches verification off.
	if _, err := withBundle(t, writeCA(t, selfSignedCA(t))).GetMe(context.Background()); !mattermost.IsCertificateError(err) {
		t.Fatalf("with an unrelated CA: %v", err)
	}

	for name, content := range map[string]string{"empty": "", "not pem": "hello"} {
		path := filepath.Join(t.TempDir(), "bad.pem")
		_ = os.WriteFile(path, []byte(content), 0o600)
		if _, err := mattermost.TLSConfigWithCABundle(path); err == nil || !strings.Contains(err.Error(), "ca-bundle") {
			t.Errorf("%s bundle: got %v", name, err)
		}
	}
	if _, err := mattermost.TLSConfigWithCABundle("/nonexistent/ca.pem"); err == nil || !strings.Contains(err.Error(), "ca-bundle") {
		t.Errorf("missing bundle: got %v", err)
	}
}

func TestRequestsPerSecondSpacesRequests(t *testing.T) {
	fake := mmfake.New(t)
	c := newClientWith(t, mattermost.Config{BaseURL: fake.URL, RequestsPerSecond: 20})
	start := time.Now()
	for range 11 {
		if _, err := c.GetMe(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// A lower bound only (never flaky on a slow machine): 11 requests at 20
	// per second take at least 10 intervals of 50ms. Without the limiter
	// they take a few milliseconds.
	if elapsed := time.Since(start); elapsed < 450*time.Millisecond {
		t.Fatalf("11 requests took %v at requests-per-second 20", elapsed)
	}
}

func TestConcurrentCallsUnderFaults(t *testing.T) {
	_, p := proxied(t, faultproxy.Config{Seed: 5, Rate: 0.3, Faults: []faultproxy.Fault{faultproxy.InternalError,
		faultproxy.Reset, faultproxy.Truncate, faultproxy.RateLimit}})
	c := newClientWith(t, mattermost.Config{BaseURL: p.URL, Retry: mattermost.RetryPolicy{MaxAttempts: 8,
		BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = c.ListUsers(context.Background(), mattermost.Cursor{Page: i})
			} else {
				_, err = c.GetMe(context.Background())
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if p.Stats().TotalFaults() == 0 {
		t.Fatal("no fault injected")
	}
}

func TestRequestsPerSecondAllowsNoBurstAfterIdling(t *testing.T) {
	fake := mmfake.New(t)
	c := newClientWith(t, mattermost.Config{BaseURL: fake.URL, RequestsPerSecond: 20})
	if _, err := c.GetMe(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Idle for 10 intervals: a limiter with slack would now let the next
	// requests through back to back, over the rate.
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	for range 6 {
		if _, err := c.GetMe(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// A lower bound only: 6 requests at 20 per second take at least 5 intervals.
	if elapsed := time.Since(start); elapsed < 225*time.Millisecond {
		t.Fatalf("6 requests after idling took %v at requests-per-second 20: the limiter bursts", elapsed)
	}
}
