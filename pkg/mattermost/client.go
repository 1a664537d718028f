// Package mattermost is a small client for the Mattermost REST API v4: the
// calls baton-mattermost needs, typed, with paging, errors, retries and rate
// limits handled in one place. It knows nothing about baton resources.
package mattermost

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/conductorone/baton-sdk/pkg/uhttp"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
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

// RetryPolicy bounds how a call is retried after a transient failure
// (429, 408, 5xx, connection errors, truncated bodies).
type RetryPolicy struct {
	MaxAttempts int           // tries per call, the first included (default 6)
	BaseDelay   time.Duration // first backoff, doubled on each retry (default 500ms)
	MaxDelay    time.Duration // cap of one wait, also for Retry-After (default 30s)
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
	return p
}

// delay is the wait before attempt n+1: the server's Retry-After when it gave
// one, else exponential backoff with jitter, so retries never spin.
func (p RetryPolicy) delay(attempt int, e *Error) time.Duration {
	d := e.retryAfter
	if d <= 0 {
		d = p.BaseDelay << min(attempt-1, 16)
		d += rand.N(d/2 + 1) //nolint:gosec // jitter needs no cryptographic randomness
	}
	return min(d, p.MaxDelay)
}

// Client calls one Mattermost server's REST API v4.
type Client struct {
	http    *uhttp.BaseHttpClient
	baseURL *url.URL // server root, e.g. https://chat.example.com/mattermost
	token   string
	retry   RetryPolicy
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

	var wrapperOpts []uhttp.WrapperOption
	if cfg.RequestsPerSecond > 0 {
		wrapperOpts = append(wrapperOpts, uhttp.WithRateLimiter(cfg.RequestsPerSecond, time.Second))
	}
	bhc, err := uhttp.NewBaseHttpClientWithContext(ctx, hc, wrapperOpts...)
	if err != nil {
		return nil, fmt.Errorf("mattermost: creating HTTP client: %w", err)
	}
	return &Client{http: bhc, baseURL: base, token: token, retry: cfg.Retry.withDefaults()}, nil
}

// BaseURL returns the normalised server URL (never holds credentials).
func (c *Client) BaseURL() string { return c.baseURL.String() }

// tlsConfigWithCABundle trusts the system roots plus the PEM bundle at path.
func tlsConfigWithCABundle(path string) (*tls.Config, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca-bundle: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca-bundle %s holds no PEM certificate", path)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// sameOriginRedirects follows a redirect only to the configured scheme and
// host, so the token is never sent anywhere else.
func sameOriginRedirects(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		if req.URL.Scheme != base.Scheme || !strings.EqualFold(req.URL.Host, base.Host) {
			return fmt.Errorf("refused to follow a redirect to %s://%s (base-url is %s): set base-url to the address the server redirects to",
				req.URL.Scheme, req.URL.Host, base.String())
		}
		return nil
	}
}

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

func (c *Client) send(ctx context.Context, method, path string, query url.Values, in, out any, repeatable bool) error {
	u := *c.baseURL
	u.Path = c.baseURL.Path + apiPath + path
	u.RawQuery = query.Encode()
	shown := u.Path
	if u.RawQuery != "" {
		shown += "?" + u.RawQuery
	}
	for attempt := 1; ; attempt++ {
		e := c.attempt(ctx, method, &u, shown, in, out)
		if e == nil {
			return nil
		}
		e.redact(c.token)
		e.Attempts = attempt
		if !e.transient || !retryable(repeatable, e) || attempt >= c.retry.MaxAttempts || ctx.Err() != nil {
			return e
		}
		wait := c.retry.delay(attempt, e)
		ctxzap.Extract(ctx).Warn("mattermost: retrying after a transient failure",
			zap.String("call", method+" "+shown), zap.Int("attempt", attempt),
			zap.Duration("wait", wait), zap.String("error", e.Error()))
		select {
		case <-ctx.Done():
			return e
		case <-time.After(wait):
		}
	}
}

// retryable says whether a transient failure may be retried: a 429 was not
// processed, so any call may be repeated; other failures may have been
// applied, so only calls that are safe to repeat are.
func retryable(repeatable bool, e *Error) bool {
	return e.StatusCode == http.StatusTooManyRequests || repeatable
}

func (c *Client) attempt(ctx context.Context, method string, u *url.URL, shown string, in, out any) *Error {
	opts := []uhttp.RequestOption{uhttp.WithBearerToken(c.token), uhttp.WithAcceptJSONHeader(), uhttp.WithNoCache()}
	if in != nil {
		opts = append(opts, uhttp.WithJSONBody(in))
	}
	req, err := c.http.NewRequest(ctx, method, u, opts...)
	if err != nil {
		return &Error{Method: method, Path: shown, Err: err}
	}
	resp, err := c.http.Do(req)
	if resp != nil {
		// uhttp has already read the body into memory; closing is for form's sake.
		defer resp.Body.Close()
	}
	if resp == nil {
		// No answer: connection refused or reset, TLS failure, timeout.
		return &Error{Method: method, Path: shown, Err: unwrapURLError(err), transient: isTransientNetworkError(ctx, err)}
	}
	body := bufferedBody(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newHTTPError(method, shown, resp, body)
	}
	if err != nil {
		// The status was fine but the body could not be read to its end.
		return &Error{Method: method, Path: shown, StatusCode: resp.StatusCode, Err: fmt.Errorf("reading the answer: %w", err), transient: true}
	}
	if out == nil {
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); !uhttp.IsJSONContentType(ct) {
		return &Error{Method: method, Path: shown, StatusCode: resp.StatusCode, ContentType: ct,
			BodySnippet: snippet(body), Err: errNotJSON, RequestID: resp.Header.Get("X-Request-Id")}
	}
	if err := jsonUnmarshal(body, out); err != nil {
		// A body cut short by a proxy decodes as malformed JSON: worth another try.
		return &Error{Method: method, Path: shown, StatusCode: resp.StatusCode, Err: fmt.Errorf("decoding the answer: %w", err),
			RequestID: resp.Header.Get("X-Request-Id"), transient: true}
	}
	return nil
}

// bufferedBody returns the body uhttp already read into memory.
func bufferedBody(resp *http.Response) []byte {
	if resp.Body == nil {
		return nil
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return buf.Bytes()
}

func jsonUnmarshal(body []byte, out any) error {
	return json.Unmarshal(body, out)
}

// unwrapURLError drops net/http's `Get "url":` prefix: the caller names the call.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// isTransientNetworkError tells a dropped or refused connection (worth another
// try) from a TLS or DNS failure, which another try will not fix.
func isTransientNetworkError(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return false
	}
	msg := err.Error()
	if strings.Contains(msg, "no such host") || strings.Contains(msg, "redirect") || strings.Contains(msg, "tls:") {
		return false
	}
	return true
}

// parseRetryAfter reads a Retry-After header given in seconds.
func parseRetryAfter(v string) (time.Duration, bool) {
	s, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || s < 0 {
		return 0, false
	}
	return time.Duration(s) * time.Second, true
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
