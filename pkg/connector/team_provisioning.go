package connector

import (
	"context"
	"fmt"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
)

// teamMemberships provisions team:<id>:member and team:<id>:admin.
//
//   - member: POST /teams/{id}/members (Mattermost also joins the user to the
//     team's default channels, e.g. Town Square); revoke: DELETE
//     /teams/{id}/members/{user_id}, which also removes the user from every
//     channel of the team.
//   - admin: PUT /teams/{id}/members/{user_id}/schemeRoles with scheme_user
//     always true, so the membership itself is never dropped.
type teamMemberships struct {
	client *mattermost.Client
}

func (teamMemberships) resourceType() *v2.ResourceType { return teamResourceType }

func (o teamMemberships) load(ctx context.Context, id string) (*teamOrChannel, error) {
	team, err := o.client.GetTeam(ctx, id)
	if mattermost.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &teamOrChannel{kind: "team", id: team.ID, name: team.DisplayName, archived: team.IsArchived(),
		groupConstrained: team.IsGroupConstrained()}, nil
}

func (teamMemberships) checkGrant(context.Context, *teamOrChannel) error { return nil }

// members lists the team's active memberships, ordered by user id.
func (o teamMemberships) members(ctx context.Context, id string, cur mattermost.Cursor) (mattermost.Page[member], error) {
	page, err := o.client.ListTeamMembers(ctx, id, cur)
	out := mattermost.Page[member]{Next: page.Next}
	for _, m := range page.Items {
		if m.IsActive() {
			out.Items = append(out.Items, member{m.UserID, m.SchemeRoles})
		}
	}
	return out, err
}

func (o teamMemberships) get(ctx context.Context, t *teamOrChannel, userID string) (*mattermost.SchemeRoles, error) {
	m, err := o.client.GetTeamMember(ctx, t.id, userID)
	if err != nil || m == nil {
		return nil, err
	}
	return &m.SchemeRoles, nil
}

func (o teamMemberships) add(ctx context.Context, t *teamOrChannel, user *mattermost.User) (*mattermost.SchemeRoles, error) {
	m, err := o.client.AddTeamMember(ctx, t.id, user.ID)
	if err != nil {
		return nil, err
	}
	return &m.SchemeRoles, nil
}

// remove removes the user from the team. Mattermost then removes them from all
// the team's channels too: the channels are read first so that the result
// (a log line and a GrantMetadata annotation) can say which.
func (o teamMemberships) remove(ctx context.Context, t *teamOrChannel, user *mattermost.User) (annotations.Annotations, error) {
	l := ctxzap.Extract(ctx)
	channels, listErr := o.client.ListUserChannelsInTeam(ctx, user.ID, t.id)
	if listErr != nil {
		// Only the report suffers: the removal itself does not need the list.
		l.Warn("baton-mattermost: could not list the user's channels before removing them from the team", zap.Error(listErr))
	}
	if err := o.client.RemoveTeamMember(ctx, t.id, user.ID); err != nil {
		return nil, err
	}
	ids := make([]any, len(channels))
	names := make([]string, len(channels))
	for i, ch := range channels {
		ids[i], names[i] = ch.ID, ch.Name
	}
	l.Info("baton-mattermost: removing a user from a team also removed them from the team's channels",
		zap.String("team", t.String()), zap.String("user_id", user.ID), zap.Strings("channels", names))
	return annotations.New(v2.GrantMetadata_builder{Metadata: toStruct(map[string]any{
		"side_effect":           fmt.Sprintf("%s was also removed from the %d channels of the team it was in", describeUser(user), len(channels)),
		"removed_from_channels": ids,
	})}.Build()), nil
}

func (o teamMemberships) setAdmin(ctx context.Context, t *teamOrChannel, user *mattermost.User, admin bool) error {
	return o.client.UpdateTeamMemberSchemeRoles(ctx, t.id, user.ID, mattermost.SchemeRoles{SchemeAdmin: admin, SchemeUser: true})
}

func (teamMemberships) explain(t *teamOrChannel, user *mattermost.User, err error) error {
	switch {
	case mattermost.HasID(err, mattermost.IDTeamMaxAccounts, mattermost.IDTeamSaveMaxAccounts):
		return refusal(codes.FailedPrecondition, "%s is full: it has as many active members as the server allows per team "+
			"(TeamSettings.MaxUsersPerTeam); raise Max Users Per Team (System Console > Site Configuration > Users and Teams) "+
			"or remove members first%s", t, because(err))
	case mattermost.HasID(err, mattermost.IDTeamAllowedDomains):
		return refusal(codes.FailedPrecondition, "%s only accepts users whose e-mail is in its allowed domains, and %s's is not; "+
			"add the domain to the team's allowed domains or change the user's e-mail%s", t, describeUser(user), because(err))
	case mattermost.HasID(err, mattermost.IDTeamUserDenied):
		return refuseGroupSynced(t, "add the user to one of its linked groups")
	case mattermost.HasID(err, mattermost.IDTeamRemoveGroup):
		return refuseGroupSynced(t, "remove the user from its linked groups")
	case mattermost.HasID(err, mattermost.IDTeamRolesGuest, mattermost.IDTeamRolesGuestUser, mattermost.IDTeamRolesChangingGuest):
		return refuseGuest(user, "be admins of "+t.String(), err)
	}
	return changeFailed(t, user, err)
}
