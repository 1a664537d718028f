package connector

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// seedRoleHolders gives the fake users of every kind of system role, among
// them role names that contain other role names (the server's role filter
// matches substrings).
func seedRoleHolders(fake *mmfake.Server) {
	// The token's own user gets an id shaped like Mattermost's: grants and revokes check ids.
	fake.Users[0].ID, fake.MeID = "admin000000000000000000000", "admin000000000000000000000"
	fake.Users = append(fake.Users,
		mmfake.User{ID: "olivia00000000000000000000", Username: "olivia", Roles: "system_user system_admin"},
		mmfake.User{ID: "adminbot000000000000000000", Username: "adminbot", Roles: "system_user system_admin", IsBot: true},
		mmfake.User{ID: "pat00000000000000000000000", Username: "pat", Roles: "system_user system_post_all_public"},
		mmfake.User{ID: "paula000000000000000000000", Username: "paula", Roles: "system_user system_post_all system_user_access_token"},
		mmfake.User{ID: "uma00000000000000000000000", Username: "uma", Roles: "system_user system_user_manager", DeleteAt: 1_700_000_000_000},
		mmfake.User{ID: "gwen0000000000000000000000", Username: "gwen", Roles: "system_guest"},
		mmfake.User{ID: "remo0000000000000000000000", Username: "remo", Roles: "system_user", RemoteID: "remotecluster1"},
		mmfake.User{ID: "plain000000000000000000000", Username: "plain", Roles: "system_user"},
	)
}

func TestSyncSystemRoles(t *testing.T) {
	fake := mmfake.New(t)
	seedRoleHolders(fake)
	res, err := synctest.Sync(t, newTestConnector(t, fake, Options{SkipLastLogin: true}))
	if err != nil {
		t.Fatalf("sync: %v", err)
	}

	roles := res.ResourcesOfType("role")
	wantRoles := []string{"system_admin", "system_manager", "system_user_manager", "system_read_only_admin",
		"system_custom_group_admin", "system_post_all", "system_post_all_public", "system_user_access_token", "system_guest"}
	if fmt.Sprint(keys(roles)) != fmt.Sprint(sorted(wantRoles)) {
		t.Errorf("roles: got %v, want %v (system_user is not a role resource; unknown roles skipped)", keys(roles), sorted(wantRoles))
	}
	if got := roles["system_read_only_admin"].GetDisplayName(); got != "Viewer" {
		t.Errorf("system_read_only_admin display name = %q, want the System Console's \"Viewer\", not the server's i18n key", got)
	}
	if got := roles["system_manager"].GetDescription(); !strings.Contains(got, "license") {
		t.Errorf("system_manager description %q does not say it needs a license", got)
	}
	if got := roles["system_admin"].GetProfile().GetFields()["permissions"].GetListValue().GetValues(); len(got) != 2 {
		t.Errorf("system_admin permissions on profile: %v", got)
	}
	if _, err := resource.GetRoleTrait(roles["system_admin"]); err != nil {
		t.Errorf("role resource has no role trait: %v", err)
	}

	want := map[string]bool{
		"role:system_admin:assigned:user:admin000000000000000000000":             true,
		"role:system_admin:assigned:user:olivia00000000000000000000":             true,
		"role:system_admin:assigned:user:adminbot000000000000000000":             true,
		"role:system_post_all_public:assigned:user:pat00000000000000000000000":   true,
		"role:system_post_all:assigned:user:paula000000000000000000000":          true,
		"role:system_user_access_token:assigned:user:paula000000000000000000000": true,
		"role:system_user_manager:assigned:user:uma00000000000000000000000":      true,
		"role:system_guest:assigned:user:gwen0000000000000000000000":             true,
	}
	if got := res.GrantIDsOn("role"); fmt.Sprint(keys(got)) != fmt.Sprint(keys(want)) {
		t.Errorf("role grants:\n got %v\nwant %v", keys(got), keys(want))
	}
	for _, g := range res.Grants {
		annos := annotations.Annotations(g.GetAnnotations())
		immutable := annos.Contains(&v2.GrantImmutable{})
		if wantImmutable := strings.HasPrefix(g.GetId(), "role:system_guest:"); immutable != wantImmutable {
			t.Errorf("grant %s immutable = %v, want %v", g.GetId(), immutable, wantImmutable)
		}
	}
	ents := res.EntitlementsOn("role")
	if len(ents) != len(wantRoles) {
		t.Errorf("role entitlements: got %d, want one per role", len(ents))
	}

	// The cost: one POST /roles/names and one /users?role= page per role; no per-user calls.
	var roleNames, roleLists int
	for _, req := range fake.Requests() {
		switch {
		case req == "POST /api/v4/roles/names":
			roleNames++
		case strings.HasPrefix(req, "GET /api/v4/users?") && strings.Contains(req, "role="):
			roleLists++
		case strings.HasPrefix(req, "GET /api/v4/users/") && req != "GET /api/v4/users/me" &&
			!strings.HasPrefix(req, "GET /api/v4/users/tokens?") && // the token list, a page for all users
			!strings.HasPrefix(req, "GET /api/v4/users/stats/"): // the user count, once
			t.Errorf("per-user request during sync: %s", req)
		}
	}
	if roleNames != 1 || roleLists != len(wantRoles) {
		t.Errorf("requests: %d POST /roles/names, %d /users?role= pages; want 1 and %d", roleNames, roleLists, len(wantRoles))
	}
}

