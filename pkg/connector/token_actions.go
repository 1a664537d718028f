package connector

import (
	"context"
	"errors"
	"fmt"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	config "github.com/conductorone/baton-sdk/pb/c1/config/v1"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/actions"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
)

// Token actions, global (no resource type) as C1 invokes actions, with
// {"token_id": ...}: revoke_token, disable_token, enable_token. Each reads
// the token fresh first: asking for the state it is already in changes
// nothing and says so. Revoking deletes the token in Mattermost, so a
// revoked token is as unknown as one that never existed (NotFound). Revoking
// is not declared as resource deletion: C1 reads CAPABILITY_RESOURCE_DELETE
// as "accounts can be deleted", which they cannot here.
const (
	actionRevokeToken  = "revoke_token"
	actionDisableToken = "disable_token"
	actionEnableToken  = "enable_token"

	argTokenID    = "token_id"
	resultTokenID = "token_id"

	tokenActive   = "active"
	tokenDisabled = "disabled"
	tokenRevoked  = "revoked"
)

type tokenActions struct {
	client *mattermost.Client
}

func tokenIDArgument(verb string) *config.Field {
	return idArgument(argTokenID, "Token", "The API token (personal access token or bot token) to "+verb+
		": a token resource, or the token's 26-character id (not the token itself).", tokenResourceType)
}

func tokenReturnTypes() []*config.Field {
	return []*config.Field{
		returnField(resultSuccess, "Success", "The token is in the state the action asked for.", boolKind),
		returnField(resultChanged, "Changed", "The action changed something; false when there was nothing to do.", boolKind),
		returnField(resultMessage, "Message", "What was done, or why nothing was.", stringKind),
		returnField(resultTokenID, "Token ID", "The token's id.", stringKind),
		returnField(resultUserID, "User ID", "The id of the user or bot the token acts as.", stringKind),
		returnField(resultStatus, "Status", "The token's state afterwards: active, disabled or revoked.", stringKind),
	}
}

func (a *tokenActions) register(ctx context.Context, registry actions.ActionRegistry) error {
	return registerActions(ctx, registry, []action{
		{actionRevokeToken, "Revoke API token",
			"Revoke a personal access token or bot token: Mattermost deletes it, and it fails from its next request on. " +
				"It cannot be undone; the owner creates a new token if one is needed. The token the connector runs with is refused.",
			v2.ActionType_ACTION_TYPE_DYNAMIC, tokenIDArgument("revoke"), tokenReturnTypes(), a.revoke},
		{actionDisableToken, "Disable API token",
			"Disable a personal access token or bot token: it fails until it is enabled again. " +
				"The token the connector runs with is refused.",
			v2.ActionType_ACTION_TYPE_RESOURCE_DISABLE, tokenIDArgument("disable"), tokenReturnTypes(), switching(a.setActive, false)},
		{actionEnableToken, "Enable API token",
			"Enable a disabled personal access token or bot token. It still fails while its owner is deactivated, " +
				"or, for a person's token, while personal access tokens are switched off on the server.",
			v2.ActionType_ACTION_TYPE_RESOURCE_ENABLE, tokenIDArgument("enable"), tokenReturnTypes(), switching(a.setActive, true)},
	})
}

// refuseUnknownToken: there is no token with this id (revoking deletes tokens).
func refuseUnknownToken(id string, cause error) error {
	return refusal(codes.NotFound, "there is no Mattermost API token with id %s: it never existed, or it was revoked "+
		"(revoking deletes a token); run a sync to see the server's tokens%s", id, because(cause))
}

// actionToken reads the token_id argument and fetches the token and its
// owner (nil when the server no longer has the account).
func (a *tokenActions) actionToken(ctx context.Context, args *structpb.Struct) (*mattermost.AccessToken, *mattermost.User, error) {
	id, err := idArg(args, argTokenID, tokenResourceType)
	if err != nil {
		return nil, nil, err
	}
	if a.client.IsOwnToken(id) {
		return nil, nil, refusal(codes.InvalidArgument, "%s is the connector's own api-token itself, not a token id: "+
			"give the token's id (`go tool baton resources -t token` lists them after a sync)", argTokenID)
	}
	t, owner, err := tokenWithOwner(ctx, a.client, id)
	if mattermost.IsNotFound(err) {
		return nil, nil, refuseUnknownToken(id, nil)
	}
	return t, owner, err
}

func tokenResult(t *mattermost.AccessToken, state string, changed bool, message string) *structpb.Struct {
	return actions.NewReturnValues(true,
		actions.NewBoolReturnField(resultChanged, changed),
		actions.NewStringReturnField(resultMessage, message),
		actions.NewStringReturnField(resultTokenID, t.ID),
		actions.NewStringReturnField(resultUserID, t.UserID),
		actions.NewStringReturnField(resultStatus, state),
	)
}

// changedToken logs a change and returns its result.
func changedToken(ctx context.Context, t *mattermost.AccessToken, state, message string) *structpb.Struct {
	ctxzap.Extract(ctx).Info("baton-mattermost: "+message, zap.String("token_id", t.ID), zap.String("user_id", t.UserID))
	return tokenResult(t, state, true, message)
}

