package connector

import (
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
)

// manageSystem is the permission a token needs: Mattermost grants it to System Admins.
var manageSystem = &v2.CapabilityPermissions{Permissions: []*v2.CapabilityPermission{
	v2.CapabilityPermission_builder{Permission: "manage_system"}.Build(),
}}

var (
	userResourceType = v2.ResourceType_builder{
		Id:          "user",
		DisplayName: "User",
		Description: "A Mattermost account: a person, a bot or a user of a remote (shared-channel) server",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_USER},
		Annotations: annotationsFor(&v2.SkipEntitlementsAndGrants{}, manageSystem),
	}.Build()

	teamResourceType = v2.ResourceType_builder{
		Id:          "team",
		DisplayName: "Team",
		Description: "A Mattermost team, with member and admin entitlements",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
		Annotations: annotationsFor(manageSystem),
	}.Build()

	roleResourceType = v2.ResourceType_builder{
		Id:          "role",
		DisplayName: "System role",
		Description: "A Mattermost system role (System Admin, delegated admin roles, Guest, ...), with an assigned entitlement",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_ROLE},
		Annotations: annotationsFor(manageSystem),
	}.Build()

	groupResourceType = v2.ResourceType_builder{
		Id:          "group",
		DisplayName: "User group",
		Description: "A Mattermost custom group or LDAP-synced group (licensed servers only), with a member entitlement",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
		Annotations: annotationsFor(manageSystem),
	}.Build()

	// Channels are listed per team (children of their team resource), so
	// they sync only through their parent.
	channelResourceType = v2.ResourceType_builder{
		Id:          "channel",
		DisplayName: "Channel",
		Description: "A private channel of a Mattermost team (public ones too with sync-public-channels), with member and admin entitlements",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
		Annotations: annotationsFor(manageSystem),
	}.Build()
)
