package connector

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// provisioning drives Grant and Revoke through the SDK's gRPC server, as
// ConductorOne and the CLI do, against the fake.
type provisioning struct {
	t      *testing.T
	fake   *mmfake.Server
	client types.ConnectorClient
}

func newProvisioning(t *testing.T) *provisioning {
	fake := mmfake.New(t)
	seedSmallOrg(fake)
	seedChannels(fake)
	fake.Users = append(fake.Users,
		mmfake.User{ID: "carol000000000000000000000", Username: "carol", Roles: "system_user"},
		mmfake.User{ID: "remo0000000000000000000000", Username: "remote:remo", Roles: "system_user", RemoteID: "r1"},
	)
	fake.AddTeamMember("t2000000000000000000000000", "carol000000000000000000000", false, false)
	return &provisioning{t: t, fake: fake,
		client: synctest.Serve(t, context.Background(), newTestConnector(t, fake, Options{}))}
}

func entitlementOf(rtype *v2.ResourceType, id, slug string) *v2.Entitlement {
	r := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: rtype.GetId(), Resource: id}.Build(), DisplayName: id}.Build()
	return entitlement.NewAssignmentEntitlement(r, slug)
}

func userPrincipal(id string) *v2.Resource {
	return v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "user", Resource: id}.Build()}.Build()
}

// grant returns the ids of the grants created, the annotations and the error.
func (p *provisioning) grant(ent *v2.Entitlement, userID string) ([]string, annotations.Annotations, error) {
	p.t.Helper()
	resp, err := p.client.Grant(context.Background(), v2.GrantManagerServiceGrantRequest_builder{
		Entitlement: ent, Principal: userPrincipal(userID)}.Build())
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	for _, g := range resp.GetGrants() {
		ids = append(ids, g.GetId())
	}
	return ids, resp.GetAnnotations(), nil
}

// revoke sends the grant as ConductorOne does: entitlement and principal ids only.
func (p *provisioning) revoke(ent *v2.Entitlement, userID string) (annotations.Annotations, error) {
	p.t.Helper()
	resp, err := p.client.Revoke(context.Background(), v2.GrantManagerServiceRevokeRequest_builder{
		Grant: v2.Grant_builder{Id: ent.GetId() + ":user:" + userID, Entitlement: ent, Principal: userPrincipal(userID)}.Build()}.Build())
	if err != nil {
		return nil, err
	}
	return resp.GetAnnotations(), nil
}

func (p *provisioning) mustGrant(ent *v2.Entitlement, userID string, wantIDs ...string) {
	p.t.Helper()
	ids, annos, err := p.grant(ent, userID)
	if err != nil {
		p.t.Fatalf("grant %s to %s: %v", ent.GetId(), userID, err)
	}
	if annos.Contains(&v2.GrantAlreadyExists{}) {
		p.t.Fatalf("grant %s to %s: answered GrantAlreadyExists", ent.GetId(), userID)
	}
	if strings.Join(ids, " ") != strings.Join(wantIDs, " ") {
		p.t.Fatalf("grant %s to %s returned %v, want %v", ent.GetId(), userID, ids, wantIDs)
	}
}

func (p *provisioning) mustAlreadyHave(ent *v2.Entitlement, userID string) {
	p.t.Helper()
	_, annos, err := p.grant(ent, userID)
	if err != nil || !annos.Contains(&v2.GrantAlreadyExists{}) {
		p.t.Fatalf("grant %s to %s again: err %v, GrantAlreadyExists %v", ent.GetId(), userID, err, annos.Contains(&v2.GrantAlreadyExists{}))
	}
}

func (p *provisioning) mustRevoke(ent *v2.Entitlement, userID string) annotations.Annotations {
	p.t.Helper()
	annos, err := p.revoke(ent, userID)
	if err != nil {
		p.t.Fatalf("revoke %s from %s: %v", ent.GetId(), userID, err)
	}
	if annos.Contains(&v2.GrantAlreadyRevoked{}) {
		p.t.Fatalf("revoke %s from %s: answered GrantAlreadyRevoked", ent.GetId(), userID)
	}
	return annos
}

