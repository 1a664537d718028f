package connector

import (
	"context"

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

func (o channelMemberships) load(ctx context.Context, id string) (*teamOrChannel, error) {
	ch, err := o.client.GetChannel(ctx, id)
	if mattermost.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ch.Type != mattermost.ChannelTypeOpen && ch.Type != mattermost.ChannelTypePrivate {
		return nil, refusal(codes.InvalidArgument, "channel %s is a direct or group message (type %s), whose members cannot be changed", ch.ID, ch.Type)
	}
	return &teamOrChannel{kind: "channel", id: ch.ID, name: ch.DisplayName, teamID: ch.TeamID,
		archived: ch.IsArchived(), groupConstrained: ch.IsGroupConstrained()}, nil
}

// checkGrant refuses channels of archived teams: Mattermost would accept the
// member, but an archived team's channels are out of everyone's reach.
func (o channelMemberships) checkGrant(ctx context.Context, t *teamOrChannel) error {
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

// members lists the channel's members. A channel of fewer than 200 members
// (most private channels) takes one request; a larger one is walked as users
// ordered by username in overlapping windows (see
// mattermost.ListChannelUsers), and each window's memberships are read by id
// for their scheme roles, leaving out a user who left in between.
func (o channelMemberships) members(ctx context.Context, id string, cur mattermost.Cursor) (mattermost.Page[member], error) {
	if cur.Offset == 0 { // the first page: every later cursor of the walk is past its first window
		rows, complete, err := o.client.ListSmallChannelMembers(ctx, id)
		if err != nil || complete {
			out := mattermost.Page[member]{}
			for _, m := range rows {
				out.Items = append(out.Items, member{m.UserID, m.SchemeRoles})
			}
			return out, err
		}
	}
	users, err := o.client.ListChannelUsers(ctx, id, cur)
	if err != nil || len(users.Items) == 0 {
		return mattermost.Page[member]{Next: users.Next}, err
	}
	ids := make([]string, len(users.Items))
	for i := range users.Items {
		ids[i] = users.Items[i].ID
	}
	rows, err := o.client.GetChannelMembersByIDs(ctx, id, ids)
	out := mattermost.Page[member]{Next: users.Next}
	for _, m := range rows {
		out.Items = append(out.Items, member{m.UserID, m.SchemeRoles})
	}
	return out, err
}

func (o channelMemberships) get(ctx context.Context, t *teamOrChannel, userID string) (*mattermost.SchemeRoles, error) {
	m, err := o.client.GetChannelMember(ctx, t.id, userID)
	if err != nil || m == nil {
		return nil, err
	}
	return &m.SchemeRoles, nil
}

func (o channelMemberships) add(ctx context.Context, t *teamOrChannel, user *mattermost.User) (*mattermost.SchemeRoles, error) {
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
	return &m.SchemeRoles, nil
}

func notInTeamRefusal(t *teamOrChannel, user *mattermost.User, err error) error {
	return refusal(codes.FailedPrecondition, "%s is not a member of the team of %s, and a channel can only hold members of its team; "+
		"grant the team membership first (entitlement team:%s:member)%s", describeUser(user), t, t.teamID, because(err))
}

func (o channelMemberships) remove(ctx context.Context, t *teamOrChannel, user *mattermost.User) (annotations.Annotations, error) {
	return nil, o.client.RemoveChannelMember(ctx, t.id, user.ID)
}

func (o channelMemberships) setAdmin(ctx context.Context, t *teamOrChannel, user *mattermost.User, admin bool) error {
	return o.client.UpdateChannelMemberSchemeRoles(ctx, t.id, user.ID, mattermost.SchemeRoles{SchemeAdmin: admin, SchemeUser: true})
}

func (channelMemberships) explain(t *teamOrChannel, user *mattermost.User, err error) error {
	switch {
	case mattermost.HasID(err, mattermost.IDChannelNotTeamMember, mattermost.IDChannelLeftTeam):
		return notInTeamRefusal(t, user, err)
	case mattermost.HasID(err, mattermost.IDChannelDeletedUser):
		return refuseDeactivated(user, "granting it access to "+t.String(), err)
	case mattermost.HasID(err, mattermost.IDChannelUserDenied):
		return refuseGroupSynced(t, "add the user to one of its linked groups")
	case mattermost.HasID(err, mattermost.IDChannelRemoveGroup, mattermost.IDChannelRemoveDenied):
		return refuseGroupSynced(t, "remove the user from its linked groups")
	case mattermost.HasID(err, mattermost.IDChannelRemoveDefault):
		return refusal(codes.FailedPrecondition, "%s cannot leave %s: every member of a team is in its default channel; "+
			"revoke the team membership instead (entitlement team:%s:member)%s", describeUser(user), t, t.teamID, because(err))
	case mattermost.HasID(err, mattermost.IDChannelRolesGuest, mattermost.IDChannelRolesGuestUser):
		return refuseGuest(user, "be admins of "+t.String(), err)
	}
	return changeFailed(t, user, err)
}
