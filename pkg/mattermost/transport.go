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
)

// maxCABundleBytes bounds a ca-bundle file: a bundle of every public root
// CA is ~250 KB.
const maxCABundleBytes = 4 << 20

// TLSConfigWithCABundle trusts the system roots plus the PEM bundle at path,
// which must be a regular file of at most 4 MiB (a FIFO or a device would
// hang or fill memory). It only ever adds trust: certificate verification is
// never switched off.
func TLSConfigWithCABundle(path string) (*tls.Config, error) {
	// Non-blocking, so that opening a FIFO returns at once and fails the check below.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0) // #nosec G304 -- the operator's own ca-bundle option
	if err != nil {
		return nil, fmt.Errorf("ca-bundle: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("ca-bundle: %w", err)
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("ca-bundle %s is not a regular file: give the path of a PEM file", path)
	case info.Size() > maxCABundleBytes:
		return nil, fmt.Errorf("ca-bundle %s is %d MiB, more than a certificate bundle can be (%d MiB at most)", path, info.Size()>>20, maxCABundleBytes>>20)
	}
	pem, err := io.ReadAll(io.LimitReader(f, maxCABundleBytes))
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
// host, so the token is never sent anywhere else (net/http would forward the
// Authorization header to the same host on another port or scheme), and only
// when it keeps the method, so a POST is never silently turned into a GET.
func sameOriginRedirects(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		refuse := func(reason string) error {
			return &RedirectError{Base: base.String(), Target: serverText(redactURL(req.URL), ""), Reason: reason}
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

// transportFailure classifies a request that got no answer.
func transportFailure(call Call, err error) *failure {
	cause := transportCause(err)
	switch {
	case IsCertificateError(err):
		return &failure{err: &TLSError{Call: call, Certificate: true, Err: cause}}
	case isTLSError(err):
		return &failure{err: &TLSError{Call: call, Err: cause}}
	case isHostNotFound(err):
		return &failure{err: &NetworkError{Call: call, Err: cause}}
	}
	var op *net.OpError
	return &failure{err: cause, transient: true, notSent: errors.As(err, &op) && op.Op == "dial"}
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
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
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