func (p *provisioning) mustAlreadyBeRevoked(ent *v2.Entitlement, userID string) {
	p.t.Helper()
	annos, err := p.revoke(ent, userID)
	if err != nil || !annos.Contains(&v2.GrantAlreadyRevoked{}) {
		p.t.Fatalf("revoke %s from %s again: err %v, GrantAlreadyRevoked %v", ent.GetId(), userID, err, annos.Contains(&v2.GrantAlreadyRevoked{}))
	}
}

// refused checks that the error has the code and mentions every fragment.
func refused(t *testing.T, err error, code codes.Code, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %v refusal, got success", code)
	}
	if got := status.Code(err); got != code {
		t.Fatalf("code = %v, want %v (%v)", got, code, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error does not mention %q: %v", f, err)
		}
	}
}

func TestTeamMemberGrantAndRevoke(t *testing.T) {
	p := newProvisioning(t)
	ent := entitlementOf(teamResourceType, "t1000000000000000000000000", "member")
	p.mustGrant(ent, "carol000000000000000000000", "team:t1000000000000000000000000:member:user:carol000000000000000000000")
	if m := p.fake.TeamMember("t1000000000000000000000000", "carol000000000000000000000"); m == nil || m.DeleteAt != 0 || m.SchemeAdmin {
		t.Fatalf("carol's membership after grant: %+v", m)
	}
	if p.fake.ChannelMember("town1000000000000000000000", "carol000000000000000000000") == nil {
		t.Error("Mattermost joins new members to town-square; the fake should too")
	}
	p.mustAlreadyHave(ent, "carol000000000000000000000")

	p.fake.AddChannelMember("random10000000000000000000", "carol000000000000000000000", false, false)
	annos := p.mustRevoke(ent, "carol000000000000000000000")
	if m := p.fake.TeamMember("t1000000000000000000000000", "carol000000000000000000000"); m == nil || m.DeleteAt == 0 {
		t.Fatalf("carol000000000000000000000 still a member: %+v", m)
	}
	if p.fake.ChannelMember("random10000000000000000000", "carol000000000000000000000") != nil || p.fake.ChannelMember("town1000000000000000000000", "carol000000000000000000000") != nil {
		t.Error("removal from the team should have removed carol000000000000000000000 from its channels")
	}
	md := &v2.GrantMetadata{}
	if ok, _ := annos.Pick(md); !ok {
		t.Fatal("team revoke carries no GrantMetadata describing the channel removals")
	}
	removed := md.GetMetadata().GetFields()["removed_from_channels"].GetListValue().AsSlice()
	if len(removed) != 2 {
		t.Errorf("removed_from_channels = %v, want town1000000000000000000000 and random10000000000000000000", removed)
	}
	// The fake's left row (delete_at > 0) must read as "not a member".
	p.mustAlreadyBeRevoked(ent, "carol000000000000000000000")
	// Re-grant after leaving.
	p.mustGrant(ent, "carol000000000000000000000", "team:t1000000000000000000000000:member:user:carol000000000000000000000")
}

func TestTeamAdminGrantAndRevoke(t *testing.T) {
	p := newProvisioning(t)
	admin := entitlementOf(teamResourceType, "t1000000000000000000000000", "admin")
	member := entitlementOf(teamResourceType, "t1000000000000000000000000", "member")

	// Non-member: added first, both grants are new.
	p.mustGrant(admin, "carol000000000000000000000", "team:t1000000000000000000000000:member:user:carol000000000000000000000", "team:t1000000000000000000000000:admin:user:carol000000000000000000000")
	if m := p.fake.TeamMember("t1000000000000000000000000", "carol000000000000000000000"); m == nil || !m.SchemeAdmin || !m.SchemeUser {
		t.Fatalf("carol000000000000000000000 after admin grant: %+v", m)
	}
	p.mustAlreadyHave(admin, "carol000000000000000000000")
	p.mustAlreadyHave(member, "carol000000000000000000000")

	// Revoking admin keeps the membership (scheme_user stays).
	p.mustRevoke(admin, "carol000000000000000000000")
	if m := p.fake.TeamMember("t1000000000000000000000000", "carol000000000000000000000"); m == nil || m.SchemeAdmin || !m.SchemeUser || m.DeleteAt != 0 {
		t.Fatalf("carol000000000000000000000 after admin revoke: %+v", m)
	}
	p.mustAlreadyBeRevoked(admin, "carol000000000000000000000")

	// Member: only the admin grant is new.
	p.mustGrant(admin, "carol000000000000000000000", "team:t1000000000000000000000000:admin:user:carol000000000000000000000")
}

