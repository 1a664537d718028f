package connector

import (
	"context"
	"strings"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

type userSyncer struct {
	client *mattermost.Client
	// lastLogin reads last login times from the user report (skip-last-login off).
	lastLogin bool
	// pages fetches /users pages ahead of the SDK (see prefetch.go).
	pages *pagesAhead[mattermost.User]
}

func newUserSyncer(client *mattermost.Client, opts Options) *userSyncer {
	return &userSyncer{client: client, lastLogin: !opts.SkipLastLogin, pages: newPagesAhead(userPagesAhead, client.ListUsers)}
}

func (s *userSyncer) ResourceType(_ context.Context) *v2.ResourceType { return userResourceType }

// List returns every account, deactivated ones as DISABLED, one page of 200 a
// call, with last login times from the user report (see lastlogin.go).
func (s *userSyncer) List(ctx context.Context, _ *v2.ResourceId, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	tok, err := parseUserPageToken(attrs.PageToken)
	if err != nil {
		return nil, nil, err
	}
	withReport := s.lastLogin && !tok.NoReport
	var first *reportFetch
	if withReport {
		// The report is slower than /users: ask for its first page right away.
		reportCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		first = fetchReport(reportCtx, s.client, tok.reportCursor())
		ctx = reportCtx
	}
	users, err := s.pages.page(ctx, attrs.SyncID, tok.Page)
	if err != nil {
		return nil, nil, err
	}
	next := userPageToken{Page: users.NextPage, NoReport: tok.NoReport}
	var facts map[string]mattermost.UserReport
	if withReport {
		facts, err = userFacts(ctx, s.client, users.Items, tok.reportCursor(), first)
		switch {
		case reportUnavailable(err):
			logReportUnavailable(ctx, err)
			next.NoReport = true
		case err != nil:
			return nil, nil, err
		}
	}
	out := make([]*v2.Resource, 0, len(users.Items))
	for i := range users.Items {
		u := &users.Items[i]
		var f *mattermost.UserReport
		if row, ok := facts[u.ID]; ok {
			f = &row
		}
		r, err := userResource(u, f)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	if users.NextPage == 0 {
		return out, nil, nil
	}
	last := users.Items[len(users.Items)-1]
	next.AfterUsername, next.AfterID = last.Username, last.ID
	return out, &resource.SyncOpResults{NextPageToken: next.encode()}, nil
}

func (s *userSyncer) Entitlements(_ context.Context, _ *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, nil, nil
}

func (s *userSyncer) Grants(_ context.Context, _ *v2.Resource, _ resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, nil, nil
}

// userDisplayName is the full name, else the nickname, else the username.
func userDisplayName(u *mattermost.User) string {
	if name := strings.TrimSpace(u.FirstName + " " + u.LastName); name != "" {
		return name
	}
	if u.Nickname != "" {
		return u.Nickname
	}
	return u.Username
}

func msToTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// userResource maps a Mattermost account and its user report row (nil when
// unknown: bots, skip-last-login, no report) onto a baton user.
func userResource(u *mattermost.User, facts *mattermost.UserReport) (*v2.Resource, error) {
	profile := map[string]interface{}{
		"user_id":      u.ID,
		"username":     u.Username,
		"first_name":   u.FirstName,
		"last_name":    u.LastName,
		"nickname":     u.Nickname,
		"position":     u.Position,
		"roles":        u.Roles,
		"auth_service": u.AuthService,
		"is_bot":       u.IsBot,
		"is_guest":     u.IsGuest(),
		"is_remote":    u.IsRemote(),
		"mfa_active":   u.MFAActive,
		"delete_at":    u.DeleteAt,
	}
	if u.RemoteID != "" {
		profile["remote_id"] = u.RemoteID
	}
	if facts != nil {
		for key, ms := range map[string]int64{
			"last_login_at":    facts.LastLogin,
			"last_activity_at": facts.LastStatusAt,
			"last_post_at":     facts.LastPostDate,
		} {
			if ms > 0 {
				profile[key] = msToTime(ms).Format(time.RFC3339)
			}
		}
	}

	accountType := v2.UserTrait_ACCOUNT_TYPE_HUMAN
	if u.IsBot {
		accountType = v2.UserTrait_ACCOUNT_TYPE_SERVICE
	}
	resourceStatus, traitStatus, statusDetail := v2.Status_RESOURCE_STATUS_ENABLED, v2.UserTrait_Status_STATUS_ENABLED, ""
	if !u.IsActive() {
		resourceStatus, traitStatus = v2.Status_RESOURCE_STATUS_DISABLED, v2.UserTrait_Status_STATUS_DISABLED
		statusDetail = "deactivated " + msToTime(u.DeleteAt).Format(time.RFC3339)
	}

	traitOpts := []resource.UserTraitOption{
		resource.WithEmail(u.Email, true),
		resource.WithUserLogin(u.Username),
		resource.WithAccountType(accountType),
		resource.WithDetailedStatus(traitStatus, statusDetail), //nolint:staticcheck // keep the trait status consistent with the resource status
		resource.WithMFAStatus(v2.UserTrait_MFAStatus_builder{MfaEnabled: u.MFAActive}.Build()),
		resource.WithSSOStatus(v2.UserTrait_SSOStatus_builder{SsoEnabled: u.AuthService != ""}.Build()),
		resource.WithStructuredName(v2.UserTrait_StructuredName_builder{GivenName: u.FirstName, FamilyName: u.LastName}.Build()),
	}
	if facts != nil && facts.LastLogin > 0 {
		traitOpts = append(traitOpts, resource.WithLastLogin(msToTime(facts.LastLogin)))
	}
	opts := []resource.ResourceOption{
		resource.WithUserTrait(traitOpts...),
		resource.WithResourceStatus(resourceStatus, statusDetail),
		resource.WithResourceProfile(profile),
	}
	if u.CreateAt > 0 {
		opts = append(opts, resource.WithResourceCreatedAt(msToTime(u.CreateAt)))
	}
	return resource.NewResource(userDisplayName(u), userResourceType, u.ID, opts...)
}
