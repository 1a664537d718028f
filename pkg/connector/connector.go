// Package connector maps a Mattermost server onto baton's access graph:
// resource types, their syncers, and provisioning beside each syncer.
package connector

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/baton-mattermost/baton-mattermost/pkg/config"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/uhttp"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Options are the sync choices taken from the configuration.
type Options struct {
	IncludeArchivedTeams bool
	SyncPublicChannels   bool
	SkipLastLogin        bool
	// SyncResourceTypes are the resource types --sync-resource-types asked
	// for; empty means all. Work done for one type on behalf of another (the
	// groups linked to a team) is skipped when the other type is not synced.
	SyncResourceTypes []string
}

// willSync reports whether resource type id is synced.
func (o Options) willSync(id string) bool {
	return len(o.SyncResourceTypes) == 0 || slices.Contains(o.SyncResourceTypes, id)
}

// Connector is baton-mattermost's connector builder.
type Connector struct {
	client *mattermost.Client
	opts   Options
}

var _ connectorbuilder.ConnectorBuilderV2 = (*Connector)(nil)

// New builds the connector from the configuration. It makes no request:
// Validate checks the server and the token before every task.
func New(ctx context.Context, cfg *config.Mattermost, cliOpts *cli.ConnectorOpts) (connectorbuilder.ConnectorBuilderV2, []connectorbuilder.Opt, error) {
	hc, err := httpClient(ctx, cfg.CABundle)
	if err != nil {
		return nil, nil, status.Error(codes.InvalidArgument, err.Error())
	}
	client, err := mattermost.New(mattermost.Config{
		BaseURL:           cfg.BaseURL,
		AllowHTTP:         cfg.AllowHTTP,
		Token:             cfg.APIToken,
		HTTPClient:        hc,
		RequestsPerSecond: cfg.RequestsPerSecond,
		OnRetry:           logRetry,
	})
	if err != nil {
		return nil, nil, status.Error(codes.InvalidArgument, err.Error())
	}
	opts := Options{
		IncludeArchivedTeams: cfg.IncludeArchivedTeams,
		SyncPublicChannels:   cfg.SyncPublicChannels,
		SkipLastLogin:        cfg.SkipLastLogin,
	}
	if cliOpts != nil && cliOpts.SyncFilterIsExplicit() {
		opts.SyncResourceTypes = cliOpts.SyncResourceTypeIDs
	}
	return NewWithClient(client, opts), nil, nil
}

// httpClient is the client's transport, built by baton-sdk's uhttp for its
// request logging, user agent, proxy settings and the SDK's HTTP timeout,
// trusting the extra CAs of caBundle if set. Not uhttp's BaseHttpClient: it
// copies every 200 answer to a GET into an in-memory response cache, and a
// sync reads each page once.
func httpClient(ctx context.Context, caBundle string) (*http.Client, error) {
	opts := []uhttp.Option{uhttp.WithLogger(true, ctxzap.Extract(ctx)), uhttp.WithUserAgent("baton-mattermost")}
	if caBundle != "" {
		tlsCfg, err := mattermost.TLSConfigWithCABundle(caBundle)
		if err != nil {
			return nil, err
		}
		opts = append(opts, uhttp.WithTLSClientConfig(tlsCfg))
	}
	hc, err := uhttp.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the HTTP client: %w", err)
	}
	return hc, nil
}

// logRetry logs a failed try that the client tries again.
func logRetry(ctx context.Context, r mattermost.Retry) {
	ctxzap.Extract(ctx).Warn("baton-mattermost: retrying after a transient failure",
		zap.String("call", r.Method+" "+r.Path), zap.Int("try", r.Try), zap.Duration("wait", r.Wait), zap.Error(r.Err))
}

// NewWithClient builds the connector around an existing client (tests).
func NewWithClient(client *mattermost.Client, opts Options) *Connector {
	return &Connector{client: client, opts: opts}
}

// Metadata describes the connector to C1.
func (c *Connector) Metadata(_ context.Context) (*v2.ConnectorMetadata, error) {
	return v2.ConnectorMetadata_builder{
		DisplayName: "Mattermost",
		Description: "Users, teams, channels, system roles and API tokens of a Mattermost server, with provisioning",
		// The form C1 shows to create an account (see user_provisioning.go).
		AccountCreationSchema: accountCreationSchema(),
	}.Build(), nil
}

