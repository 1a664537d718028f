package mattermost

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Errors. A failed call returns one of the types below, matched with
// errors.As the way go-github's are. Every one of them names the call
// (method, and path with query) and none ever holds the token: text the
// server sent is cut to a sane length and scrubbed of the token first.
//
//   - *APIError: Mattermost answered with its own error (an AppError body).
//   - *RateLimitError: still rate limited (429) after waiting as long as the
//     retry policy allows.
//   - *TransientError: a failure worth retrying (5xx, dropped connection,
//     timeout, a body cut short) that outlived its retries, or hit a call
//     that must not be repeated blindly.
//   - *NotMattermostError: the answer is not Mattermost's (a proxy's error
//     page, a captive portal, HTML where JSON belongs).
//   - *RedirectError: the server redirected somewhere the token must not go.
//   - *TLSError: the TLS handshake or the certificate check failed.
//   - *NetworkError: no answer, and retrying will not help (unknown host).
//   - *ResponseTooLargeError: a body larger than any real answer.
//   - *ListError: a listing that cannot be read consistently (a repeated
//     page, no end in sight, a list that keeps changing).
//
// A call ended by its context returns the context's error (wrapped), so
// errors.Is(err, context.Canceled) holds.

// Call names the request a failure belongs to.
type Call struct {
	Method string
	// Path is the request's path and query, e.g. /api/v4/users?page=2&per_page=200.
	Path string
}

func (c Call) String() string { return "mattermost: " + c.Method + " " + c.Path }

// APIError is an error answer from Mattermost itself (model.AppError).
type APIError struct {
	Call
	StatusCode int
	// ID is Mattermost's error id: what code branches on (see ids.go).
	ID ErrorID
	// Message and DetailedError are for people; RequestID finds the call in the server's log.
	Message       string
	DetailedError string
	RequestID     string
}

func (e *APIError) Error() string {
	var detail strings.Builder
	if e.ID != "" {
		fmt.Fprintf(&detail, " %s", e.ID)
	}
	if e.Message != "" {
		fmt.Fprintf(&detail, ": %s", e.Message)
	}
	if e.DetailedError != "" {
		fmt.Fprintf(&detail, " (%s)", e.DetailedError)
	}
	return answerText(e.Call, e.StatusCode, detail.String(), e.RequestID)
}

// RateLimitError is a call still answered 429 after the retry policy's
// patience was spent, or asked to wait longer than it allows.
type RateLimitError struct {
	Call
	// Waited is how long the call waited out 429 answers before giving up.
	Waited time.Duration
	// RetryAfter is the wait the server asked for last (0 when it named none).
	RetryAfter time.Duration
	// Limit and Remaining are the server's X-Ratelimit-Limit and -Remaining (0 when absent).
	Limit, Remaining int64
	// ResetAt is when the server expects the limit to allow requests again.
	ResetAt time.Time
	Message string
}

func (e *RateLimitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP 429", e.Call)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	fmt.Fprintf(&b, " (still rate limited after waiting %s", e.Waited.Round(time.Second))
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; the server asks to wait %s more", e.RetryAfter.Round(time.Second))
	}
	b.WriteString(": lower requests-per-second or raise the server's rate limit)")
	return b.String()
}

// TransientError is a failure that another try might not have had (HTTP 408
// and 5xx but 501, a dropped or refused connection, a timeout, a body cut
// short or malformed) and that was not tried again: its tries ran out, or the
// call changes data and the server may already have applied it.
type TransientError struct {
	Call
	// Attempts is how many times the call was sent.
	Attempts int
	// MayHaveApplied is set when the call changes data and its last try may
	// have reached the server: it was not repeated blindly, and the caller
	// should read the state to learn whether it took effect.
	MayHaveApplied bool
	// Err is the last try's failure: an *APIError for an HTTP error answer,
	// else what went wrong on the connection or in the body.
	Err error
}

