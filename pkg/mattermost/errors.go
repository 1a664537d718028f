package mattermost

import (
	"errors"
	"fmt"
	"net/http"
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

	// transient marks failures worth retrying (429, 5xx, resets, truncated bodies).
	transient bool
	// retryAfter is the server's requested wait (Retry-After / X-Ratelimit-Reset).
	retryAfter time.Duration
	rateLimit  *v2.RateLimitDescription
}

// redact removes the token from everything the server or the transport said:
// Mattermost echoes it in detailed_error ("token=…") when developer mode is on.
func (e *Error) redact(token string) {
	const mask = "[REDACTED]"
	for _, s := range []*string{&e.ID, &e.Message, &e.DetailedError, &e.BodySnippet, &e.Path} {
		*s = strings.ReplaceAll(*s, token, mask)
	}
	if e.Err != nil && strings.Contains(e.Err.Error(), token) {
		e.Err = errors.New(strings.ReplaceAll(e.Err.Error(), token, mask))
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
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// GRPCStatus gives the error the gRPC code baton-sdk acts on: the exit code of
// the CLI, and whether the SDK retries. A 429 stays Unavailable with the rate
// limit description so the SDK waits for the reset and tries again; other
// transient failures that outlived the client's own retries become Aborted,
// so that a persistently failing server ends the run instead of looping.
func (e *Error) GRPCStatus() *status.Status {
	code := codes.Unknown
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		code = codes.Unavailable
	case e.transient:
		code = codes.Aborted
	case errors.Is(e.Err, errNotJSON):
		code = codes.FailedPrecondition
	case e.StatusCode != 0:
		code = uhttp.GrpcCodeFromHTTPStatus(e.StatusCode)
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
	case uhttp.IsJSONContentType(ct) && jsonUnmarshal(body, &ae) == nil:
		e.ID, e.Message, e.DetailedError = ae.ID, ae.Message, ae.DetailedError
		if ae.RequestID != "" {
			e.RequestID = ae.RequestID
		}
	case resp.StatusCode == http.StatusTooManyRequests:
		// Mattermost's own limiter answers 429 with text/plain "limit exceeded".
		e.Message = strings.TrimSpace(snippet(body))
	default:
		e.ContentType = ct
		e.BodySnippet = snippet(body)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.transient = true
		if rl, err := ratelimit.ExtractRateLimitData(resp.StatusCode, &resp.Header); err == nil {
			e.rateLimit = rl
			if reset := rl.GetResetAt(); reset != nil {
				e.retryAfter = time.Until(reset.AsTime())
			}
		}
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		// 501 is Mattermost's "api endpoint requires a license": it will not change on a retry.
		e.transient = true
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After")); ok {
			e.retryAfter = d
		}
	}
	return e
}

// snippet returns the start of a body, on one line, for error messages.
func snippet(body []byte) string {
	const max = 120
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
