package connector

import (
	"context"
	"fmt"
	"regexp"

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

	// Fields of every action's result.
	resultSuccess         = "success"
	resultChanged         = "changed"
	resultMessage         = "message"
	resultUserID          = "user_id"
	resultStatus          = "status"
	resultSessionsRevoked = "sessions_revoked"
)

var (
	_ connectorbuilder.ResourceActionProvider = (*userSyncer)(nil)
	_ connectorbuilder.GlobalActionProvider   = (*Connector)(nil)
)

// mattermostID is the shape of Mattermost's ids (26 lower-case letters and digits).
var mattermostID = regexp.MustCompile(`^[a-z0-9]{26}$`)

func userIDArgument(verb string) *config.Field {
	return config.Field_builder{
		Name:        argUserID,
		DisplayName: "User",
		Description: "The Mattermost user to " + verb + ": a user resource, or the user's 26-character id.",
		IsRequired:  true,
		ResourceIdField: config.ResourceIdField_builder{
			Rules: config.ResourceIDRules_builder{AllowedResourceTypeIds: []string{userResourceType.GetId()}}.Build(),
		}.Build(),
	}.Build()
}

func returnField(name, display, desc string, kind func(*config.Field_builder)) *config.Field {
	b := config.Field_builder{Name: name, DisplayName: display, Description: desc}
	kind(&b)
	return b.Build()
}

func boolKind(b *config.Field_builder)   { b.BoolField = &config.BoolField{} }
func stringKind(b *config.Field_builder) { b.StringField = &config.StringField{} }
func intKind(b *config.Field_builder)    { b.IntField = &config.IntField{} }

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

// GlobalActions registers the same actions with no resource type, which is how
// ConductorOne invokes account lifecycle actions: by name, with only
// {"user_id": ...}. baton-sdk keeps global and per-type actions apart, so both
// forms work. The handlers use the client only when invoked, never here:
// capabilities builds a zero Connector, whose client is nil.
func (c *Connector) GlobalActions(ctx context.Context, registry actions.ActionRegistry) error {
	return (&userSyncer{client: c.client}).registerLifecycleActions(ctx, registry)
}

// registerLifecycleActions registers disable_user, enable_user and
// revoke_sessions. The schemas are built afresh on every call, because the
// SDK stamps the resource type into the schema it is given.
func (s *userSyncer) registerLifecycleActions(ctx context.Context, registry actions.ActionRegistry) error {
	for _, a := range []struct {
		name, display, description, verb string
		actionType                       v2.ActionType
		extraResults                     []*config.Field
		run                              actions.ActionHandler
	}{
		{actionDisableUser, "Disable user",
			"Deactivate the Mattermost account: the user is signed out everywhere and can no longer sign in, " +
				"and their personal access tokens stop working; bots are disabled. Team and channel memberships and posts are kept. " +
				"LDAP accounts must be deactivated in the directory. The connector's own account is refused.",
			"deactivate", v2.ActionType_ACTION_TYPE_ACCOUNT_DISABLE, nil,
			func(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
				return s.setActive(ctx, args, false)
			}},
		{actionEnableUser, "Enable user",
			"Re-activate a deactivated Mattermost account (or disabled bot), with the memberships it had.",
			"re-activate", v2.ActionType_ACTION_TYPE_ACCOUNT_ENABLE, nil,
			func(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
				return s.setActive(ctx, args, true)
			}},
		{actionRevokeSessions, "Revoke sessions",
			"Sign the user out of every session (web, desktop, mobile) without deactivating the account. " +
				"Personal access tokens stay valid; disable the user to stop them.",
			"sign out", v2.ActionType_ACTION_TYPE_DYNAMIC,
			[]*config.Field{returnField(resultSessionsRevoked, "Sessions revoked", "How many sessions were signed out.", intKind)},
			s.revokeSessions},
	} {
		schema := v2.BatonActionSchema_builder{
			Name:        a.name,
			DisplayName: a.display,
			Description: a.description,
			Arguments:   []*config.Field{userIDArgument(a.verb)},
			ReturnTypes: lifecycleReturnTypes(a.extraResults...),
			ActionType:  []v2.ActionType{a.actionType},
		}.Build()
		handler := func(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
			return sdkResult(a.run(ctx, args))
		}
		if err := registry.Register(ctx, schema, handler); err != nil {
			return fmt.Errorf("registering action %s: %w", a.name, err)
		}
	}
	return nil
}

// actionUser reads the user_id argument (a user resource id, or the id as
// text) and fetches that user.
func (s *userSyncer) actionUser(ctx context.Context, args *structpb.Struct) (*mattermost.User, error) {
	rid, ok := actions.GetResourceIDArg(args, argUserID)
	if !ok {
		id, _ := actions.GetStringArg(args, argUserID)
		rid = v2.ResourceId_builder{ResourceType: userResourceType.GetId(), Resource: id}.Build()
	}
	if rid.GetResourceType() != userResourceType.GetId() {
		return nil, refusal(codes.InvalidArgument, "%s must be a user, not %s %q", argUserID, rid.GetResourceType(), rid.GetResource())
	}
	id := rid.GetResource()
	if !mattermostID.MatchString(id) {
		return nil, refusal(codes.InvalidArgument,
			"%s must be a Mattermost user id (26 lower-case letters and digits), got %q", argUserID, id)
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
		msg += fmt.Sprintf("; %d of them came from personal access tokens, which stay valid (disable_user stops them)", tokens)
	}
	ctxzap.Extract(ctx).Info("baton-mattermost: "+msg, zap.String("user_id", u.ID))
	return lifecycleResult(u, u.IsActive(), true, msg, actions.NewNumberReturnField(resultSessionsRevoked, float64(len(sessions)))), nil, nil
}
