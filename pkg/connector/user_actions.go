package connector

import (
	"context"
	"fmt"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	config "github.com/conductorone/baton-sdk/pb/c1/config/v1"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/actions"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
)

// Account lifecycle actions on users. Deactivation is how an account is
// deprovisioned: permanent deletion is not offered, because it erases the
// user's posts and the audit trail with them, and Mattermost only allows it
// through the API when EnableAPIUserDeletion is switched on.
const (
	actionDisableUser    = "disable_user"
	actionEnableUser     = "enable_user"
	actionRevokeSessions = "revoke_sessions"

	argUserID = "user_id"

	// Fields of a lifecycle action's result, besides those of every action (actions.go).
	resultUserID          = "user_id"
	resultStatus          = "status"
	resultSessionsRevoked = "sessions_revoked"
)

var _ connectorbuilder.ResourceActionProvider = (*userSyncer)(nil)

func userIDArgument(verb string) *config.Field {
	return idArgument(argUserID, "User", "The Mattermost user to "+verb+": a user resource, or the user's 26-character id.",
		userResourceType)
}

// lifecycleReturnTypes are the result fields every lifecycle action returns.
func lifecycleReturnTypes(extra ...*config.Field) []*config.Field {
	return append([]*config.Field{
		returnField(resultSuccess, "Success", "The user is in the state the action asked for.", boolKind),
		returnField(resultChanged, "Changed", "The action changed something; false when there was nothing to do.", boolKind),
		returnField(resultMessage, "Message", "What was done, or why nothing was.", stringKind),
		returnField(resultUserID, "User ID", "The Mattermost user id.", stringKind),
		returnField(resultStatus, "Status", "The account's status afterwards: enabled or disabled.", stringKind),
	}, extra...)
}

// ResourceActions registers the lifecycle actions on the user type
// (--invoke-action-resource-type user).
func (s *userSyncer) ResourceActions(ctx context.Context, registry actions.ActionRegistry) error {
	return s.registerLifecycleActions(ctx, registry)
}

// registerLifecycleActions registers disable_user, enable_user and
// revoke_sessions.
func (s *userSyncer) registerLifecycleActions(ctx context.Context, registry actions.ActionRegistry) error {
	return registerActions(ctx, registry, []action{
		{actionDisableUser, "Disable user",
			"Deactivate the Mattermost account: the user is signed out everywhere and can no longer sign in, " +
				"and their personal access tokens stop working; bots are disabled. Team and channel memberships and posts are kept. " +
				"LDAP accounts must be deactivated in the directory. The connector's own account is refused.",
			v2.ActionType_ACTION_TYPE_ACCOUNT_DISABLE, userIDArgument("deactivate"), lifecycleReturnTypes(), switching(s.setActive, false)},
		{actionEnableUser, "Enable user",
			"Re-activate a deactivated Mattermost account (or disabled bot), with the memberships it had.",
			v2.ActionType_ACTION_TYPE_ACCOUNT_ENABLE, userIDArgument("re-activate"), lifecycleReturnTypes(), switching(s.setActive, true)},
		{actionRevokeSessions, "Revoke sessions",
			"Sign the user out of every session (web, desktop, mobile) without deactivating the account. " +
				"Personal access tokens stay valid; disable the user, or revoke or disable the tokens (revoke_token, disable_token), to stop them.",
			v2.ActionType_ACTION_TYPE_DYNAMIC, userIDArgument("sign out"),
			lifecycleReturnTypes(returnField(resultSessionsRevoked, "Sessions revoked", "How many sessions were signed out.", intKind)),
			s.revokeSessions},
	})
}

// actionUser reads the user_id argument and fetches that user.
func (s *userSyncer) actionUser(ctx context.Context, args *structpb.Struct) (*mattermost.User, error) {
	id, err := idArg(args, argUserID, userResourceType)
	if err != nil {
		return nil, err
	}
	return loadUser(ctx, s.client, id)
}

func statusWord(active bool) string {
	if active {
		return "enabled"
	}
	return "disabled"
}

func lifecycleResult(u *mattermost.User, active, changed bool, message string, extra ...actions.ReturnField) *structpb.Struct {
	return actions.NewReturnValues(true, append([]actions.ReturnField{
		actions.NewBoolReturnField(resultChanged, changed),
		actions.NewStringReturnField(resultMessage, message),
		actions.NewStringReturnField(resultUserID, u.ID),
		actions.NewStringReturnField(resultStatus, statusWord(active)),
	}, extra...)...)
}

