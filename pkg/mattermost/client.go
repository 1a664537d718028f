// Package mattermost is a small client for the Mattermost REST API v4: the
// calls baton-mattermost needs, typed, with paging, errors, retries and rate
// limits handled in one place. It knows nothing about baton resources.
package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/conductorone/baton-sdk/pkg/uhttp"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/ratelimit"
	"go.uber.org/zap"
)

// PerPage is the page size of every page/per_page listing: the server's maximum.
const PerPage = 200

// Config says how to reach one Mattermost server.
type Config struct {
	// BaseURL is the server URL as the operator typed it (see NormalizeBaseURL).
	BaseURL string
	// Token is a personal access token or bot token, sent as a Bearer token.
	Token string
	// UserAgent identifies the caller; uhttp appends the SDK's version.
	UserAgent string
	// CABundlePath, when set, names a PEM file of extra CAs to trust (for
	// servers with internal certificates). Verification is never switched off.
	CABundlePath string
	// RequestsPerSecond caps the request rate client-side; 0 means no cap.
	RequestsPerSecond int
	// Retry bounds the client's own retries of transient failures.
	Retry RetryPolicy
	// HTTPClient replaces the default transport (tests). Redirects are still checked.
	HTTPClient *http.Client
}

// RetryPolicy bounds how a call is retried after a transient failure.
//
// Two budgets apply. A 429 (rate limited) was not processed, and the server
// says when to come back, so it is waited out as often as needed, as long as
// the waits of one call stay within RateLimitPatience. Any other transient
// failure (408, 5xx, a dropped connection, a timeout, a truncated or
// malformed body) is retried with exponential backoff until MaxAttempts
// tries failed. When a budget runs out the call fails with a code baton-sdk
// does not retry (see Error.GRPCStatus), so a persistently failing server
// ends the run instead of looping forever.
type RetryPolicy struct {
	MaxAttempts int           // tries per call, the first included, not counting 429s (default 6)
	BaseDelay   time.Duration // first backoff, doubled on each retry (default 500ms)
	MaxDelay    time.Duration // cap of one backoff wait and of a 5xx Retry-After (default 30s)
	// RateLimitPatience caps the total time one call waits out 429 answers
	// (default 10m). A 429 asking for a longer wait ends the call at once.
	RateLimitPatience time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 6
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.RateLimitPatience <= 0 {
		p.RateLimitPatience = 10 * time.Minute
	}
	return p
}

// backoff is the wait after the n-th failure: exponential with jitter, so
// retries never spin and concurrent callers do not retry in lockstep.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay << min(max(n-1, 0), 16)
	d += rand.N(d/2 + 1) //nolint:gosec // jitter needs no cryptographic randomness
	return min(d, p.MaxDelay)
}

// Client calls one Mattermost server's REST API v4.
//
// It sends requests with a plain *http.Client (built by uhttp, for its
// logging, user agent and TLS options), not through uhttp's BaseHttpClient:
// that wrapper copies every 200 answer to a GET into an in-memory response
// cache, even for requests marked Cache-Control: no-cache, and a sync reads
// each page once, so the cache only costs a copy of every page and memory.
// Retries, errors and the rate cap are handled here anyway.
type Client struct {
	http    *http.Client
	baseURL *url.URL // server root, e.g. https://chat.example.com/mattermost
	token   string
	retry   RetryPolicy
	limiter ratelimit.Limiter // nil: no client-side cap
}