func TestChannelMemberAndAdminGrantAndRevoke(t *testing.T) {
	p := newProvisioning(t)
	member := entitlementOf(channelResourceType, "backend0000000000000000000", "member")
	admin := entitlementOf(channelResourceType, "backend0000000000000000000", "admin")
	p.fake.AddTeamMember("t1000000000000000000000000", "carol000000000000000000000", false, false)

	p.mustGrant(member, "carol000000000000000000000", "channel:backend0000000000000000000:member:user:carol000000000000000000000")
	p.mustAlreadyHave(member, "carol000000000000000000000")
	p.mustGrant(admin, "carol000000000000000000000", "channel:backend0000000000000000000:admin:user:carol000000000000000000000")
	p.mustAlreadyHave(admin, "carol000000000000000000000")
	p.mustRevoke(admin, "carol000000000000000000000")
	if m := p.fake.ChannelMember("backend0000000000000000000", "carol000000000000000000000"); m == nil || m.SchemeAdmin || !m.SchemeUser {
		t.Fatalf("carol000000000000000000000 after channel admin revoke: %+v", m)
	}
	p.mustAlreadyBeRevoked(admin, "carol000000000000000000000")
	p.mustRevoke(member, "carol000000000000000000000")
	if p.fake.ChannelMember("backend0000000000000000000", "carol000000000000000000000") != nil {
		t.Fatal("carol000000000000000000000 still in backend0000000000000000000")
	}
	p.mustAlreadyBeRevoked(member, "carol000000000000000000000")
	if m := p.fake.TeamMember("t1000000000000000000000000", "carol000000000000000000000"); m == nil || m.DeleteAt != 0 {
		t.Error("leaving a channel must not remove the team membership")
	}

	// Admin for a non-member of the channel adds the membership too.
	p.mustGrant(admin, "carol000000000000000000000", "channel:backend0000000000000000000:member:user:carol000000000000000000000",
		"channel:backend0000000000000000000:admin:user:carol000000000000000000000")
}

