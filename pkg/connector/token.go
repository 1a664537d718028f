package connector

import (
	"context"
	"fmt"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// API tokens: personal access tokens and bot tokens (the same object in
// Mattermost; a bot token is one whose owner is a bot). Each acts as its
// owner with no password, SSO or MFA, and never expires, so each is synced
// as a secret whose identity is the owner's user resource: C1 sees which
// account, System Admins included, a token acts as. Mattermost never hands a
// token back after its creation; only its id and description are read.
//
// Requests: the server's paged token list (GET /users/tokens, 200 a page,
// no request per user), one read of the owners of each page (POST
// /users/ids), and one read of the client configuration a sync, to know
// whether personal access tokens are switched on.

type tokenSyncer struct {
	client *mattermost.Client
}

func newTokenSyncer(client *mattermost.Client) *tokenSyncer { return &tokenSyncer{client: client} }

func (s *tokenSyncer) ResourceType(_ context.Context) *v2.ResourceType { return tokenResourceType }

// tokenPageToken is the token list's page token.
type tokenPageToken struct {
	Tokens mattermost.Cursor `json:"t"`
	// PersonalTokensOff is set when the first page found personal access
	// tokens switched off on the server, so later pages know it too.
	PersonalTokensOff bool `json:"off,omitempty"`
}

// List returns every token of the server, one page of 200 a call; a token
// that cannot be used (disabled, its owner deactivated, or personal access
// tokens switched off) is DISABLED, with the reason.
func (s *tokenSyncer) List(ctx context.Context, _ *v2.ResourceId, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	return sdkResult(s.list(ctx, attrs))
}

func (s *tokenSyncer) list(ctx context.Context, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	var tok tokenPageToken
	if err := parsePageToken(attrs.PageToken, &tok); err != nil {
		return nil, nil, err
	}
	if attrs.PageToken.Token == "" {
		on, err := s.client.AccessTokensEnabled(ctx)
		if err != nil {
			return nil, nil, err
		}
		if !on {
			tok.PersonalTokensOff = true
			ctxzap.Extract(ctx).Info("baton-mattermost: personal access tokens are switched off on this server " +
				"(System Console > Integrations > Integration Management > Enable Personal Access Tokens): " +
				"people's tokens are synced as unusable; bot tokens keep working")
		}
	}
	page, err := s.client.ListAccessTokens(ctx, tok.Tokens)
	if err != nil {
		return nil, nil, err
	}
	owners, err := s.owners(ctx, page.Items)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Resource, 0, len(page.Items))
	for i := range page.Items {
		t := &page.Items[i]
		r, err := tokenResource(t, owners[t.UserID], tok.PersonalTokensOff)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	var next *tokenPageToken
	if page.Next != nil {
		next = &tokenPageToken{Tokens: *page.Next, PersonalTokensOff: tok.PersonalTokensOff}
	}
	res, err := nextPage(next)
	return out, res, err
}

// owners reads the owners of a page of tokens, in one request, by user id.
func (s *tokenSyncer) owners(ctx context.Context, tokens []mattermost.AccessToken) (map[string]*mattermost.User, error) {
	out := map[string]*mattermost.User{}
	var ids []string
	for _, t := range tokens {
		if _, seen := out[t.UserID]; !seen {
			out[t.UserID] = nil
			ids = append(ids, t.UserID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	users, err := s.client.GetUsersByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("reading the owners of %d tokens: %w", len(tokens), err)
	}
	for i := range users {
		out[users[i].ID] = &users[i]
	}
	return out, nil
}

// Get returns one token for a targeted sync (targeted.go): the token, its
// owner, and, for a person's usable token, whether personal access tokens
// are switched on.
func (s *tokenSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	if s.client.IsOwnToken(id.GetResource()) {
		// Not named: the id is the connector's secret.
		return nil, nil, status.Error(codes.InvalidArgument, "cannot sync that token: the id given is the connector's own "+
			"api-token itself, not a token id (`go tool baton resources -t token` lists the ids)")
	}
	r, err := s.get(ctx, id)
	return targetResult(id, r, err)
}

func (s *tokenSyncer) get(ctx context.Context, id *v2.ResourceId) (*v2.Resource, error) {
	if err := checkTargetID(id); err != nil {
		return nil, err
	}
	t, owner, err := tokenWithOwner(ctx, s.client, id.GetResource())
	if err != nil {
		return nil, err
	}
	off := false
	if t.IsActive {
		if off, err = personalTokensOff(ctx, s.client, owner); err != nil {
			return nil, err
		}
	}
	return tokenResource(t, owner, off)
}

// tokenWithOwner reads one token (a 404 when there is none) and its owner,
// nil when the server no longer has the account.
func tokenWithOwner(ctx context.Context, client *mattermost.Client, id string) (*mattermost.AccessToken, *mattermost.User, error) {
	t, err := client.GetAccessToken(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	owner, err := client.GetUser(ctx, t.UserID)
	if mattermost.IsNotFound(err) {
		return t, nil, nil
	}
	return t, owner, err
}

// personalTokensOff reads whether personal access tokens are switched off,
// when it matters: for the token of an active person (one request).
func personalTokensOff(ctx context.Context, client *mattermost.Client, owner *mattermost.User) (bool, error) {
	if owner == nil || !owner.IsActive() || owner.IsBot {
		return false, nil
	}
	on, err := client.AccessTokensEnabled(ctx)
	return !on, err
}

func (s *tokenSyncer) Entitlements(_ context.Context, _ *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, nil, nil
}

func (s *tokenSyncer) Grants(_ context.Context, _ *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, nil, nil
}

// tokenKind names a token by its owner: a bot's token or a person's.
func tokenKind(owner *mattermost.User) string {
	if owner != nil && owner.IsBot {
		return "bot token"
	}
	return "personal access token"
}

// describeOwner names a token's owner; owner is nil when the server no longer has the account.
func describeOwner(owner *mattermost.User, userID string) string {
	if owner == nil {
		return fmt.Sprintf("user %s (no longer on the server)", userID)
	}
	return describeUser(owner)
}

// describeToken names a token in messages: its description, id and owner.
func describeToken(t *mattermost.AccessToken, owner *mattermost.User) string {
	return fmt.Sprintf("%s %q (%s) of %s", tokenKind(owner), t.Description, t.ID, describeOwner(owner, t.UserID))
}

// tokenDescription says whom a token acts as, System Admin bots included
// (describeUser names them as bots).
func tokenDescription(owner *mattermost.User, userID string) string {
	kind := "Personal access token"
	admin := ""
	if owner != nil && owner.IsBot {
		kind = "Bot token"
		if owner.HasRole(mattermost.RoleSystemAdmin) {
			admin = ", a System Admin"
		}
	}
	return fmt.Sprintf("%s of %s%s: acts as that account with no password, SSO or MFA, and never expires",
		kind, describeOwner(owner, userID), admin)
}

// unusable says why a token fails when used, "" when it works.
func unusable(t *mattermost.AccessToken, owner *mattermost.User, personalTokensOff bool) string {
	switch {
	case !t.IsActive:
		return "the token is disabled"
	case owner == nil:
		return "its owner is no longer on the server"
	case !owner.IsActive():
		return fmt.Sprintf("its owner %s is deactivated; the token works again if the account is re-activated", describeUser(owner))
	case personalTokensOff && !owner.IsBot:
		return "personal access tokens are switched off on this server (ServiceSettings.EnableUserAccessTokens)"
	}
	return ""
}

// tokenResource maps a token and its owner (nil when the server no longer has
// the account) onto a secret whose identity is the owner's user resource.
func tokenResource(t *mattermost.AccessToken, owner *mattermost.User, personalTokensOff bool) (*v2.Resource, error) {
	why := unusable(t, owner, personalTokensOff)
	profile := map[string]interface{}{
		"token_id":  t.ID,
		"user_id":   t.UserID,
		"kind":      tokenKind(owner),
		"is_active": t.IsActive,
		"usable":    why == "",
	}
	if why != "" {
		profile["unusable_reason"] = why
	}
	if owner != nil {
		profile["owner_username"] = owner.Username
		profile["owner_is_bot"] = owner.IsBot
		profile["owner_active"] = owner.IsActive()
		profile["owner_roles"] = owner.Roles
	}
	detail := "mattermost_personal_access_token"
	if owner != nil && owner.IsBot {
		detail = "mattermost_bot_token"
	}
	status, statusDetail := v2.Status_RESOURCE_STATUS_ENABLED, "active"
	if why != "" {
		status, statusDetail = v2.Status_RESOURCE_STATUS_DISABLED, "unusable: "+why
	}
	name := t.Description
	if name == "" {
		name = t.ID
	}
	identity := v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: t.UserID}.Build()
	return resource.NewSecretResource(name, tokenResourceType, t.ID,
		[]resource.SecretTraitOption{
			resource.WithSecretIdentityID(identity),
			resource.WithSecretType(v2.SecretTrait_CREDENTIAL_TYPE_STATIC_SECRET),
			resource.WithSecretDetail(detail),
		},
		resource.WithResourceStatus(status, statusDetail),
		resource.WithResourceProfile(profile),
		resource.WithDescription(tokenDescription(owner, t.UserID)),
	)
}
