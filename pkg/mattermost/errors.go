package mattermost

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/ratelimit"
	"github.com/conductorone/baton-sdk/pkg/uhttp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a failed Mattermost API call. It keeps what an operator needs to
// find the call in the server's logs (the request id) and what the code needs
// to branch on (the Mattermost error id), and never the token.
type Error struct {
	Method string
	Path   string // path and query of the request, e.g. /api/v4/users?page=2&per_page=200

	// StatusCode is the HTTP status; 0 when no answer arrived (Err is then set).
	StatusCode int
	// ID, Message, DetailedError and RequestID come from Mattermost's AppError body.
	ID            string
	Message       string
	DetailedError string
	RequestID     string
	// ContentType is set when the server answered something other than JSON.
	ContentType string
	// BodySnippet is the start of a non-JSON body, to tell a proxy's page from Mattermost.
	BodySnippet string

	// Err is the transport or decoding error, if any.
	Err error
	// Attempts is how many times the call was tried.
	Attempts int

	// transient marks failures worth retrying (429, 408, 5xx, resets, timeouts, truncated bodies).
	transient bool
	// notSent marks a request that never left (connection refused): safe to repeat for any method.
	notSent bool
	// retryAfter is the server's requested wait (Retry-After, else X-Ratelimit-Reset for a 429).
	retryAfter time.Duration
	rateLimit  *v2.RateLimitDescription
	// rateLimitWaited is how long the call waited out 429s before giving up.
	rateLimitWaited time.Duration
	// rateLimitExhausted marks a 429 that outlived the retry policy's patience.
	rateLimitExhausted bool
	// ctxErr is set when the caller's context ended the call.
	ctxErr error
}

// redact removes the token from everything the server or the transport said:
// Mattermost echoes it in detailed_error ("token=…") when developer mode is
// on, and a misconfigured proxy may echo request headers in its error page.
func (e *Error) redact(token string) {
	if token == "" {
		return
	}
	for _, s := range []*string{&e.ID, &e.Message, &e.DetailedError, &e.BodySnippet, &e.Path, &e.RequestID, &e.ContentType} {
		*s = strings.ReplaceAll(*s, token, redacted)
	}
	if e.Err != nil && strings.Contains(e.Err.Error(), token) {
		e.Err = errors.New(strings.ReplaceAll(e.Err.Error(), token, redacted))
	}
}

