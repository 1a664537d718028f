package mattermost

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// tlsConfigWithCABundle trusts the system roots plus the PEM bundle at path.
// It only ever adds trust: certificate verification is never switched off.
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

// RedirectError is a redirect the client refused to follow.
type RedirectError struct {
	Base   string // the configured server URL
	Target string // where the server redirected to, without user info or query
	Reason string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused to follow the server's redirect to %s: %s (base-url is %s)", e.Target, e.Reason, e.Base)
}

// sameOriginRedirects follows a redirect only to the configured scheme and
// host, so the token is never sent anywhere else (net/http would forward the
// Authorization header to the same host on another port or scheme), and only
// when it keeps the method, so a POST is never silently turned into a GET.
func sameOriginRedirects(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		refuse := func(reason string) error {
			return &RedirectError{Base: base.String(), Target: redactURL(req.URL), Reason: reason}
		}
		switch {
		case len(via) >= 5:
			return refuse("stopped after 5 redirects")
		case req.URL.Scheme != base.Scheme || !strings.EqualFold(req.URL.Host, base.Host):
			return refuse("the token is only sent to the configured scheme and host; if the server moved, set base-url to its new address")
		case len(via) > 0 && req.Method != via[0].Method:
			return refuse(fmt.Sprintf("it would turn the %s into a %s", via[0].Method, req.Method))
		}
		return nil
	}
}

// errTimeout replaces net/http's long-winded timeout errors.
var errTimeout = errors.New("no answer within the HTTP timeout (http-timeout-seconds)")

// transportError builds the error for a request that got no answer.
func transportError(ctx context.Context, method, shown string, err error) *Error {
	e := &Error{Method: method, Path: shown, Err: transportCause(err)}
	if ctx.Err() != nil {
		e.ctxErr = ctx.Err()
		return e
	}
	var op *net.OpError
	e.notSent = errors.As(err, &op) && op.Op == "dial"
	// TLS and DNS failures are configuration problems: another try will not fix them.
	e.transient = !IsCertificateError(err) && !isTLSError(err) && !isHostNotFound(err)
	return e
}

// transportCause digs the useful cause out of net/http's url.Error (which
// repeats the URL), e.g. "dial tcp 127.0.0.1:1: connect: connection refused".
func transportCause(err error) error {
	var op *net.OpError
	var certErr *tls.CertificateVerificationError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &certErr):
		return certErr
	case errors.As(err, &dnsErr):
		return dnsErr
	case errors.As(err, &op):
		return op
	case status.Code(err) == codes.DeadlineExceeded, isTimeout(err):
		return errTimeout
	case errors.Is(err, io.ErrUnexpectedEOF):
		return io.ErrUnexpectedEOF
	case errors.Is(err, io.EOF):
		return errors.New("the server closed the connection without answering")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// bodyReadFailed tells an error reading a body to its end (connection
// dropped, reset or timed out mid-answer).
func bodyReadFailed(err error) bool {
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.As(err, &ne)
}

// IsCertificateError reports whether err is a failed verification of the
// server's TLS certificate (unknown authority, wrong host name, expired),
// which the ca-bundle option fixes for internal CAs.
func IsCertificateError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalid)
}

// isTLSError reports a TLS handshake failure other than verification, e.g.
// talking TLS to a plain HTTP port.
func isTLSError(err error) bool {
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	return errors.As(err, &recErr) || errors.As(err, &alert)
}

func isHostNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}