func (e *TransientError) Error() string {
	msg := e.Err.Error()
	var apiErr *APIError
	if !errors.As(e.Err, &apiErr) {
		msg = fmt.Sprintf("%s: %s", e.Call, msg) // an *APIError names the call itself
	}
	switch {
	case e.MayHaveApplied:
		return msg + " (not repeated: the server may have applied it)"
	case e.Attempts > 1:
		return fmt.Sprintf("%s (after %d attempts)", msg, e.Attempts)
	}
	return msg
}

func (e *TransientError) Unwrap() error { return e.Err }

// NotMattermostError is an answer that is not Mattermost's: a reverse
// proxy's error page, a captive portal, a web server at the wrong URL.
type NotMattermostError struct {
	Call
	StatusCode  int
	ContentType string
	// BodyStart is the start of the body, on one line, to tell what answered.
	BodyStart string
	RequestID string
}

func (e *NotMattermostError) Error() string {
	detail := fmt.Sprintf(": answered %q instead of Mattermost's JSON", e.ContentType)
	if e.BodyStart != "" {
		detail += fmt.Sprintf(" (body starts %q)", e.BodyStart)
	}
	return answerText(e.Call, e.StatusCode, detail, e.RequestID)
}

// RedirectError is a redirect the client refused to follow.
type RedirectError struct {
	Call
	Base   string // the configured server URL
	Target string // where the server redirected to, without user info or query
	Reason string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s: refused to follow the server's redirect to %s: %s (base-url is %s)", e.Call, e.Target, e.Reason, e.Base)
}

// TLSError is a failed TLS handshake. Certificate is set when the server's
// certificate was not trusted (unknown authority, wrong host name, expired),
// which the ca-bundle option fixes for internal authorities.
type TLSError struct {
	Call
	Certificate bool
	Err         error
}

func (e *TLSError) Error() string { return fmt.Sprintf("%s: %v", e.Call, e.Err) }
func (e *TLSError) Unwrap() error { return e.Err }

// NetworkError is a request that got no answer for a reason another try
// will not fix (the host name does not resolve).
type NetworkError struct {
	Call
	Err error
}

func (e *NetworkError) Error() string { return fmt.Sprintf("%s: %v", e.Call, e.Err) }
func (e *NetworkError) Unwrap() error { return e.Err }

// ResponseTooLargeError is an answer whose body exceeds MaxBodyBytes, far
// more than any real page: a server or proxy streaming without end.
type ResponseTooLargeError struct {
	Call
	Limit int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("%s: the answer is larger than %d MiB, far more than any real Mattermost answer; stopped reading it", e.Call, e.Limit>>20)
}

// ListError is a listing that cannot be read to a trustworthy end.
type ListError struct {
	Call
	Reason string
}

func (e *ListError) Error() string { return fmt.Sprintf("%s: %s", e.Call, e.Reason) }

// HasID reports whether err is an *APIError with one of the given ids.
func HasID(err error, ids ...ErrorID) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	for _, id := range ids {
		if e.ID == id {
			return true
		}
	}
	return false
}

// StatusCode returns the HTTP status of an *APIError, or 0 for any other error.
func StatusCode(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports whether Mattermost answered 404: the object does not exist.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// answerText describes an error answer: the call, the status, what the body
// said, and the request id that finds it in the server's log.
func answerText(call Call, httpStatus int, detail, requestID string) string {
	s := fmt.Sprintf("%s: HTTP %d%s", call, httpStatus, detail)
	if requestID != "" {
		s += fmt.Sprintf(" [request_id %s]", requestID)
	}
	return s
}

// redacted is what replaces the token wherever a server echoed it back.
const redacted = "[REDACTED]"

// maxServerText bounds every piece of server-written text kept in an error.
const maxServerText = 300

// serverText makes text the server sent fit for an error message: valid
// UTF-8, on one line, at most maxServerText bytes, and without the token
// (scrubbed before cutting, so not even a part of it survives).
func serverText(s, token string) string {
	if token != "" {
		s = strings.ReplaceAll(s, token, redacted)
	}
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\ufffd")), " ")
	if len(s) > maxServerText {
		s = strings.ToValidUTF8(s[:maxServerText], "") + "…"
	}
	return s
}