// Validate runs before every sync and provisioning task: the token must be
// accepted and belong to a System Admin, or the sync would silently miss
// private teams and memberships and look complete.
func (c *Connector) Validate(ctx context.Context) (annotations.Annotations, error) {
	me, err := c.client.GetMe(ctx)
	if err != nil {
		return nil, explainValidationError(c.client.BaseURL(), err)
	}
	if !me.HasRole(mattermost.RoleSystemAdmin) {
		return nil, status.Errorf(codes.PermissionDenied,
			"the api-token belongs to %q, who is not a System Admin: baton-mattermost needs the token of a System Admin "+
				"(permission manage_system), because without it Mattermost hides private teams, their memberships and "+
				"users' e-mail and authentication data; use a System Admin's personal access token or a bot with the system_admin role",
			me.Username)
	}
	return nil, nil
}

// explainValidationError turns the first call's failure into what to fix.
// The gRPC code is grpcError's unless a case below says otherwise; none is
// Unavailable, which the SDK would answer by repeating Validate and all of
// the client's retries five more times.
func explainValidationError(baseURL string, err error) error {
	var (
		apiErr    *mattermost.APIError
		notMM     *mattermost.NotMattermostError
		redirect  *mattermost.RedirectError
		tlsErr    *mattermost.TLSError
		netErr    *mattermost.NetworkError
		transient *mattermost.TransientError
	)
	code := status.Code(grpcError(err))
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized:
		return status.Errorf(codes.Unauthenticated,
			"the api-token was rejected by the Mattermost server at %s: it is wrong, revoked, or its owner is deactivated; "+
				"create a new personal access token or bot token (%v)", baseURL, err)
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden:
		return status.Errorf(codes.PermissionDenied,
			"the Mattermost server at %s refused the api-token's access to /api/v4/users/me: baton-mattermost needs a "+
				"System Admin token (permission manage_system) (%v)", baseURL, err)
	case errors.As(err, &redirect):
		return status.Errorf(code, "the server at %s redirects elsewhere: set base-url to the address it redirects to (%v)", baseURL, err)
	case errors.As(err, &tlsErr) && tlsErr.Certificate:
		return status.Errorf(code,
			"the TLS certificate of the Mattermost server at %s is not trusted: if it is issued by an internal certificate "+
				"authority, set ca-bundle to a PEM file holding that authority's certificate (verification cannot be switched off) (%v)",
			baseURL, err)
	case errors.As(err, &transient) && !errors.As(err, &apiErr) && !errors.As(err, &notMM),
		errors.As(err, &tlsErr), errors.As(err, &netErr):
		return status.Errorf(code, "cannot reach the Mattermost server at %s: check base-url and the network (%v)", baseURL, err)
	case errors.As(err, &transient):
		return status.Errorf(code,
			"the Mattermost server at %s (or a proxy in front of it) kept failing; try again later (%v)", baseURL, err)
	case errors.As(err, &notMM), errors.As(err, &apiErr) && apiErr.ID == "":
		return status.Errorf(codes.FailedPrecondition,
			"%s does not look like a Mattermost server: /api/v4/users/me did not answer with Mattermost's JSON; "+
				"set base-url to the server's root URL, the one you open in a browser (%v)", baseURL, err)
	}
	return status.Errorf(code, "checking the Mattermost server at %s: %v", baseURL, err)
}

// ResourceSyncers lists one syncer per resource type. It is also called on a
// zero Connector to list capabilities, so it must not use the client.
func (c *Connector) ResourceSyncers(_ context.Context) []connectorbuilder.ResourceSyncerV2 {
	return []connectorbuilder.ResourceSyncerV2{
		newUserSyncer(c.client, c.opts),
		newTeamSyncer(c.client, c.opts),
		newChannelSyncer(c.client, c.opts),
		newRoleSyncer(c.client),
		newGroupSyncer(c.client),
		newTokenSyncer(c.client),
	}
}
