package mattermost

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds how a call is retried after a transient failure.
//
// Two budgets apply. A 429 (rate limited) was not processed, and the server
// says when to come back, so it is waited out as often as needed, as long as
// the waits of one call stay within RateLimitPatience; then the call fails
// with a *RateLimitError. Any other transient failure (408, 5xx, a dropped
// connection, a timeout, a truncated or malformed body) is retried with
// exponential backoff until MaxAttempts tries failed; then the call fails
// with a *TransientError. A call that changes data is tried again only when
// its failed try certainly did not reach the server (refused connection, 429).
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

// failure is one failed try, as the retry policy sees it.
type failure struct {
	err error // what the call returns if it is not tried again
	// transient marks failures worth another try.
	transient bool
	// notSent marks a request that never reached the server (connection
	// refused): safe to repeat for any method.
	notSent bool
	// retryAfter is the wait the server asked for (Retry-After; for a 429
	// also X-Ratelimit-Reset).
	retryAfter time.Duration
	// rateLimit is set for a 429.
	rateLimit *RateLimitError
}

// retries is one call's retry budget.
type retries struct {
	policy      RetryPolicy
	repeatable  bool // the call only reads, so it may be repeated after any failure
	tries       int
	failures    int           // failed tries other than 429s
	rateLimited time.Duration // time spent waiting out 429s
}

// next charges a failed try to its budget and says how long to wait before
// the next one, or returns the error that ends the call.
func (r *retries) next(call Call, f *failure) (time.Duration, error) {
	r.tries++
	if !f.transient {
		return 0, f.err
	}
	if rl := f.rateLimit; rl != nil {
		// Honour the server's wait; without one, back off so a bare 429 never spins.
		wait := f.retryAfter
		if wait <= 0 {
			wait = r.policy.backoff(int(r.rateLimited/r.policy.BaseDelay) + 1)
		}
		if r.rateLimited+wait > r.policy.RateLimitPatience {
			rl.Waited, rl.RetryAfter = r.rateLimited, f.retryAfter
			return 0, rl
		}
		r.rateLimited += wait
		return wait, nil
	}
	r.failures++
	switch {
	case !f.notSent && !r.repeatable:
		return 0, &TransientError{Call: call, Attempts: r.tries, MayHaveApplied: true, Err: f.err}
	case r.failures >= r.policy.MaxAttempts:
		return 0, &TransientError{Call: call, Attempts: r.tries, Err: f.err}
	}
	wait := r.policy.backoff(r.failures)
	if f.retryAfter > wait {
		wait = min(f.retryAfter, r.policy.MaxDelay)
	}
	return wait, nil
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
		return time.Duration(min(s, int64(maxHeaderWait/time.Second))) * time.Second, true
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
	return time.Duration(min(s, int64(maxHeaderWait/time.Second))) * time.Second, true
}

// rateLimitFailure reads a 429's headers: Retry-After says when the next
// request is allowed; Mattermost's X-Ratelimit-Reset says when the whole
// burst is back, a longer wait, used only when Retry-After is missing.
func rateLimitFailure(call Call, h http.Header, message string, now time.Time) *failure {
	wait, ok := parseRetryAfter(h.Get("Retry-After"), now)
	reset, hasReset := parseRateLimitReset(h.Get("X-Ratelimit-Reset"), now)
	if !ok {
		wait = reset
	}
	rl := &RateLimitError{Call: call, Message: message}
	rl.Limit, _ = strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Limit")), 10, 64)
	rl.Remaining, _ = strconv.ParseInt(strings.TrimSpace(h.Get("X-Ratelimit-Remaining")), 10, 64)
	switch {
	case hasReset:
		rl.ResetAt = now.Add(reset)
	case wait > 0:
		rl.ResetAt = now.Add(wait)
	}
	return &failure{err: rl, transient: true, retryAfter: wait, rateLimit: rl}
}