func TestRoleGrantsPageThroughHolders(t *testing.T) {
	fake := mmfake.New(t)
	for i := range 450 {
		roles := "system_user"
		if i%2 == 0 {
			roles = "system_user system_admin"
		}
		fake.Users = append(fake.Users, mmfake.User{ID: fmt.Sprintf("u%03d", i), Username: fmt.Sprintf("user%03d", i), Roles: roles})
	}
	c := newTestConnector(t, fake, Options{})
	s := newRoleSyncer(c.client)
	r, err := roleResource(systemRoles[0], &mattermost.Role{Name: mattermost.RoleSystemAdmin})
	if err != nil {
		t.Fatal(err)
	}
	total, pages := 0, 0
	for tok := ""; ; pages++ {
		grants, res, err := s.Grants(context.Background(), r, resource.SyncOpAttrs{PageToken: paginationToken(tok)})
		if err != nil {
			t.Fatal(err)
		}
		total += len(grants)
		if res == nil { // the SDK reads nil results as the last page
			break
		}
		tok = res.NextPageToken
	}
	if total != 226 || pages != 1 {
		t.Errorf("system_admin grants: %d in %d extra pages, want 226 (225 + admin) in 1 (226 holders = 2 pages of 200)", total, pages)
	}
}

func TestRoleProvisioning(t *testing.T) {
	ctx := context.Background()
	fake := mmfake.New(t)
	seedRoleHolders(fake)
	c := newTestConnector(t, fake, Options{})
	s := newRoleSyncer(c.client)
	role := func(name string) *v2.Resource {
		def, _ := findSystemRole(name)
		r, err := roleResource(def, &mattermost.Role{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ent := func(name string) *v2.Entitlement {
		ents, _, _ := s.Entitlements(ctx, role(name), resource.SyncOpAttrs{})
		return ents[0]
	}
	user := func(id string) *v2.Resource {
		return v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "user", Resource: id}.Build()}.Build()
	}
	// Revoke works from the grant as C1 sends it: ids only.
	grantOf := func(roleName, userID string) *v2.Grant {
		return v2.Grant_builder{
			Entitlement: v2.Entitlement_builder{Resource: v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "role", Resource: roleName}.Build()}.Build()}.Build(),
			Principal:   user(userID),
		}.Build()
	}

	grants, annos, err := s.Grant(ctx, user("plain000000000000000000000"), ent("system_custom_group_admin"))
	if err != nil || len(annos) != 0 || len(grants) != 1 || grants[0].GetId() != "role:system_custom_group_admin:assigned:user:plain000000000000000000000" {
		t.Fatalf("grant: %v %v %v", grants, annos, err)
	}
	if got := fake.UserRoles("plain000000000000000000000"); got != "system_user system_custom_group_admin" {
		t.Errorf("after grant roles = %q", got)
	}
	_, annos, err = s.Grant(ctx, user("plain000000000000000000000"), ent("system_custom_group_admin"))
	if err != nil || !annos.Contains(&v2.GrantAlreadyExists{}) {
		t.Errorf("second grant: want GrantAlreadyExists and no error, got %v %v", annos, err)
	}
	annos, err = s.Revoke(ctx, grantOf("system_custom_group_admin", "plain000000000000000000000"))
	if err != nil || len(annos) != 0 {
		t.Fatalf("revoke: %v %v", annos, err)
	}
	if got := fake.UserRoles("plain000000000000000000000"); got != "system_user" {
		t.Errorf("after revoke roles = %q", got)
	}
	annos, err = s.Revoke(ctx, grantOf("system_custom_group_admin", "plain000000000000000000000"))
	if err != nil || !annos.Contains(&v2.GrantAlreadyRevoked{}) {
		t.Errorf("second revoke: want GrantAlreadyRevoked and no error, got %v %v", annos, err)
	}
	// A user without system_user gets it back on any change; the substring
	// holder of system_post_all_public does not hold system_post_all.
	fake.Users = append(fake.Users, mmfake.User{ID: "odd00000000000000000000000", Username: "odd", Roles: "system_post_all_public"})
	if _, _, err := s.Grant(ctx, user("odd00000000000000000000000"), ent("system_post_all")); err != nil {
		t.Fatal(err)
	}
	if got := fake.UserRoles("odd00000000000000000000000"); got != "system_user system_post_all_public system_post_all" {
		t.Errorf("roles = %q, want system_user kept first", got)
	}
	// A deactivated user's role can be revoked (access reviews remove leavers' rights).
	if _, err := s.Revoke(ctx, grantOf("system_user_manager", "uma00000000000000000000000")); err != nil {
		t.Errorf("revoke from a deactivated user: %v", err)
	}
	annos, err = s.Revoke(ctx, grantOf("system_admin", "nobody00000000000000000000"))
	if err != nil || !annos.Contains(&v2.GrantAlreadyRevoked{}) {
		t.Errorf("revoke from a missing user: want GrantAlreadyRevoked, got %v %v", annos, err)
	}

	refusals := []struct {
		name    string
		do      func() error
		code    codes.Code
		message string
	}{
		{"grant to deactivated", func() error {
			_, _, err := s.Grant(ctx, user("uma00000000000000000000000"), ent("system_admin"))
			return err
		},
			codes.FailedPrecondition, "deactivated"},
		{"grant to remote", func() error {
			_, _, err := s.Grant(ctx, user("remo0000000000000000000000"), ent("system_admin"))
			return err
		},
			codes.FailedPrecondition, "remote server"},
		{"revoke from remote", func() error {
			_, err := s.Revoke(ctx, grantOf("system_admin", "remo0000000000000000000000"))
			return err
		},
			codes.FailedPrecondition, "remote server"},
		{"grant to guest", func() error {
			_, _, err := s.Grant(ctx, user("gwen0000000000000000000000"), ent("system_admin"))
			return err
		},
			codes.FailedPrecondition, "promote the guest to a member"},
		{"grant guest role", func() error {
			_, _, err := s.Grant(ctx, user("plain000000000000000000000"), ent("system_guest"))
			return err
		},
			codes.FailedPrecondition, "demote/promote"},
		{"revoke guest role", func() error {
			_, err := s.Revoke(ctx, grantOf("system_guest", "gwen0000000000000000000000"))
			return err
		},
			codes.FailedPrecondition, "demote/promote"},
		{"revoke system_user", func() error {
			_, err := s.Revoke(ctx, grantOf("system_user", "plain000000000000000000000"))
			return err
		},
			codes.InvalidArgument, "base role"},
		{"grant to a group", func() error {
			g := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "group", Resource: "g1"}.Build()}.Build()
			_, _, err := s.Grant(ctx, g, ent("system_admin"))
			return err
		}, codes.InvalidArgument, "only users can hold the system_admin role"},
		{"grant to missing user", func() error {
			_, _, err := s.Grant(ctx, user("nobody00000000000000000000"), ent("system_admin"))
			return err
		},
			codes.NotFound, "no Mattermost user with id nobody00000000000000000000"},
		{"licensed role unlicensed", func() error {
			_, _, err := s.Grant(ctx, user("plain000000000000000000000"), ent("system_manager"))
			return err
		},
			codes.FailedPrecondition, "license"},
	}
	for _, tc := range refusals {
		err := tc.do()
		if status.Code(err) != tc.code || !strings.Contains(fmt.Sprint(err), tc.message) {
			t.Errorf("%s: got %v (code %v), want code %v mentioning %q", tc.name, err, status.Code(err), tc.code, tc.message)
		}
	}

	// The last System Admin: olivia can go, admin (the last human admin; bots do not count) cannot.
	if _, err := s.Revoke(ctx, grantOf("system_admin", "olivia00000000000000000000")); err != nil {
		t.Fatalf("revoke olivia's admin: %v", err)
	}
	// The token's own user: refused by the connector, before Mattermost's own rule.
	_, err = s.Revoke(ctx, grantOf("system_admin", "admin000000000000000000000"))
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "connector's own api-token") {
		t.Errorf("demoting the token's own user: got %v", err)
	}
	// Through another token (plain's), Mattermost's last-admin rule answers.
	fake.Mu.Lock()
	fake.MeID = "plain000000000000000000000"
	fake.Mu.Unlock()
	_, err = s.Revoke(ctx, grantOf("system_admin", "admin000000000000000000000"))
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "last active System Admin") {
		t.Errorf("demoting the last admin: got %v", err)
	}
	if got := fake.UserRoles("admin000000000000000000000"); got != "system_admin system_user" {
		t.Errorf("last admin's roles changed to %q", got)
	}

	// With the license, the delegated roles can be assigned.
	fake.Licensed("enterprise", "CustomPermissionsSchemes")
	if _, _, err := s.Grant(ctx, user("plain000000000000000000000"), ent("system_manager")); err != nil {
		t.Errorf("licensed grant of system_manager: %v", err)
	}
}

