package connector

import (
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"google.golang.org/protobuf/proto"
)

// manageSystem is the permission a token needs: Mattermost grants it to System Admins.
var manageSystem = &v2.CapabilityPermissions{Permissions: []*v2.CapabilityPermission{
	v2.CapabilityPermission_builder{Permission: "manage_system"}.Build(),
}}

func resourceType(id, name, description string, trait v2.ResourceType_Trait, annos ...proto.Message) *v2.ResourceType {
	return v2.ResourceType_builder{Id: id, DisplayName: name, Description: description,
		Traits: []v2.ResourceType_Trait{trait}, Annotations: annotationsFor(append(annos, manageSystem)...)}.Build()
}

var (
	userResourceType = resourceType("user", "User",
		"A Mattermost account: a person, a bot or a user of a remote (shared-channel) server",
		v2.ResourceType_TRAIT_USER, &v2.SkipEntitlementsAndGrants{})
	teamResourceType = resourceType("team", "Team", "A Mattermost team, with member and admin entitlements",
		v2.ResourceType_TRAIT_GROUP)
	roleResourceType = resourceType("role", "System role",
		"A Mattermost system role (System Admin, delegated admin roles, Guest, ...), with an assigned entitlement",
		v2.ResourceType_TRAIT_ROLE)
	groupResourceType = resourceType("group", "User group",
		"A Mattermost custom group or LDAP-synced group (licensed servers only), with a member entitlement",
		v2.ResourceType_TRAIT_GROUP)
	tokenResourceType = resourceType("token", "API token",
		"A personal access token or bot token: it acts as its owner (the secret's identity) with no password, SSO or MFA, "+
			"and never expires; the token itself is never read",
		v2.ResourceType_TRAIT_SECRET, &v2.SkipEntitlementsAndGrants{})
	// Channels are listed per team (children of their team resource), so
	// they sync only through their parent.
	channelResourceType = resourceType("channel", "Channel",
		"A private channel of a Mattermost team (public ones too with sync-public-channels), with member and admin entitlements",
		v2.ResourceType_TRAIT_GROUP)
)