// revoke deletes a token.
func (a *tokenActions) revoke(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
	t, owner, err := a.actionToken(ctx, args)
	if err != nil {
		return nil, nil, err
	}
	who := describeToken(t, owner)
	if err := a.refuseOwnToken(ctx, t, owner, "revoke"); err != nil {
		return nil, nil, err
	}
	err = a.client.RevokeAccessToken(ctx, t.ID)
	switch {
	case mattermost.IsNotFound(err):
		return tokenResult(t, tokenRevoked, false, who+" was revoked by someone else meanwhile; nothing to do"), nil, nil
	case err != nil && !a.confirmed(ctx, t.ID, err, func(now *mattermost.AccessToken) bool { return now == nil }):
		return nil, nil, err
	}
	return changedToken(ctx, t, tokenRevoked, fmt.Sprintf("revoked %s: Mattermost deleted it, and it fails from its next request on", who)), nil, nil
}

// setActive disables or enables a token; doing it twice is not an error.
func (a *tokenActions) setActive(ctx context.Context, args *structpb.Struct, active bool) (*structpb.Struct, annotations.Annotations, error) {
	t, owner, err := a.actionToken(ctx, args)
	if err != nil {
		return nil, nil, err
	}
	who := describeToken(t, owner)
	state := tokenDisabled
	if active {
		state = tokenActive
	}
	if t.IsActive == active {
		return tokenResult(t, state, false, fmt.Sprintf("%s is already %s; nothing to do", who, state)), nil, nil
	}
	if !active {
		if err := a.refuseOwnToken(ctx, t, owner, "disable"); err != nil {
			return nil, nil, err
		}
	}
	err = a.client.SetAccessTokenActive(ctx, t.ID, active)
	switch {
	case mattermost.IsNotFound(err):
		return nil, nil, refuseUnknownToken(t.ID, err)
	case err != nil && !a.confirmed(ctx, t.ID, err, func(now *mattermost.AccessToken) bool { return now != nil && now.IsActive == active }):
		return nil, nil, err
	}
	if !active {
		return changedToken(ctx, t, state, fmt.Sprintf("disabled %s: it fails until it is enabled again", who)), nil, nil
	}
	enabled := *t
	enabled.IsActive = true
	off, err := personalTokensOff(ctx, a.client, owner)
	if err != nil {
		return nil, nil, fmt.Errorf("enabled %s, but could not read whether personal access tokens are switched on: %w", who, err)
	}
	msg := fmt.Sprintf("enabled %s: it works again", who)
	if why := unusable(&enabled, owner, off); why != "" {
		msg = fmt.Sprintf("enabled %s, but it still fails: %s", who, why)
	}
	return changedToken(ctx, t, state, msg), nil, nil
}

// confirmed reads the token again after a write failed in a way the server
// may have applied it: true when the token is now as the write asked (want
// gets nil for a token that is gone), so the write took effect.
func (a *tokenActions) confirmed(ctx context.Context, id string, err error, want func(*mattermost.AccessToken) bool) bool {
	var transient *mattermost.TransientError
	if !errors.As(err, &transient) {
		return false
	}
	now, getErr := a.client.GetAccessToken(ctx, id)
	if mattermost.IsNotFound(getErr) {
		return want(nil)
	}
	return getErr == nil && want(now)
}

// refuseOwnToken refuses to revoke or disable the token the connector runs
// with: the connector would lock itself out. Mattermost does not tell which
// token a request came with, but the session a token opens records the
// token's id (props user_access_token_id), and such a session lasts as long
// as the token. So a token of the connector's own account with a session is
// taken as the connector's: certainly so when it is the only one, possibly
// when the account has several tokens in use.
func (a *tokenActions) refuseOwnToken(ctx context.Context, t *mattermost.AccessToken, owner *mattermost.User, verb string) error {
	me, err := a.client.GetMe(ctx)
	if err != nil {
		return err
	}
	if t.UserID != me.ID {
		return nil
	}
	sessions, err := a.client.ListSessions(ctx, me.ID)
	if err != nil {
		return err
	}
	inUse := map[string]bool{}
	for i := range sessions {
		if id := sessions[i].AccessTokenID(); id != "" {
			inUse[id] = true
		}
	}
	who := describeToken(t, owner)
	switch {
	case !inUse[t.ID]:
		return nil
	case len(inUse) == 1:
		return refusal(codes.FailedPrecondition, "refusing to %s %s: it is the api-token the connector runs with, "+
			"and it would lock the connector out of Mattermost; to replace it, create a new token, configure the connector "+
			"with it, then %s this one", verb, who, verb)
	}
	return refusal(codes.FailedPrecondition, "refusing to %s %s: it may be the api-token the connector runs with: it belongs "+
		"to the connector's own account, which has %d tokens in use, and Mattermost does not tell which one the connector's "+
		"requests come with; %s it in Mattermost (Profile > Security > Personal Access Tokens, or System Console > "+
		"Integrations > Bot Accounts for a bot), or with a connector that runs with another account's token", verb, who, len(inUse), verb)
}