// appError is the JSON body Mattermost sends with errors (model.AppError).
type appError struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id"`
	StatusCode    int    `json:"status_code"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mattermost: %s %s", e.Method, e.Path)
	switch {
	case e.StatusCode == 0 && e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	case e.StatusCode != 0:
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
		if e.ID != "" {
			fmt.Fprintf(&b, " %s", e.ID)
		}
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
		if e.DetailedError != "" {
			fmt.Fprintf(&b, " (%s)", e.DetailedError)
		}
		if e.ContentType != "" {
			fmt.Fprintf(&b, ": answered %q instead of Mattermost's JSON", e.ContentType)
			if e.BodySnippet != "" {
				fmt.Fprintf(&b, " (body starts %q)", e.BodySnippet)
			}
		}
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request_id %s]", e.RequestID)
	}
	if e.rateLimitExhausted {
		fmt.Fprintf(&b, " (still rate limited after waiting %s", e.rateLimitWaited.Round(time.Second))
		if e.retryAfter > 0 {
			fmt.Fprintf(&b, "; the server asks to wait %s more", e.retryAfter.Round(time.Second))
		}
		b.WriteString(": lower requests-per-second or raise the server's rate limit)")
	} else if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// GRPCStatus gives the error the gRPC code baton-sdk acts on: the CLI's exit
// code, and whether the SDK retries. baton-sdk's syncer retries Unavailable
// and DeadlineExceeded without limit, so a failure the client already
// retried within its policy must not carry those codes, or a persistently
// failing server would keep the run looping forever:
//   - a 429 that outlived RateLimitPatience is ResourceExhausted (with the
//     server's rate limit description attached);
//   - another transient failure that outlived MaxAttempts is Aborted;
//   - no answer and nothing to retry (TLS, DNS, a refused redirect) is
//     FailedPrecondition: the configuration must change;
//   - an error answer that is not Mattermost's (a proxy's page) is
//     FailedPrecondition, never NotFound, which the SDK would skip as a
//     warning, leaving a c1z that looks complete;
//   - Mattermost's own errors follow their HTTP status (401 Unauthenticated,
//     403 PermissionDenied, 404 NotFound, ...).
func (e *Error) GRPCStatus() *status.Status {
	code := codes.Unknown
	switch {
	case e.ctxErr != nil:
		code = status.FromContextError(e.ctxErr).Code()
	case e.StatusCode == http.StatusTooManyRequests:
		code = codes.ResourceExhausted
	case e.transient:
		code = codes.Aborted
	case e.StatusCode == 0 && e.Err != nil, errors.Is(e.Err, errNotJSON):
		code = codes.FailedPrecondition
	case e.StatusCode == http.StatusUnauthorized, e.StatusCode == http.StatusForbidden, e.ID != "":
		code = uhttp.GrpcCodeFromHTTPStatus(e.StatusCode)
	case e.StatusCode != 0:
		code = codes.FailedPrecondition
	}
	st := status.New(code, e.Error())
	if e.rateLimit != nil {
		if withDetails, err := st.WithDetails(e.rateLimit); err == nil {
			st = withDetails
		}
	}
	return st
}

// HasID reports whether err is a Mattermost error with the given error id.
func HasID(err error, id string) bool {
	var e *Error
	return errors.As(err, &e) && e.ID == id
}

// StatusCode returns the HTTP status of a failed call, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

var errNotJSON = errors.New("not a Mattermost API answer")

// newHTTPError builds the error for a non-2xx answer.
func newHTTPError(method, path string, resp *http.Response, body []byte) *Error {
	e := &Error{Method: method, Path: path, StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	ct := resp.Header.Get("Content-Type")
	var ae appError
	switch {
	case uhttp.IsJSONContentType(ct) && json.Unmarshal(body, &ae) == nil:
		e.ID, e.Message, e.DetailedError = ae.ID, ae.Message, ae.DetailedError
		if ae.RequestID != "" {
			e.RequestID = ae.RequestID
		}
	case resp.StatusCode == http.StatusTooManyRequests:
		// Mattermost's own limiter answers 429 with text/plain "limit exceeded".
		e.Message = snippet(body)
	default:
		e.ContentType = ct
		e.BodySnippet = snippet(body)
	}
	now := time.Now()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.transient = true
		// Retry-After says when the next request is allowed; Mattermost's
		// X-Ratelimit-Reset says when the whole burst is back, a longer wait.
		d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now)
		if !ok {
			d, _ = parseRateLimitReset(resp.Header.Get("X-Ratelimit-Reset"), now)
		}
		e.retryAfter = d
		if rl, err := ratelimit.ExtractRateLimitData(resp.StatusCode, &resp.Header); err == nil && rl != nil {
			e.rateLimit = rl
		}
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		// 501 is Mattermost's "api endpoint requires a license": it will not change on a retry.
		e.transient = true
		e.retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return e
}

// maxHeaderWait bounds waits read from headers, so absurd values cannot overflow.
const maxHeaderWait = 24 * time.Hour

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return min(time.Duration(min(s, int64(maxHeaderWait/time.Second)))*time.Second, maxHeaderWait), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxHeaderWait), true
	}
	return 0, false
}

// parseRateLimitReset reads X-Ratelimit-Reset: seconds from now (Mattermost),
// or, from some proxies, a Unix time in seconds.
func parseRateLimitReset(v string, now time.Time) (time.Duration, bool) {
	s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || s < 0 {
		return 0, false
	}
	if s > 1_000_000_000 {
		return min(max(time.Unix(s, 0).Sub(now), 0), maxHeaderWait), true
	}
	return min(time.Duration(s)*time.Second, maxHeaderWait), true
}

// redacted is what replaces the token wherever a server echoed it back.
const redacted = "[REDACTED]"

// snippet returns the start of a body, on one line, for error messages.
func snippet(body []byte) string {
	const maxLen = 120
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "\ufffd")), " ")
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") + "…"
	}
	return s
}