// setActive deactivates or re-activates a user; doing it twice is not an error.
func (s *userSyncer) setActive(ctx context.Context, args *structpb.Struct, active bool) (*structpb.Struct, annotations.Annotations, error) {
	u, err := s.actionUser(ctx, args)
	if err != nil {
		return nil, nil, err
	}
	who := describeUser(u)
	if u.IsActive() == active {
		return lifecycleResult(u, active, false, fmt.Sprintf("%s is already %s; nothing to do", who, statusWord(active))), nil, nil
	}
	if u.IsRemote() {
		return nil, nil, refuseRemote(u)
	}
	if !active {
		me, err := s.client.GetMe(ctx)
		if err != nil {
			return nil, nil, err
		}
		if me.ID == u.ID {
			return nil, nil, refusal(codes.FailedPrecondition,
				"refusing to deactivate %s: it is the account of the connector's own api-token, "+
					"and deactivating it would lock the connector out of Mattermost", who)
		}
	}

	if u.IsBot {
		err = s.client.SetBotActive(ctx, u.ID, active)
	} else {
		err = s.client.SetUserActive(ctx, u.ID, active)
	}
	if err != nil {
		return nil, nil, explainActivationError(who, active, err)
	}

	var msg string
	switch {
	case active:
		msg = fmt.Sprintf("re-activated %s with the team and channel memberships it had", who)
	case u.IsBot:
		msg = fmt.Sprintf("disabled %s: its tokens stop working", who)
	default:
		msg = fmt.Sprintf("deactivated %s: signed out everywhere, can no longer sign in, personal access tokens stop working; "+
			"team and channel memberships and posts are kept", who)
	}
	ctxzap.Extract(ctx).Info("baton-mattermost: "+msg, zap.String("user_id", u.ID))
	return lifecycleResult(u, active, true, msg), nil, nil
}

// explainActivationError turns the server's refusals into what to do instead.
func explainActivationError(who string, active bool, err error) error {
	switch {
	case mattermost.HasID(err, mattermost.IDManagedByLDAP):
		inLDAP := "disable or remove the user in the directory"
		if active {
			inLDAP = "re-enable the user in the directory"
		}
		return refusal(codes.FailedPrecondition,
			"%s signs in through LDAP, and Mattermost takes the status of LDAP accounts from the directory: "+
				"%s and let the AD/LDAP synchronization update the account "+
				"(System Console > Authentication > AD/LDAP > Synchronize Now)%s", who, inLDAP, because(err))
	case mattermost.HasID(err, mattermost.IDGuestsDisabled):
		return refusal(codes.FailedPrecondition,
			"%s is a guest, and guest accounts are switched off on this server: enable guest access "+
				"(System Console > Authentication > Guest Access) before re-activating guests%s", who, because(err))
	case mattermost.HasID(err, mattermost.IDActivateUserLimit, mattermost.IDActivateSeatLimit):
		return refuseUserLimit("re-activate "+who, err)
	}
	return err
}

// revokeSessions signs a user out of all their sessions.
func (s *userSyncer) revokeSessions(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
	u, err := s.actionUser(ctx, args)
	if err != nil {
		return nil, nil, err
	}
	who := describeUser(u)
	sessions, err := s.client.ListSessions(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(sessions) == 0 {
		return lifecycleResult(u, u.IsActive(), false, who+" has no sessions; nothing to revoke",
			actions.NewNumberReturnField(resultSessionsRevoked, 0)), nil, nil
	}
	if err := s.client.RevokeAllSessions(ctx, u.ID); err != nil {
		return nil, nil, err
	}
	tokens := 0
	for i := range sessions {
		if sessions[i].IsAccessToken() {
			tokens++
		}
	}
	msg := fmt.Sprintf("signed %s out of %d session(s)", who, len(sessions))
	if tokens > 0 {
		msg += fmt.Sprintf("; %d of them came from personal access tokens, which stay valid (disable_user, or revoke_token or disable_token per token, stops them)", tokens)
	}
	ctxzap.Extract(ctx).Info("baton-mattermost: "+msg, zap.String("user_id", u.ID))
	return lifecycleResult(u, u.IsActive(), true, msg, actions.NewNumberReturnField(resultSessionsRevoked, float64(len(sessions)))), nil, nil
}
