package connector

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"github.com/baton-mattermost/baton-mattermost/test/faultproxy"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// connectorBehind builds a connector that reaches the fake through a fault proxy.
func connectorBehind(t *testing.T, fake *mmfake.Server, cfg faultproxy.Config) (*Connector, *faultproxy.Proxy) {
	t.Helper()
	cfg.Upstream = fake.URL
	p, err := faultproxy.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	client, err := mattermost.New(mattermost.Config{BaseURL: p.URL, Token: mmfake.Token,
		HTTPClient: &http.Client{Timeout: 200 * time.Millisecond},
		Retry:      mattermost.RetryPolicy{MaxAttempts: 6, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return NewWithClient(client, Options{}), p
}

func TestSyncUnderTransientFaultsEqualsCleanSync(t *testing.T) {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	clean, err := synctest.Sync(t, newTestConnector(t, fake, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	faults := []faultproxy.Fault{faultproxy.InternalError, faultproxy.BadGateway, faultproxy.GatewayTimeout,
		faultproxy.Reset, faultproxy.Truncate, faultproxy.Slow}
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		c, p := connectorBehind(t, fake, faultproxy.Config{Seed: seed, Rate: 0.3, Faults: faults, Delay: time.Second})
		got, err := synctest.Sync(t, c)
		if err != nil {
			t.Fatalf("seed %d (%v): %v", seed, p.Stats(), err)
		}
		if diffs := synctest.Diff(clean, got); len(diffs) > 0 {
			t.Fatalf("seed %d (%v): differs from the clean sync:\n%s", seed, p.Stats(), strings.Join(diffs, "\n"))
		}
		if p.Stats().TotalFaults() == 0 {
			t.Errorf("seed %d: no fault injected", seed)
		}
	}
}

func TestPersistentMidSyncFaultFailsTheSync(t *testing.T) {
	members := func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/members") }
	for _, tc := range []struct {
		fault faultproxy.Fault
		code  codes.Code
	}{
		{faultproxy.InternalError, codes.Aborted},
		{faultproxy.Truncate, codes.Aborted},
		// A proxy's 404 page must not be skipped as a warning (what the SDK does with NotFound).
		{faultproxy.NotFoundPage, codes.FailedPrecondition},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			fake := mmfake.New(t)
			seedSmallOrg(fake)
			c, _ := connectorBehind(t, fake, faultproxy.Config{Rate: 1, Faults: []faultproxy.Fault{tc.fault}, Match: members})
			_, err := synctest.Sync(t, c)
			if err == nil {
				t.Fatal("the sync finished")
			}
			if !strings.Contains(err.Error(), "/members") || !strings.Contains(err.Error(), tc.code.String()) {
				t.Fatalf("want %v naming the members call, got %v (code %v)", tc.code, err, status.Code(err))
			}
		})
	}
}
