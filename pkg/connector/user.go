package connector

import (
	"context"
	"strings"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

type userSyncer struct {
	client *mattermost.Client
	// pages serves the user list, fetched ahead with its last logins (user_pages.go).
	pages *userPages
}

func newUserSyncer(client *mattermost.Client, opts Options) *userSyncer {
	return &userSyncer{client: client, pages: newUserPages(client, !opts.SkipLastLogin)}
}

func (s *userSyncer) ResourceType(_ context.Context) *v2.ResourceType { return userResourceType }

// List returns every account, deactivated ones as DISABLED, one page of 200 a
// call, with last login times from the user report (see user_pages.go).
func (s *userSyncer) List(ctx context.Context, _ *v2.ResourceId, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	return sdkResult(s.list(ctx, attrs))
}

func (s *userSyncer) list(ctx context.Context, attrs resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	var tok userPageToken
	if err := parsePageToken(attrs.PageToken, &tok); err != nil {
		return nil, nil, err
	}
	page, err := s.pages.get(ctx, attrs.SyncID, tok)
	if err != nil {
		return nil, nil, err
	}
	if page.reportUnavailable != nil && !tok.NoReport {
		logReportUnavailable(ctx, page.reportUnavailable)
	}
	out := make([]*v2.Resource, 0, len(page.users.Items))
	for i := range page.users.Items {
		u := &page.users.Items[i]
		var f *mattermost.UserReport
		if row, ok := page.facts[u.ID]; ok {
			f = &row
		}
		r, err := userResource(u, f)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, r)
	}
	res, err := nextPage(page.next(tok))
	return out, res, err
}

// Get returns one user for a targeted sync (targeted.go), with the last login
// from its row of the user report (one request) unless skip-last-login is set.
func (s *userSyncer) Get(ctx context.Context, id *v2.ResourceId, _ *v2.ResourceId) (*v2.Resource, annotations.Annotations, error) {
	r, err := s.get(ctx, id)
	return targetResult(id, r, err)
}

func (s *userSyncer) get(ctx context.Context, id *v2.ResourceId) (*v2.Resource, error) {
	if err := checkTargetID(id); err != nil {
		return nil, err
	}
	u, err := s.client.GetUser(ctx, id.GetResource())
	if err != nil {
		return nil, err
	}
	var facts *mattermost.UserReport
	if s.pages.lastLogin && !u.IsBot {
		facts, err = s.client.GetUserReport(ctx, u)
		if notServed(err) {
			logReportUnavailable(ctx, err)
			facts, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return userResource(u, facts)
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
