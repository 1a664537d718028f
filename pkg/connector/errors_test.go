package connector

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The one place where the client's typed errors get their gRPC codes: none of
// them may be Unavailable or DeadlineExceeded (the SDK retries those without
// limit), except a context's own deadline.
func TestGRPCErrorCodes(t *testing.T) {
	call := mattermost.Call{Method: "GET", Path: "/api/v4/users"}
	api := func(code int, id string) *mattermost.APIError {
		return &mattermost.APIError{Call: call, StatusCode: code, ID: mattermost.ErrorID(id)}
	}
	cases := []struct {
		name string
		err  error
		want codes.Code
	}{
		{"401", api(401, mmfake.IDSessionExpired), codes.Unauthenticated},
		{"403", api(403, mmfake.IDPermissions), codes.PermissionDenied},
		{"404", api(404, mmfake.IDMissingAccount), codes.NotFound},
		{"400", api(400, "api.context.invalid_url_param.app_error"), codes.InvalidArgument},
		{"409", api(409, "x"), codes.AlreadyExists},
		{"501 licence", api(501, mmfake.IDLicenseRequired), codes.Unimplemented},
		{"5xx retried out", &mattermost.TransientError{Call: call, Attempts: 6, Err: api(503, "")}, codes.Aborted},
		{"write not repeated", &mattermost.TransientError{Call: call, Attempts: 1, MayHaveApplied: true, Err: errors.New("reset")}, codes.Aborted},
		{"list changing", &mattermost.ListError{Call: call, Reason: "changed"}, codes.Aborted},
		{"rate limited", &mattermost.RateLimitError{Call: call, Waited: time.Minute}, codes.ResourceExhausted},
		{"proxy page", &mattermost.NotMattermostError{Call: call, StatusCode: 404, ContentType: "text/html"}, codes.FailedPrecondition},
		{"redirect", &mattermost.RedirectError{Call: call, Reason: "elsewhere"}, codes.FailedPrecondition},
		{"tls", &mattermost.TLSError{Call: call, Certificate: true, Err: errors.New("x509")}, codes.FailedPrecondition},
		{"dns", &mattermost.NetworkError{Call: call, Err: errors.New("no such host")}, codes.FailedPrecondition},
		{"endless body", &mattermost.ResponseTooLargeError{Call: call, Limit: mattermost.MaxBodyBytes}, codes.FailedPrecondition},
		{"bad id", fmt.Errorf("x: %w", mattermost.ErrBadPathSegment), codes.InvalidArgument},
		{"wrapped", fmt.Errorf("reading user: %w", api(404, mmfake.IDMissingAccount)), codes.NotFound},
		{"refusal keeps its code", refusal(codes.FailedPrecondition, "no"), codes.FailedPrecondition},
		{"cancelled", fmt.Errorf("%s: %w", call, context.Canceled), codes.Canceled},
		{"other", errors.New("boom"), codes.Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := grpcError(tc.err)
			if got := status.Code(err); got != tc.want {
				t.Errorf("code %v, want %v (%v)", got, tc.want, err)
			}
			if msg := status.Convert(err).Message(); msg != tc.err.Error() && tc.name != "refusal keeps its code" {
				t.Errorf("message %q, want the error's own %q", msg, tc.err.Error())
			}
		})
	}
	if grpcError(nil) != nil {
		t.Error("nil must stay nil")
	}
}

func TestRateLimitCarriesTheServersLimit(t *testing.T) {
	reset := time.Now().Add(30 * time.Second).Truncate(time.Second)
	err := grpcError(&mattermost.RateLimitError{Call: mattermost.Call{Method: "GET", Path: "/api/v4/users"},
		Limit: 101, Remaining: 0, ResetAt: reset})
	st := status.Convert(err)
	var desc *v2.RateLimitDescription
	for _, d := range st.Details() {
		if rl, ok := d.(*v2.RateLimitDescription); ok {
			desc = rl
		}
	}
	if desc == nil {
		t.Fatalf("no rate limit description in %v", st.Details())
	}
	if desc.GetLimit() != 101 || desc.GetStatus() != v2.RateLimitDescription_STATUS_OVERLIMIT || !desc.GetResetAt().AsTime().Equal(reset) {
		t.Errorf("description %v", desc)
	}
}
