package mattermost

// ErrorID is a Mattermost error id: the `id` of an AppError answer, stable
// across languages and versions where the message is not. Code branches on
// these with HasID; they are strings, not Go error values.
type ErrorID string

// Error ids, by the area they come from (Mattermost server source:
// server/channels/app and server/channels/api4).
const (
	// Users: lookup, creation and activation.
	IDEmailExists       ErrorID = "app.user.save.email_exists.app_error"
	IDUsernameExists    ErrorID = "app.user.save.username_exists.app_error"
	IDSaveUser          ErrorID = "app.user.save.app_error" // HTTP 500; also a taken SSO id (auth_data)
	IDCreateUserLimit   ErrorID = "api.user.create_user.user_limits.exceeded"
	IDCreateLicenseSeat ErrorID = "api.user.create_user.license_user_limits.exceeded"
	IDManagedByLDAP     ErrorID = "api.user.update_active.cannot_modify_status_when_user_is_managed_by_ldap.app_error"
	IDGuestsDisabled    ErrorID = "api.user.update_active.cannot_enable_guest_when_guest_feature_is_disabled.app_error"
	IDActivateUserLimit ErrorID = "app.user.update_active.user_limit.exceeded"
	IDActivateSeatLimit ErrorID = "app.user.update_active.license_user_limit.exceeded"

	// System roles (PUT /users/{id}/roles).
	IDLastAdmin        ErrorID = "app.user.update.lastAdmin.app_error"
	IDRoleNeedsLicense ErrorID = "api.user.update_user_roles.license.app_error"

	// Team memberships.
	IDTeamMaxAccounts        ErrorID = "app.team.join_user_to_team.max_accounts.app_error"
	IDTeamSaveMaxAccounts    ErrorID = "app.team.join_user_to_team.save_member.max_accounts.app_error"
	IDTeamAllowedDomains     ErrorID = "api.team.join_user_to_team.allowed_domains.app_error"
	IDTeamUserDenied         ErrorID = "api.team.add_members.user_denied"
	IDTeamRemoveGroup        ErrorID = "api.team.remove_member.group_constrained.app_error"
	IDTeamRolesGuest         ErrorID = "api.team.update_team_member_roles.guest.app_error"
	IDTeamRolesGuestUser     ErrorID = "api.team.update_team_member_roles.user_and_guest.app_error"
	IDTeamRolesChangingGuest ErrorID = "api.channel.update_team_member_roles.changing_guest_role.app_error"

	// Channel memberships.
	IDChannelDeletedUser    ErrorID = "app.channel.add_member.deleted_user.app_error"
	IDChannelNotTeamMember  ErrorID = "app.team.get_member.missing.app_error"
	IDChannelLeftTeam       ErrorID = "api.channel.add_user.to.channel.failed.deleted.app_error"
	IDChannelUserDenied     ErrorID = "api.channel.add_members.user_denied"
	IDChannelRemoveDefault  ErrorID = "api.channel.remove.default.app_error"
	IDChannelRemoveDenied   ErrorID = "api.channel.remove_members.denied"
	IDChannelRemoveGroup    ErrorID = "api.channel.remove_member.group_constrained.app_error"
	IDChannelRolesGuest     ErrorID = "api.channel.update_channel_member_roles.guest.app_error"
	IDChannelRolesGuestUser ErrorID = "api.channel.update_channel_member_roles.user_and_guest.app_error"

	// Groups (licensed servers only).
	IDLDAPGroupsLicense    ErrorID = "api.ldap_groups.license_error"
	IDCustomGroupsLicense  ErrorID = "api.custom_groups.license_error"
	IDCustomGroupsDisabled ErrorID = "api.custom_groups.feature_disabled"
)
