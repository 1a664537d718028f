// Package mattermost is a small client for the Mattermost REST API v4: the
// calls baton-mattermost needs, typed, with paging, errors, retries and rate
// limits handled in one place. It knows nothing about baton or gRPC: failures
// are the typed errors of errors.go, and the caller decides what they mean.
package mattermost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Config says how to reach one Mattermost server.
type Config struct {
	// BaseURL is the server URL as the operator typed it (see NormalizeBaseURL).
	BaseURL string
	// AllowHTTP permits an http:// base URL on a host other than loopback,
	// where the token would cross the network in clear text.
	AllowHTTP bool
	// Token is a personal access token or bot token, sent as a Bearer token.
	Token string
	// HTTPClient sends the requests (its transport, timeout, TLS settings and
	// user agent are the caller's); nil means a plain client with a 5-minute
	// timeout. Its redirect policy is replaced by one that never sends the
	// token to another scheme or host.
	HTTPClient *http.Client
	// RequestsPerSecond caps the request rate client-side; 0 means no cap.
	RequestsPerSecond int
	// Retry bounds the client's own retries of transient failures.
	Retry RetryPolicy
	// OnRetry, when set, hears of every try that failed and will be tried
	// again, e.g. to log it.
	OnRetry func(ctx context.Context, r Retry)
}

// Retry describes a failed try that is about to be tried again.
type Retry struct {
	Call
	Try  int           // the try that failed, from 1
	Wait time.Duration // the pause before the next try
	Err  error         // why it failed
}

// MaxBodyBytes bounds every answer's body: far above a real page (a page of
// 200 users is ~200 KB), low enough that an endless body cannot fill memory.
const MaxBodyBytes int64 = 32 << 20

// Client calls one Mattermost server's REST API v4.
type Client struct {
	http    *http.Client
	baseURL *url.URL // server root, e.g. https://chat.example.com/mattermost
	token   string
	retry   RetryPolicy
	onRetry func(context.Context, Retry)
	limiter *rate.Limiter // nil: no client-side cap
}

// New checks the configuration and builds a client. It makes no request.
func New(cfg Config) (*Client, error) {
	base, err := NormalizeBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := checkCleartext(base, cfg.AllowHTTP); err != nil {
		return nil, err
	}
	token, err := NormalizeToken(cfg.Token)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 5 * time.Minute}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	hc.CheckRedirect = sameOriginRedirects(base)
	c := &Client{http: hc, baseURL: base, token: token, retry: cfg.Retry.withDefaults(), onRetry: cfg.OnRetry}
	if cfg.RequestsPerSecond > 0 {
		// A burst of one: after an idle moment (the SDK storing a page) the
		// requests still go out evenly spaced, never back to back over the
		// very limit this option exists to respect. Every try, retries
		// included, takes a slot.
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), 1)
	}
	return c, nil
}

// BaseURL returns the normalised server URL (never holds credentials).
func (c *Client) BaseURL() string { return c.baseURL.String() }

// endpoint is a request path below /api/v4, built from path segments that are
// escaped exactly once.
type endpoint struct {
	path    string // unescaped, e.g. /teams/ab/members
	escaped string // as sent
	err     error
}

// ErrBadPathSegment is returned, before any request, for an id that cannot
// be a path segment (empty, "." or ".."): it would address another endpoint.
var ErrBadPathSegment = errors.New("not a valid id for a request path")

// path joins segments into an endpoint, e.g. path("teams", id, "members").
func path(segments ...string) endpoint {
	var ep endpoint
	for _, s := range segments {
		if s == "" || s == "." || s == ".." {
			ep.err = fmt.Errorf("mattermost: %q is %w", s, ErrBadPathSegment)
			return ep
		}
		ep.path += "/" + s
		ep.escaped += "/" + url.PathEscape(s)
	}
	return ep
}

func (c *Client) get(ctx context.Context, ep endpoint, query url.Values, out any) error {
	return c.send(ctx, http.MethodGet, ep, query, nil, out, true)
}

// readByPost sends a POST that only reads (such as /teams/{id}/members/ids,
// which takes its ids in the body), so it may be repeated like a GET.
func (c *Client) readByPost(ctx context.Context, ep endpoint, in, out any) error {
	return c.send(ctx, http.MethodPost, ep, nil, in, out, true)
}

// write sends a call that changes data. It is tried again only when a try
// certainly did not reach the server; otherwise its failure is a
// *TransientError with MayHaveApplied set, and the caller reads the state.
func (c *Client) write(ctx context.Context, method string, ep endpoint, in, out any) error {
	return c.send(ctx, method, ep, nil, in, out, false)
}