func TestGrantRefusals(t *testing.T) {
	p := newProvisioning(t)
	p.fake.Mu.Lock()
	p.fake.Teams = append(p.fake.Teams, mmfake.Team{ID: "t4000000000000000000000000", Name: "ldap", DisplayName: "LDAP Team", GroupConstrained: boolPtr(true)})
	p.fake.Mu.Unlock()
	p.fake.AddChannel(mmfake.Channel{ID: "synced00000000000000000000", TeamID: "t1000000000000000000000000", Type: "P", Name: "synced", DisplayName: "Synced", GroupConstrained: boolPtr(true)})

	cases := []struct {
		name      string
		ent       *v2.Entitlement
		user      string
		code      codes.Code
		fragments []string
	}{
		{"deactivated user", entitlementOf(teamResourceType, "t2000000000000000000000000", "member"), "bob00000000000000000000000", codes.FailedPrecondition, []string{"deactivated", "reactivate"}},
		{"remote user", entitlementOf(teamResourceType, "t1000000000000000000000000", "member"), "remo0000000000000000000000", codes.FailedPrecondition, []string{"remote server", "home server"}},
		{"guest as team admin", entitlementOf(teamResourceType, "t2000000000000000000000000", "admin"), "gina0000000000000000000000", codes.FailedPrecondition, []string{"guest", "promote"}},
		{"guest as channel admin", entitlementOf(channelResourceType, "backend0000000000000000000", "admin"), "gina0000000000000000000000", codes.FailedPrecondition, []string{"guest", "promote"}},
		{"archived team", entitlementOf(teamResourceType, "t3000000000000000000000000", "member"), "carol000000000000000000000", codes.FailedPrecondition, []string{"archived", "restore"}},
		{"archived channel", entitlementOf(channelResourceType, "oldp0000000000000000000000", "member"), "alice000000000000000000000", codes.FailedPrecondition, []string{"archived"}},
		{"channel of an archived team", entitlementOf(channelResourceType, "runbooks000000000000000000", "member"), "carol000000000000000000000",
			codes.FailedPrecondition, []string{"archived team", "restore the team"}},
		{"group-constrained team", entitlementOf(teamResourceType, "t4000000000000000000000000", "member"), "carol000000000000000000000", codes.FailedPrecondition,
			[]string{"group-synced", "linked groups"}},
		{"group-constrained channel", entitlementOf(channelResourceType, "synced00000000000000000000", "member"), "alice000000000000000000000", codes.FailedPrecondition, []string{"group-synced"}},
		{"channel member not in the team", entitlementOf(channelResourceType, "backend0000000000000000000", "member"), "carol000000000000000000000",
			codes.FailedPrecondition, []string{"not a member of the team", "team:t1000000000000000000000000:member"}},
		{"channel admin not in the team", entitlementOf(channelResourceType, "backend0000000000000000000", "admin"), "carol000000000000000000000",
			codes.FailedPrecondition, []string{"team:t1000000000000000000000000:member"}},
		{"direct message", entitlementOf(channelResourceType, "dm100000000000000000000000", "member"), "carol000000000000000000000", codes.InvalidArgument, []string{"direct or group message"}},
		{"unknown team", entitlementOf(teamResourceType, "nope0000000000000000000000", "member"), "carol000000000000000000000", codes.NotFound, []string{"does not exist"}},
		{"unknown user", entitlementOf(teamResourceType, "t1000000000000000000000000", "member"), "ghost000000000000000000000", codes.NotFound, []string{"ghost000000000000000000000"}},
		{"unknown entitlement", entitlementOf(teamResourceType, "t1000000000000000000000000", "owner"), "carol000000000000000000000", codes.InvalidArgument, []string{"unknown team entitlement"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(p.fake.Requests())
			_, _, err := p.grant(c.ent, c.user)
			refused(t, err, c.code, c.fragments...)
			for _, r := range p.fake.Requests()[before:] {
				if !strings.HasPrefix(r, "GET ") && !strings.Contains(r, "/members/ids") {
					t.Errorf("a refused grant changed something: %s", r)
				}
			}
		})
	}

	t.Run("principal is not a user", func(t *testing.T) {
		_, err := p.client.Grant(context.Background(), v2.GrantManagerServiceGrantRequest_builder{
			Entitlement: entitlementOf(teamResourceType, "t1000000000000000000000000", "member"),
			Principal:   v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "team", Resource: "t2000000000000000000000000"}.Build()}.Build()}.Build())
		refused(t, err, codes.InvalidArgument, "only users")
	})
	t.Run("bots may join group-constrained teams", func(t *testing.T) {
		p.mustGrant(entitlementOf(teamResourceType, "t4000000000000000000000000", "member"), "robot000000000000000000000", "team:t4000000000000000000000000:member:user:robot000000000000000000000")
	})
}

func TestTeamFull(t *testing.T) {
	p := newProvisioning(t)
	p.fake.Mu.Lock()
	p.fake.MaxUsersPerTeam = 1 // t2 has robot and carol
	p.fake.Mu.Unlock()
	_, _, err := p.grant(entitlementOf(teamResourceType, "t2000000000000000000000000", "member"), "alice000000000000000000000")
	refused(t, err, codes.FailedPrecondition, "is full", "MaxUsersPerTeam")
	if m := p.fake.TeamMember("t2000000000000000000000000", "alice000000000000000000000"); m != nil && m.DeleteAt == 0 {
		t.Error("alice000000000000000000000 was added to a full team")
	}
}

