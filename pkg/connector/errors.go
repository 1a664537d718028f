package connector

import (
	"context"
	"errors"
	"net/http"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// grpcError gives an error the gRPC code baton-sdk acts on: the CLI's exit
// code, and whether the SDK tries again. It is the one place where the
// client's typed errors get their codes; every method the SDK calls passes
// its error through it (see sdkResult). Errors that already carry a code
// (the connector's own refusals) keep it.
//
// The policy: baton-sdk's syncer retries Unavailable and DeadlineExceeded
// without limit, so a failure the client already retried within its policy
// must not carry those codes, or a persistently failing server would keep the
// run looping forever:
//   - a 429 that outlived the client's patience is ResourceExhausted, with
//     the server's rate limit attached for the SDK;
//   - another transient failure that outlived its retries, and a list that
//     cannot be read consistently, are Aborted;
//   - no usable answer (TLS, an unknown host, a refused redirect, a proxy's
//     page, an endless body) is FailedPrecondition: the configuration or the
//     path to the server must change. Never NotFound, which the SDK would
//     skip as a warning, leaving a c1z that looks complete;
//   - Mattermost's own errors follow their HTTP status (401 Unauthenticated,
//     403 PermissionDenied, 404 NotFound, ...).
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	var coded interface{ GRPCStatus() *status.Status }
	if errors.As(err, &coded) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.Error(status.FromContextError(err).Code(), err.Error())
	}
	var (
		rateLimited *mattermost.RateLimitError
		transient   *mattermost.TransientError
		listErr     *mattermost.ListError
		apiErr      *mattermost.APIError
		notMM       *mattermost.NotMattermostError
		redirect    *mattermost.RedirectError
		tlsErr      *mattermost.TLSError
		netErr      *mattermost.NetworkError
		tooLarge    *mattermost.ResponseTooLargeError
	)
	switch {
	case errors.As(err, &rateLimited):
		return rateLimitStatus(err, rateLimited)
	case errors.As(err, &transient), errors.As(err, &listErr):
		return status.Error(codes.Aborted, err.Error())
	case errors.As(err, &notMM), errors.As(err, &redirect), errors.As(err, &tlsErr), errors.As(err, &netErr),
		errors.As(err, &tooLarge):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.As(err, &apiErr):
		return status.Error(codeForHTTPStatus(apiErr.StatusCode), err.Error())
	case errors.Is(err, mattermost.ErrBadPathSegment):
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

// httpStatusCodes are the codes of Mattermost's error answers by HTTP
// status; others are FailedPrecondition. 5xx answers reach grpcError only
// after their retries (and 501 never changes), so none is Unavailable.
var httpStatusCodes = map[int]codes.Code{
	http.StatusBadRequest:     codes.InvalidArgument,
	http.StatusUnauthorized:   codes.Unauthenticated,
	http.StatusForbidden:      codes.PermissionDenied,
	http.StatusNotFound:       codes.NotFound,
	http.StatusConflict:       codes.AlreadyExists,
	http.StatusNotImplemented: codes.Unimplemented,
}

func codeForHTTPStatus(httpStatus int) codes.Code {
	if code, ok := httpStatusCodes[httpStatus]; ok {
		return code
	}
	if httpStatus >= 500 {
		return codes.Aborted
	}
	return codes.FailedPrecondition
}

// rateLimitStatus is ResourceExhausted with the server's limit attached as
// the SDK's rate-limit description.
func rateLimitStatus(err error, rl *mattermost.RateLimitError) error {
	st := status.New(codes.ResourceExhausted, err.Error())
	desc := v2.RateLimitDescription_builder{
		Status:    v2.RateLimitDescription_STATUS_OVERLIMIT,
		Limit:     rl.Limit,
		Remaining: rl.Remaining,
	}
	if !rl.ResetAt.IsZero() {
		desc.ResetAt = timestamppb.New(rl.ResetAt)
	}
	if withDetails, detailErr := st.WithDetails(desc.Build()); detailErr == nil {
		st = withDetails
	}
	return st.Err()
}

// sdkResult passes a result on to the SDK with its error coded by grpcError:
// the public methods of the syncers are `return sdkResult(s.list(...))`.
func sdkResult[A, B any](a A, b B, err error) (A, B, error) {
	return a, b, grpcError(err)
}

// sdkResult1 is sdkResult for methods with one result before the error.
func sdkResult1[A any](a A, err error) (A, error) {
	return a, grpcError(err)
}

// sdkResult3 is sdkResult for methods with three results before the error.
func sdkResult3[A, B, C any](a A, b B, c C, err error) (A, B, C, error) {
	return a, b, c, grpcError(err)
}
