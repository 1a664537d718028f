package connector

import (
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/mmfake"
	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	sdksync "github.com/conductorone/baton-sdk/pkg/sync"
	"google.golang.org/protobuf/proto"
)

// target names a resource for a targeted sync, with its parent if any.
func target(typ, id, parentType, parentID string) *v2.Resource {
	r := v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: typ, Resource: id}.Build()}.Build()
	if parentID != "" {
		r.SetParentResourceId(v2.ResourceId_builder{ResourceType: parentType, Resource: parentID}.Build())
	}
	return r
}

func syncTargeted(t *testing.T, fake *mmfake.Server, opts Options, targets ...*v2.Resource) (*synctest.Result, error) {
	t.Helper()
	return synctest.Sync(t, newTestConnector(t, fake, opts), sdksync.WithTargetedSyncResources(targets))
}

// A targeted sync of any resource type stores what a full sync stores about
// that resource: the resource itself, its entitlements and their grants.
func TestTargetedSyncStoresWhatAFullSyncDoes(t *testing.T) {
	org := mmfake.New(t)
	seedSmallOrg(org)
	seedChannels(org)
	org.LastLogins["alice000000000000000000000"] = lastLoginOf(1)
	groups := mmfake.New(t)
	seedGroups(groups)
	for _, tc := range []struct {
		fake   *mmfake.Server
		target *v2.Resource
	}{
		{org, target("team", "t1000000000000000000000000", "", "")},
		{org, target("channel", "backend0000000000000000000", "team", "t1000000000000000000000000")},
		{org, target("channel", "deals000000000000000000000", "", "")},
		{org, target("user", "alice000000000000000000000", "", "")},
		{org, target("user", "robot000000000000000000000", "", "")},
		{org, target("role", "system_admin", "", "")},
		{org, target("role", "system_guest", "", "")},
		{groups, target("group", "gcustom0000000000000000000", "", "")},
		{groups, target("group", "gldap000000000000000000000", "", "")},
		{groups, target("team", "t1000000000000000000000000", "", "")}, // group-constrained: its grants to the linked group
	} {
		id := tc.target.GetId()
		t.Run(id.GetResourceType()+"/"+id.GetResource(), func(t *testing.T) {
			full, err := synctest.Sync(t, newTestConnector(t, tc.fake, Options{}))
			if err != nil {
				t.Fatalf("full sync: %v", err)
			}
			got, err := syncTargeted(t, tc.fake, Options{}, tc.target)
			if err != nil {
				t.Fatalf("targeted sync: %v", err)
			}
			want := full.About(id.GetResourceType(), id.GetResource())
			if len(want.Resources) != 1 || (id.GetResourceType() != "user" && len(want.Grants) == 0) {
				t.Fatalf("the full sync has %d such resources and %d grants on it: not a useful case", len(want.Resources), len(want.Grants))
			}
			// A partial sync does not expand grants (the SDK's rule): the
			// full sync's grants through a linked group carry sources that
			// the targeted sync's cannot.
			for i, g := range want.Grants {
				want.Grants[i] = proto.CloneOf(g)
				want.Grants[i].ClearSources()
			}
			if diffs := synctest.Diff(want, got.About(id.GetResourceType(), id.GetResource())); len(diffs) > 0 {
				t.Errorf("targeted sync differs from the full sync:\n%s", strings.Join(diffs, "\n"))
			}
		})
	}
}

// A targeted sync of a resource that is not there, or that the configuration
// leaves out, fails naming it, with a code baton-sdk neither skips (as it
// does NotFound) nor retries.
func TestTargetedSyncRefusals(t *testing.T) {
	org := mmfake.New(t)
	seedSmallOrg(org)
	seedChannels(org)
	groups := mmfake.New(t)
	seedGroups(groups)
	for _, tc := range []struct {
		fake   *mmfake.Server
		opts   Options
		target *v2.Resource
		want   []string // "" when the sync must succeed
	}{
		{org, Options{}, target("team", "nope0000000000000000000000", "", ""), []string{"InvalidArgument", "cannot sync team nope0000000000000000000000", "has none with this id"}},
		{org, Options{}, target("user", "nope0000000000000000000000", "", ""), []string{"InvalidArgument", "cannot sync user nope0000000000000000000000", "has none with this id"}},
		{org, Options{}, target("channel", "nope0000000000000000000000", "team", "t1000000000000000000000000"), []string{"InvalidArgument", "cannot sync channel nope0000000000000000000000"}},
		{org, Options{}, target("role", "system_user", "", ""), []string{"InvalidArgument", "cannot sync role system_user", "only the system roles"}},
		{org, Options{}, target("team", "t3000000000000000000000000", "", ""), []string{"FailedPrecondition", "cannot sync team t3000000000000000000000000", "include-archived-teams"}},
		{org, Options{IncludeArchivedTeams: true}, target("team", "t3000000000000000000000000", "", ""), nil},
		{org, Options{}, target("channel", "backend0000000000000000000", "team", "t2000000000000000000000000"),
			[]string{"InvalidArgument", "is a channel of team t1000000000000000000000000, not of team t2000000000000000000000000"}},
		{org, Options{}, target("channel", "dm100000000000000000000000", "", ""), []string{"InvalidArgument", "direct or group message"}},
		{org, Options{}, target("channel", "town1000000000000000000000", "team", "t1000000000000000000000000"), []string{"FailedPrecondition", "sync-public-channels"}},
		{org, Options{SyncPublicChannels: true}, target("channel", "town1000000000000000000000", "team", "t1000000000000000000000000"), nil},
		{org, Options{}, target("channel", "oldp0000000000000000000000", "team", "t1000000000000000000000000"), []string{"FailedPrecondition", "the channel is archived"}},
		{org, Options{}, target("channel", "runbooks000000000000000000", "team", "t3000000000000000000000000"),
			[]string{"FailedPrecondition", `its team "Old" (t3000000000000000000000000) is archived`}},
		{org, Options{}, target("group", "gcustom0000000000000000000", "", ""), []string{"FailedPrecondition", "cannot sync group gcustom0000000000000000000", "license"}},
		{groups, Options{}, target("group", "gold0000000000000000000000", "", ""), []string{"FailedPrecondition", "the group is archived"}},
		{groups, Options{}, target("group", "nope0000000000000000000000", "", ""), []string{"InvalidArgument", "cannot sync group nope0000000000000000000000", "has none with this id"}},
		{groups, Options{}, target("group", "..", "", ""), []string{"InvalidArgument", "cannot sync group ..", "must be a Mattermost group id"}},
	} {
		id := tc.target.GetId()
		t.Run(id.GetResourceType()+"/"+id.GetResource(), func(t *testing.T) {
			res, err := syncTargeted(t, tc.fake, tc.opts, tc.target)
			if tc.want == nil {
				if err != nil || len(res.About(id.GetResourceType(), id.GetResource()).Resources) != 1 {
					t.Fatalf("targeted sync: %v, want the resource synced00000000000000000000", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("targeted sync succeeded, want a failure naming %v", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}