// TestRoleProvisioningOverGRPC checks that refusals keep their codes through
// the SDK's gRPC layer, where C1 sees them.
func TestRoleProvisioningOverGRPC(t *testing.T) {
	ctx := context.Background()
	fake := mmfake.New(t)
	seedRoleHolders(fake)
	client := synctest.Serve(t, ctx, newTestConnector(t, fake, Options{}))
	roleRes := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "role", Resource: "system_admin"}.Build()}.Build()
	ent := v2.Entitlement_builder{Id: "role:system_admin:assigned", Resource: roleRes}.Build()
	principal := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "user", Resource: "plain000000000000000000000"}.Build()}.Build()

	if _, err := client.Grant(ctx, v2.GrantManagerServiceGrantRequest_builder{Entitlement: ent, Principal: principal}.Build()); err != nil {
		t.Fatalf("grant over gRPC: %v", err)
	}
	if !strings.Contains(fake.UserRoles("plain000000000000000000000"), "system_admin") {
		t.Errorf("plain000000000000000000000 not admin after grant: %q", fake.UserRoles("plain000000000000000000000"))
	}
	g := v2.Grant_builder{Id: "role:system_admin:assigned:user:admin000000000000000000000", Entitlement: ent,
		Principal: v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "user", Resource: "gwen0000000000000000000000"}.Build()}.Build()}.Build()
	ent2 := v2.Entitlement_builder{Id: "role:system_guest:assigned",
		Resource: v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "role", Resource: "system_guest"}.Build()}.Build()}.Build()
	g.SetEntitlement(ent2)
	_, err := client.Revoke(ctx, v2.GrantManagerServiceRevokeRequest_builder{Grant: g}.Build())
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("revoking the guest role over gRPC: code %v (%v), want FailedPrecondition", status.Code(err), err)
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func paginationToken(tok string) pagination.Token { return pagination.Token{Token: tok} }