// New checks the configuration and builds a client. It makes no request.
func New(ctx context.Context, cfg Config) (*Client, error) {
	base, err := NormalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	token, err := NormalizeToken(cfg.Token)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		opts := []uhttp.Option{uhttp.WithLogger(true, ctxzap.Extract(ctx))}
		if cfg.UserAgent != "" {
			opts = append(opts, uhttp.WithUserAgent(cfg.UserAgent))
		}
		if cfg.CABundlePath != "" {
			tlsCfg, err := tlsConfigWithCABundle(cfg.CABundlePath)
			if err != nil {
				return nil, err
			}
			opts = append(opts, uhttp.WithTLSClientConfig(tlsCfg))
		}
		if hc, err = uhttp.NewClient(ctx, opts...); err != nil {
			return nil, fmt.Errorf("mattermost: creating HTTP client: %w", err)
		}
	} else {
		copied := *hc
		hc = &copied
	}
	hc.CheckRedirect = sameOriginRedirects(base)

	c := &Client{http: hc, baseURL: base, token: token, retry: cfg.Retry.withDefaults()}
	if cfg.RequestsPerSecond > 0 {
		// Not uhttp.WithRateLimiter: its limiter keeps a slack of 10, so
		// after an idle moment (the SDK storing a page) it lets up to 10
		// requests through back to back, over the very limit this option
		// exists to respect. Every try, retries included, takes a slot.
		c.limiter = ratelimit.New(cfg.RequestsPerSecond, ratelimit.WithoutSlack)
	}
	return c, nil
}

// BaseURL returns the normalised server URL (never holds credentials).
func (c *Client) BaseURL() string { return c.baseURL.String() }

// do sends one API call, retrying transient failures within the retry policy,
// and decodes a JSON answer into out (when out is not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.send(ctx, method, path, query, in, out, method != http.MethodPost)
}

// readByPost sends a POST that only reads (such as /channels/{id}/members/ids,
// which takes its ids in the body), so it may be repeated like a GET.
func (c *Client) readByPost(ctx context.Context, path string, in, out any) error {
	return c.send(ctx, http.MethodPost, path, nil, in, out, true)
}

// send makes the call; repeatable says whether it may be repeated after a
// failure that the server may already have acted on.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, in, out any, repeatable bool) error {
	u := *c.baseURL
	u.Path = c.baseURL.Path + apiPath + path
	u.RawQuery = query.Encode()
	shown := u.Path
	if u.RawQuery != "" {
		shown += "?" + u.RawQuery
	}
	var failures int              // failed tries other than 429s
	var rateLimited time.Duration // time spent waiting out 429s
	for tries := 1; ; tries++ {
		e := c.attempt(ctx, method, &u, shown, in, out)
		if e == nil {
			return nil
		}
		e.Attempts = tries
		e.redact(c.token)
		wait, ok := c.nextWait(ctx, repeatable, e, &failures, &rateLimited)
		if !ok {
			return e
		}
		ctxzap.Extract(ctx).Warn("mattermost: retrying after a transient failure",
			zap.String("call", method+" "+shown), zap.Int("try", tries),
			zap.Duration("wait", wait), zap.String("error", e.Error()))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			e.ctxErr = ctx.Err()
			return e
		case <-timer.C:
		}
	}
}

// nextWait decides whether a failed call is tried again and after how long,
// charging the failure to the budget it belongs to (see RetryPolicy).
func (c *Client) nextWait(ctx context.Context, repeatable bool, e *Error, failures *int, rateLimited *time.Duration) (time.Duration, bool) {
	if ctx.Err() != nil {
		e.ctxErr = ctx.Err()
		return 0, false
	}
	if !e.transient {
		return 0, false
	}
	if e.StatusCode == http.StatusTooManyRequests {
		// Honour the server's wait; without one, back off so a bare 429 never spins.
		wait := e.retryAfter
		if wait <= 0 {
			wait = c.retry.backoff(int(*rateLimited/c.retry.BaseDelay) + 1)
		}
		if *rateLimited+wait > c.retry.RateLimitPatience {
			e.rateLimitExhausted, e.rateLimitWaited = true, *rateLimited
			return 0, false
		}
		*rateLimited += wait
		return wait, true
	}
	*failures++
	if !retryable(repeatable, e) || *failures >= c.retry.MaxAttempts {
		return 0, false
	}
	wait := c.retry.backoff(*failures)
	if e.retryAfter > wait {
		wait = min(e.retryAfter, c.retry.MaxDelay)
	}
	return wait, true
}