func TestRevokeRefusalsAndGoneTargets(t *testing.T) {
	p := newProvisioning(t)
	_, err := p.revoke(entitlementOf(channelResourceType, "town1000000000000000000000", "member"), "alice000000000000000000000")
	refused(t, err, codes.FailedPrecondition, "default channel", "team:t1000000000000000000000000:member")

	p.fake.Mu.Lock()
	p.fake.Teams = append(p.fake.Teams, mmfake.Team{ID: "t4000000000000000000000000", Name: "ldap", DisplayName: "LDAP Team", GroupConstrained: boolPtr(true)})
	p.fake.Mu.Unlock()
	p.fake.AddTeamMember("t4000000000000000000000000", "alice000000000000000000000", true, false)
	for _, slug := range []string{"member", "admin"} {
		_, err = p.revoke(entitlementOf(teamResourceType, "t4000000000000000000000000", slug), "alice000000000000000000000")
		refused(t, err, codes.FailedPrecondition, "group-synced", "remove the user from its linked groups")
	}
	if m := p.fake.TeamMember("t4000000000000000000000000", "alice000000000000000000000"); m == nil || m.DeleteAt != 0 || !m.SchemeAdmin {
		t.Errorf("a refused revoke changed alice's membership: %+v", m)
	}

	// A team or channel that no longer exists holds no grant.
	p.mustAlreadyBeRevoked(entitlementOf(teamResourceType, "deletedteam000000000000000", "member"), "alice000000000000000000000")
	p.mustAlreadyBeRevoked(entitlementOf(channelResourceType, "deletedchannel000000000000", "admin"), "alice000000000000000000000")
	// Never a member (Mattermost answers 404) and a left member (row with delete_at).
	p.mustAlreadyBeRevoked(entitlementOf(teamResourceType, "t2000000000000000000000000", "member"), "gina0000000000000000000000")
	p.mustAlreadyBeRevoked(entitlementOf(teamResourceType, "t2000000000000000000000000", "member"), "alice000000000000000000000")
}

// Granting admin to a non-member adds the membership first. If the admin role
// then fails, the membership stays and the error says so: Mattermost answers
// an add alike whether or not the user was a member already, so the grant
// cannot tell its own add from someone else's at the same moment, and must
// not remove a membership that may be theirs. Repeating the grant completes it.
func TestAdminGrantKeepsTheMembershipItMayNotOwn(t *testing.T) {
	const carol, t1 = "carol000000000000000000000", "t1000000000000000000000000"
	admin := entitlementOf(teamResourceType, t1, "admin")
	for _, concurrent := range []bool{false, true} {
		p := newProvisioning(t)
		var failRoles atomic.Bool
		failRoles.Store(true)
		p.fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			switch {
			case concurrent && r.Method == http.MethodPost && r.URL.Path == "/api/v4/teams/"+t1+"/members":
				// Someone else adds carol between the grant's read and its add.
				p.fake.AddTeamMember(t1, carol, false, false)
			case failRoles.Load() && r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/schemeRoles"):
				mmfake.WriteError(w, http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
				return true
			case r.Method == http.MethodDelete:
				t.Errorf("concurrent %v: %s %s: the failed grant removed a membership", concurrent, r.Method, r.URL.Path)
			}
			return false
		}
		_, _, err := p.grant(admin, carol)
		refused(t, err, codes.PermissionDenied, "appropriate permissions", "stays a member", "repeating the grant")
		if m := p.fake.TeamMember(t1, carol); m == nil || m.DeleteAt != 0 || m.SchemeAdmin {
			t.Fatalf("concurrent %v: carol's membership after the failed admin grant: %+v", concurrent, m)
		}
		failRoles.Store(false)
		p.mustGrant(admin, carol, "team:"+t1+":admin:user:"+carol)
	}
}

// A write that fails but was applied (e.g. a proxy error after the server
// did the work) is checked by reading the state again.
func TestWriteFailureThatWasAppliedCountsAsSuccess(t *testing.T) {
	p := newProvisioning(t)
	p.fake.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v4/teams/t1000000000000000000000000/members" {
			p.fake.AddTeamMember("t1000000000000000000000000", "carol000000000000000000000", false, false)
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	}
	p.mustGrant(entitlementOf(teamResourceType, "t1000000000000000000000000", "member"), "carol000000000000000000000", "team:t1000000000000000000000000:member:user:carol000000000000000000000")
}
