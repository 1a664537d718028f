package connector

import (
	"context"
	"fmt"
	"net/http"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/grpc/codes"
)

// channelMemberships provisions channel:<id>:member and channel:<id>:admin.
//
//   - member: POST /channels/{id}/members; revoke: DELETE /channels/{id}/members/{user_id}.
//     A channel only holds members of its team. The connector does not add the
//     user to the team on the side (that is broader access: the team's public
//     channels and Town Square, and a separate entitlement): it refuses and
//     names the team entitlement to grant first.
//   - admin: PUT /channels/{id}/members/{user_id}/schemeRoles with scheme_user always true.
type channelMemberships struct {
	client *mattermost.Client
}

func (channelMemberships) resourceType() *v2.ResourceType { return channelResourceType }

func (o channelMemberships) load(ctx context.Context, id string) (*membershipTarget, error) {
	ch, err := o.client.GetChannel(ctx, id)
	if mattermost.StatusCode(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ch.Type != mattermost.ChannelTypeOpen && ch.Type != mattermost.ChannelTypePrivate {
		return nil, refusal(codes.InvalidArgument, "channel %s is a direct or group message (type %s), whose members cannot be changed", ch.ID, ch.Type)
	}
	return &membershipTarget{kind: "channel", id: ch.ID, name: ch.DisplayName, teamID: ch.TeamID,
		archived: ch.IsArchived(), groupConstrained: ch.IsGroupConstrained()}, nil
}

// checkGrant refuses channels of archived teams: Mattermost would accept the
// member, but an archived team's channels are out of everyone's reach.
func (o channelMemberships) checkGrant(ctx context.Context, t *membershipTarget) error {
	team, err := o.client.GetTeam(ctx, t.teamID)
	if err != nil {
		return err
	}
	if team.IsArchived() {
		return refusal(codes.FailedPrecondition, "%s belongs to the archived team %q (%s); restore the team before granting access to its channels",
			t, team.DisplayName, team.ID)
	}
	return nil
}

func (o channelMemberships) get(ctx context.Context, t *membershipTarget, userID string) (*membership, error) {
	m, err := o.client.GetChannelMember(ctx, t.id, userID)
	if err != nil || m == nil {
		return nil, err
	}
	return &membership{guest: m.SchemeGuest, admin: m.SchemeAdmin}, nil
}

func (o channelMemberships) add(ctx context.Context, t *membershipTarget, user *mattermost.User) (*membership, error) {
	tm, err := o.client.GetTeamMember(ctx, t.teamID, user.ID)
	if err != nil {
		return nil, err
	}
	if tm == nil {
		return nil, notInTeamRefusal(t, user, nil)
	}
	m, err := o.client.AddChannelMember(ctx, t.id, user.ID)
	if err != nil {
		return nil, err
	}
	return &membership{guest: m.SchemeGuest, admin: m.SchemeAdmin}, nil
}

func notInTeamRefusal(t *membershipTarget, user *mattermost.User, err error) error {
	msg := fmt.Sprintf("%s is not a member of the team of %s, and a channel can only hold members of its team; "+
		"grant the team membership first (entitlement team:%s:member)", describeUser(user), t, t.teamID)
	if err != nil {
		msg += fmt.Sprintf(" (%v)", err)
	}
	return refusal(codes.FailedPrecondition, "%s", msg)
}

func (o channelMemberships) remove(ctx context.Context, t *membershipTarget, user *mattermost.User) (annotations.Annotations, error) {
	return nil, o.client.RemoveChannelMember(ctx, t.id, user.ID)
}

func (o channelMemberships) setAdmin(ctx context.Context, t *membershipTarget, user *mattermost.User, admin bool) error {
	return o.client.UpdateChannelMemberSchemeRoles(ctx, t.id, user.ID, mattermost.SchemeRoles{SchemeAdmin: admin, SchemeUser: true})
}

func (channelMemberships) explain(t *membershipTarget, user *mattermost.User, err error) error {
	switch {
	case mattermost.HasID(err, mattermost.ErrChannelNotTeamMember), mattermost.HasID(err, mattermost.ErrChannelLeftTeam):
		return notInTeamRefusal(t, user, err)
	case mattermost.HasID(err, mattermost.ErrChannelDeletedUser):
		return refusal(codes.FailedPrecondition, "%s is deactivated; reactivate the account (System Console > Users) "+
			"before granting it access to %s (%v)", describeUser(user), t, err)
	case mattermost.HasID(err, mattermost.ErrChannelUserDenied):
		return groupSyncedRefusal(t, "add the user to one of its linked groups")
	case mattermost.HasID(err, mattermost.ErrChannelRemoveGroup), mattermost.HasID(err, mattermost.ErrChannelRemoveDenied):
		return groupSyncedRefusal(t, "remove the user from its linked groups")
	case mattermost.HasID(err, mattermost.ErrChannelRemoveDefault):
		return refusal(codes.FailedPrecondition, "%s cannot leave %s: every member of a team is in its default channel; "+
			"revoke the team membership instead (entitlement team:%s:member) (%v)", describeUser(user), t, t.teamID, err)
	case mattermost.HasID(err, mattermost.ErrChannelRolesGuest), mattermost.HasID(err, mattermost.ErrChannelRolesGuestUser):
		return refusal(codes.FailedPrecondition, "%s is a guest in %s and guests cannot be channel admins; promote the guest "+
			"to a member first (System Console > Users > Promote to Member) (%v)", describeUser(user), t, err)
	}
	return changeFailed(t, user, err)
}