// retryable says whether a transient failure may be retried: a request that
// never left (refused connection) or was answered 429 was not processed, so
// any call may be repeated; other failures may have been applied, so only
// calls that are safe to repeat are.
func retryable(repeatable bool, e *Error) bool {
	return e.notSent || e.StatusCode == http.StatusTooManyRequests || repeatable
}

func (c *Client) attempt(ctx context.Context, method string, u *url.URL, shown string, in, out any) *Error {
	var reqBody io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &Error{Method: method, Path: shown, Err: err}
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return &Error{Method: method, Path: shown, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.limiter != nil {
		c.limiter.Take()
	}
	resp, err := c.http.Do(req) // #nosec G704 -- the configured server only; sameOriginRedirects checks redirects
	if resp != nil {
		defer resp.Body.Close()
	}
	var redirect *RedirectError
	switch {
	case errors.As(err, &redirect):
		// net/http hands back the redirect answer itself with our refusal; the refusal is the news.
		return &Error{Method: method, Path: shown, Err: redirect}
	case resp == nil:
		// No answer: connection refused or reset, timeout, TLS or DNS failure.
		return transportError(ctx, method, shown, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil && bodyReadFailed(err) {
		// The answer was cut short (a proxy or the server dropped the
		// connection mid-body): whatever the status, we do not know what
		// the server said, and another try may get the whole answer.
		return &Error{Method: method, Path: shown, StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id"),
			Err: fmt.Errorf("the answer was cut short: %w", transportCause(err)), transient: true}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newHTTPError(method, shown, resp, c.scrub(body))
	}
	if out == nil {
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); !uhttp.IsJSONContentType(ct) {
		return &Error{Method: method, Path: shown, StatusCode: resp.StatusCode, ContentType: ct,
			BodySnippet: snippet(c.scrub(body)), Err: errNotJSON, RequestID: resp.Header.Get("X-Request-Id")}
	}
	if err := decodeJSON(body, out); err != nil {
		// A body cut short by a proxy decodes as malformed JSON: worth another try.
		return &Error{Method: method, Path: shown, StatusCode: resp.StatusCode, Err: fmt.Errorf("decoding the answer: %w", err),
			RequestID: resp.Header.Get("X-Request-Id"), transient: true}
	}
	return nil
}

// scrub removes the token from a body before any of it goes into an error,
// so that not even a part of it survives truncation to a snippet.
func (c *Client) scrub(body []byte) []byte {
	return bytes.ReplaceAll(body, []byte(c.token), []byte(redacted))
}

// decodeJSON decodes an answer. JSON null is refused: Mattermost always
// answers a list with [] and an object with {}, so null means something in
// between mangled the answer, and taking it as "nothing" would silently drop
// data from a sync that then looks complete.
func decodeJSON(body []byte, out any) error {
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return errors.New("the server answered null")
	}
	return json.Unmarshal(body, out)
}

// Page is one page of a page/per_page listing.
type Page[T any] struct {
	Items []T
	// NextPage is the page to fetch next, or 0 when this was the last page.
	NextPage int
}

// listPage fetches page `page` of a listing at PerPage items a page. A page
// shorter than PerPage is the last one, so no empty page is ever fetched
// except after an exact multiple of PerPage.
func listPage[T any](ctx context.Context, c *Client, path string, query url.Values, page int) (Page[T], error) {
	var items []T
	if err := c.getPage(ctx, path, query, page, PerPage, &items); err != nil {
		return Page[T]{}, err
	}
	return pageOf(items, page), nil
}

// getPage fetches the items [page*perPage, (page+1)*perPage) of a listing
// into out (a slice, or an object for listings that wrap their items).
func (c *Client) getPage(ctx context.Context, path string, query url.Values, page, perPage int, out any) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	return c.do(ctx, http.MethodGet, path, q, nil, out)
}

// pageOf wraps the items of page `page`; a page shorter than PerPage is the last.
func pageOf[T any](items []T, page int) Page[T] {
	p := Page[T]{Items: items}
	if len(items) >= PerPage {
		p.NextPage = page + 1
	}
	return p
}
