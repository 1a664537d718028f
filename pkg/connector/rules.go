package connector

import (
	"context"
	"fmt"
	"regexp"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The rules every grant, revoke and account action follows, each written once.
// A refusal names the cause and the remedy, with a code the SDK does not
// retry (FailedPrecondition, InvalidArgument, NotFound).

// refusal is a request that cannot be carried out as it stands.
func refusal(code codes.Code, format string, args ...any) error {
	return status.Errorf(code, format, args...)
}

// because is the server's answer appended to a refusal, when there was one.
func because(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf(" (%v)", err)
}

// describeUser names a user in messages: the kind of account, username and id.
func describeUser(u *mattermost.User) string {
	kind := "user"
	switch {
	case u.IsBot:
		kind = "bot"
	case u.HasRole(mattermost.RoleSystemAdmin):
		kind = "System Admin"
	}
	return fmt.Sprintf("%s %q (%s)", kind, u.Username, u.ID)
}

// principalUser returns the user id of a principal, refusing principals that
// are not users (only users hold Mattermost memberships, roles and accounts)
// and ids that are not Mattermost ids.
func principalUser(principal *v2.ResourceId, what string) (string, error) {
	if principal.GetResourceType() != userResourceType.GetId() {
		return "", refusal(codes.InvalidArgument, "the principal must be a user (only users can hold %s), not %s %s",
			what, principal.GetResourceType(), quoteID(principal.GetResource()))
	}
	return principal.GetResource(), checkID(userResourceType.GetId(), principal.GetResource())
}

// mattermostID is the shape of Mattermost's ids (model.NewId): of users,
// teams, channels, tokens.
var mattermostID = regexp.MustCompile(`^[a-z0-9]{26}$`)

func isMattermostID(id string) bool { return mattermostID.MatchString(id) }

// checkID refuses, before any request, an id from ConductorOne that is not a
// Mattermost id: sent as it is, "..", "a/b" or "x?y" would address another
// endpoint, or another object than the one named. (Action arguments: idArg.)
func checkID(kind, id string) error {
	if !isMattermostID(id) {
		return refusal(codes.InvalidArgument, "%s must be a Mattermost %s id (26 lower-case letters and digits)", quoteID(id), kind)
	}
	return nil
}

// quoteID quotes an id from ConductorOne for a message, cut to a sane length.
func quoteID(id string) string {
	const limit = 64
	if len(id) > limit {
		return fmt.Sprintf("%q… (%d bytes)", id[:limit], len(id))
	}
	return fmt.Sprintf("%q", id)
}

// loadUser reads a user fresh from the server; a user the server does not
// know is a NotFound refusal.
func loadUser(ctx context.Context, client *mattermost.Client, userID string) (*mattermost.User, error) {
	u, err := client.GetUser(ctx, userID)
	if mattermost.IsNotFound(err) {
		return nil, refusal(codes.NotFound, "there is no Mattermost user with id %s (deleted?); run a sync", userID)
	}
	return u, err
}

// refuseDeactivated: a deactivated account gets no new access.
func refuseDeactivated(u *mattermost.User, what string, cause error) error {
	return refusal(codes.FailedPrecondition, "%s is deactivated; reactivate the account (System Console > Users) before %s%s",
		describeUser(u), what, because(cause))
}

// refuseRemote: accounts of a remote server reached through Shared Channels
// are managed on their home server.
func refuseRemote(u *mattermost.User) error {
	return refusal(codes.FailedPrecondition, "%s belongs to a remote server connected through Shared Channels "+
		"(remote_id %s); its account and access are managed on its home server, not here", describeUser(u), u.RemoteID)
}

// refuseGuest: guests hold no admin roles; Mattermost changes a guest into a
// member and back only by promoting or demoting the account.
func refuseGuest(u *mattermost.User, what string, cause error) error {
	return refusal(codes.FailedPrecondition, "%s is a guest, and guests cannot %s; promote the guest to a member first "+
		"(System Console > Users > Promote to Member, or POST /api/v4/users/%s/promote)%s", describeUser(u), what, u.ID, because(cause))
}

// refuseUserLimit: the server allows no more active users (250 without a licence).
func refuseUserLimit(what string, cause error) error {
	return refusal(codes.FailedPrecondition, "cannot %s: the server has reached its limit of active users (250 without a licence); "+
		"deactivate accounts that are no longer used, or add a licence with more seats%s", what, because(cause))
}

// refuseGroupSynced: a group-synced team's or channel's members come from LDAP group sync.
func refuseGroupSynced(t *teamOrChannel, remedy string) error {
	return refusal(codes.FailedPrecondition, "%s is group-synced (group_constrained): its members come from LDAP group "+
		"sync and cannot be changed one by one; %s, or turn off group sync for it", t, remedy)
}