// send makes the call, retrying within the retry policy; repeatable says
// whether it may be repeated after a failure the server may have acted on.
func (c *Client) send(ctx context.Context, method string, ep endpoint, query url.Values, in, out any, repeatable bool) error {
	if ep.err != nil {
		return ep.err
	}
	call, u := c.request(method, ep, query)
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s: encoding the request: %w", call, err)
		}
	}
	budget := retries{policy: c.retry, repeatable: repeatable}
	for {
		f := c.attempt(ctx, call, u.String(), body, out)
		if f == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", call, ctx.Err())
		}
		wait, err := budget.next(call, f)
		if err != nil {
			return err
		}
		if c.onRetry != nil {
			c.onRetry(ctx, Retry{Call: call, Try: budget.tries, Wait: wait, Err: f.err})
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", call, err)
		}
	}
}

// request is the URL of a call, and the Call that names it in errors.
func (c *Client) request(method string, ep endpoint, query url.Values) (Call, *url.URL) {
	u := *c.baseURL
	u.Path = c.baseURL.Path + apiPath + ep.path
	u.RawPath = c.baseURL.EscapedPath() + apiPath + ep.escaped
	u.RawQuery = query.Encode()
	call := Call{Method: method, Path: u.EscapedPath()}
	if u.RawQuery != "" {
		call.Path += "?" + u.RawQuery
	}
	call.Path = serverText(call.Path, c.token)
	return call, &u
}

// sleep waits d, or less if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// attempt sends one try; nil means it succeeded and out holds the answer.
func (c *Client) attempt(ctx context.Context, call Call, target string, body []byte, out any) *failure {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, target, rd)
	if err != nil {
		return &failure{err: fmt.Errorf("%s: %w", call, err)}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			// The context ended, or ends before the next slot.
			return &failure{err: fmt.Errorf("%s: no request slot before the call's deadline (requests-per-second): %w",
				call, context.DeadlineExceeded)}
		}
	}
	resp, err := c.http.Do(req) // #nosec G704 -- the configured server only; sameOriginRedirects checks redirects
	if resp != nil {
		defer resp.Body.Close()
	}
	var redirect *RedirectError
	switch {
	case errors.As(err, &redirect):
		// net/http hands back the redirect answer itself with our refusal; the refusal is the news.
		redirect.Call = call
		return &failure{err: redirect}
	case resp == nil:
		// No answer: connection refused or reset, timeout, TLS or DNS failure.
		return transportFailure(call, err)
	}
	requestID := serverText(resp.Header.Get("X-Request-Id"), c.token)
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	switch {
	case int64(len(data)) > MaxBodyBytes:
		return &failure{err: &ResponseTooLargeError{Call: call, Limit: MaxBodyBytes}}
	case err != nil && bodyReadFailed(err):
		// The answer was cut short (a proxy or the server dropped the
		// connection mid-body): whatever the status, we do not know what
		// the server said, and another try may get the whole answer.
		return &failure{err: fmt.Errorf("HTTP %d, the answer was cut short: %w", resp.StatusCode, transportCause(err)), transient: true}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return c.errorAnswer(call, resp, data, requestID)
	case out == nil:
		return nil
	case !isJSON(resp.Header.Get("Content-Type")):
		return &failure{err: &NotMattermostError{Call: call, StatusCode: resp.StatusCode,
			ContentType: serverText(resp.Header.Get("Content-Type"), c.token), BodyStart: serverText(string(data), c.token), RequestID: requestID}}
	}
	if err := decodeJSON(data, out); err != nil {
		// A body cut short by a proxy decodes as malformed JSON: worth another try.
		return &failure{err: fmt.Errorf("decoding the answer: %s", serverText(err.Error(), c.token)), transient: true}
	}
	return nil
}

// appError is the JSON body Mattermost sends with errors (model.AppError).
type appError struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id"`
}

// errorAnswer classifies a non-2xx answer.
func (c *Client) errorAnswer(call Call, resp *http.Response, body []byte, requestID string) *failure {
	now := time.Now()
	var ae appError
	// Mattermost names every error it answers with an id; JSON without one is someone else's.
	isAppError := isJSON(resp.Header.Get("Content-Type")) && json.Unmarshal(body, &ae) == nil && ae.ID != ""
	if resp.StatusCode == http.StatusTooManyRequests {
		// Mattermost's own limiter answers 429 with text/plain "limit exceeded".
		msg := ae.Message
		if !isAppError {
			msg = string(body)
		}
		return rateLimitFailure(call, resp.Header, serverText(msg, c.token), now)
	}
	var err error
	if isAppError {
		if ae.RequestID != "" {
			requestID = serverText(ae.RequestID, c.token)
		}
		err = &APIError{Call: call, StatusCode: resp.StatusCode, ID: ErrorID(serverText(ae.ID, c.token)),
			Message: serverText(ae.Message, c.token), DetailedError: serverText(ae.DetailedError, c.token), RequestID: requestID}
	} else {
		err = &NotMattermostError{Call: call, StatusCode: resp.StatusCode, ContentType: serverText(resp.Header.Get("Content-Type"), c.token),
			BodyStart: serverText(string(body), c.token), RequestID: requestID}
	}
	f := &failure{err: err}
	// 501 is Mattermost's "api endpoint requires a license": it will not change on a retry.
	if resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		f.transient = true
		f.retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return f
}

// isJSON reports whether a Content-Type is JSON (application/json, or a +json type).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
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
