package mmfake

import "net/http"

// Error ids the fake answers with, as Mattermost 11.4 sends them (the file
// that sends each is named), written from the server rather than taken from
// pkg/mattermost so that a client constant that drifts from the server's id
// fails a unit test. The IDs that no handler here sends are for tests that
// answer a request themselves through Server.Intercept.
const (
	// server/channels/web: context.go, params.go, web.go.
	IDSessionExpired   = "api.context.session_expired.app_error"
	IDInvalidParam     = "api.context.invalid_param.app_error"
	IDInvalidBodyParam = "api.context.invalid_body_param.app_error"
	IDPageNotFound     = "api.context.404.app_error"

	// Users: server/channels/app/user.go and users/, server/channels/api4/user.go, server/public/model/user.go.
	IDMissingAccount  = "app.user.missing_account.const"
	IDEmailExists     = "app.user.save.email_exists.app_error"
	IDUsernameExists  = "app.user.save.username_exists.app_error"
	IDSaveUser        = "app.user.save.app_error"
	IDInvalidEmail    = "model.user.is_valid.email.app_error"
	IDInvalidUsername = "model.user.is_valid.username.app_error"
	// IDAuthDataConflict: both SSO auth data and a password; IDBelowMinimumLength:
	// a password shorter than PasswordSettings.MinimumLength.
	IDAuthDataConflict       = "model.user.is_valid.auth_data_pwd.app_error"
	IDBelowMinimumLength     = "model.user.is_valid.pwd_min_length.app_error"
	IDCreateUserLimit        = "api.user.create_user.user_limits.exceeded"
	IDManagedByLDAP          = "api.user.update_active.cannot_modify_status_when_user_is_managed_by_ldap.app_error"
	IDGuestAccountsDisabled  = "api.user.update_active.cannot_enable_guest_when_guest_feature_is_disabled.app_error"
	IDUserLimit              = "app.user.update_active.user_limit.exceeded"
	IDLicenseUserLimit       = "app.user.update_active.license_user_limit.exceeded"
	IDCreateLicenseUserLimit = "api.user.create_user.license_user_limits.exceeded"
	IDBotMissing             = "store.sql_bot.get.missing.app_error"

	// Access tokens: server/channels/app/user_access_token.go (every lookup of an
	// unknown token id, revoked ones included, answers this 404).
	IDAccessTokenNotFound = "app.user_access_token.get_by_user.app_error"

	// Roles and licence: server/channels/api4/user.go, license.go, handlers.go; server/channels/app/role.go, user.go.
	IDRolesNeedLicense = "api.user.update_user_roles.license.app_error"
	IDRoleNotFound     = "app.role.check_roles_exist.role_not_found"
	IDLastAdmin        = "app.user.update.lastAdmin.app_error"
	IDLicenseOldFormat = "api.license.client.old_format.app_error"
	IDLicenseRequired  = "api.license_error"

	// The user report: server/channels/api4/report.go, server/public/model/report.go.
	IDReportPageSize   = "api.getUsersForReporting.invalid_page_size"
	IDReportSortColumn = "model.user_report_options.is_valid.invalid_sort_column"

	// Teams: server/channels/app/team.go, server/channels/api4/team.go.
	IDTeamNotFound               = "app.team.get.find.app_error"
	IDTeamMemberMissing          = "app.team.get_member.missing.app_error"
	IDTeamMaxAccounts            = "app.team.join_user_to_team.max_accounts.app_error"
	IDTeamSaveMaxAccounts        = "app.team.join_user_to_team.save_member.max_accounts.app_error"
	IDTeamUserDenied             = "api.team.add_members.user_denied"
	IDTeamRemoveGroupConstrained = "api.team.remove_member.group_constrained.app_error"
	IDTeamRemoveMissing          = "api.team.remove_user_from_team.missing.app_error"
	IDTeamRolesGuest             = "api.team.update_team_member_roles.guest.app_error"
	IDTeamRolesUnsetUser         = "api.team.update_team_member_roles.unset_user_scheme.app_error"
	IDTeamRolesGuestUser         = "api.team.update_team_member_roles.user_and_guest.app_error"
	IDTeamRolesChangingGuest     = "api.channel.update_team_member_roles.changing_guest_role.app_error"
	IDTeamAllowedDomains         = "api.team.join_user_to_team.allowed_domains.app_error"

	// Channels: server/channels/app/channel.go, constants.go, server/channels/api4/channel.go.
	IDChannelNotFound               = "app.channel.get.existing.app_error"
	IDChannelMemberMissing          = "app.channel.get_member.missing.app_error"
	IDChannelAddType                = "api.channel.add_user_to_channel.type.app_error"
	IDChannelUserDenied             = "api.channel.add_members.user_denied"
	IDChannelDeletedUser            = "app.channel.add_member.deleted_user.app_error"
	IDChannelLeftTeam               = "api.channel.add_user.to.channel.failed.deleted.app_error"
	IDChannelRemoveGroupConstrained = "api.channel.remove_member.group_constrained.app_error"
	IDChannelRemoveDefault          = "api.channel.remove.default.app_error"
	IDChannelRolesGuest             = "api.channel.update_channel_member_roles.guest.app_error"
	IDChannelRolesUnsetUser         = "api.channel.update_channel_member_roles.unset_user_scheme.app_error"
	IDChannelRolesGuestUser         = "api.channel.update_channel_member_roles.user_and_guest.app_error"
	IDChannelRemoveDenied           = "api.channel.remove_members.denied"

	// Groups: server/channels/app/group.go.
	IDGroupNotFound = "app.group.no_rows"

	// Answered by real servers where the fake's handlers have no such case
	// (a token without a permission; group endpoints of a licensed server
	// with the feature off): server/channels/api4/context.go, group.go.
	IDPermissions          = "api.context.permissions.app_error"
	IDLDAPGroupsLicense    = "api.ldap_groups.license_error"
	IDCustomGroupsLicense  = "api.custom_groups.license_error"
	IDCustomGroupsDisabled = "api.custom_groups.feature_disabled"
)

// failure is one of Mattermost's error answers: status, id and English message.
type failure struct {
	status      int
	id, message string
}

func (f failure) write(w http.ResponseWriter) { WriteError(w, f.status, f.id, f.message) }

// Failures several handlers answer with.
var (
	sessionExpired = failure{http.StatusUnauthorized, IDSessionExpired, "Invalid or expired session, please login again."}
	missingAccount = failure{http.StatusNotFound, IDMissingAccount, "Unable to find the user."}
	pageNotFound   = failure{http.StatusNotFound, IDPageNotFound, "Sorry, we could not find the page."}
	teamNotFound   = failure{http.StatusNotFound, IDTeamNotFound, "We couldn't find the existing team."}
	groupNotFound  = failure{http.StatusNotFound, IDGroupNotFound, "Unable to find the group."}
)
