package connector

import (
	"fmt"
	"net/http"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Targeted sync: `--sync-resources bid:r:team/<id>` (or a sync ConductorOne
// asks for one resource) makes baton-sdk call the syncer's Get for that
// resource, store it, then sync its entitlements and grants as a full sync
// would (and list a team's channels). Every syncer has a Get that builds the
// resource as its List does.
//
// A resource that is not there must fail the run. baton-sdk v0.25.0 answers a
// Get that fails with NotFound (or Unimplemented) by logging a warning and
// carrying on, so such a run would exit 0 having refreshed nothing. Get
// therefore answers codes the SDK neither skips nor retries: InvalidArgument
// (exit status 3) when the server has no such resource, FailedPrecondition (9)
// when it has one that the configuration leaves out of a sync. The message
// names the resource type and id.

// targetResult passes Get's result to the SDK: the server's 404, and its 400
// for an id that is not one, become InvalidArgument naming the id; other
// errors are coded by grpcError.
func targetResult(id *v2.ResourceId, r *v2.Resource, err error) (*v2.Resource, annotations.Annotations, error) {
	switch {
	case err == nil:
		return r, nil, nil
	case status.Code(grpcError(err)) == codes.NotFound:
		return nil, nil, notSyncable(codes.InvalidArgument, id, "the Mattermost server has none with this id (deleted, or a wrong id)", err)
	case mattermost.StatusCode(err) == http.StatusBadRequest:
		return nil, nil, notSyncable(codes.InvalidArgument, id, "the Mattermost server refuses the id (ids are 26 lowercase letters and digits)", err)
	}
	return nil, nil, grpcError(err)
}

// checkTargetID refuses, before any request, a targeted sync of a user, team,
// channel, group or token whose id is not a Mattermost id (see checkID).
func checkTargetID(id *v2.ResourceId) error {
	if err := checkID(id.GetResourceType(), id.GetResource()); err != nil {
		return notSyncable(codes.InvalidArgument, id, status.Convert(err).Message(), nil)
	}
	return nil
}

// notSyncable is the refusal of a targeted sync of resource id, saying why.
func notSyncable(code codes.Code, id *v2.ResourceId, why string, cause error) error {
	return status.Error(code, fmt.Sprintf("cannot sync %s %s: %s%s", id.GetResourceType(), id.GetResource(), why, because(cause)))
}

var (
	_ connectorbuilder.ResourceTargetedSyncerLimited = (*userSyncer)(nil)
	_ connectorbuilder.ResourceTargetedSyncerLimited = (*teamSyncer)(nil)
	_ connectorbuilder.ResourceTargetedSyncerLimited = (*channelSyncer)(nil)
	_ connectorbuilder.ResourceTargetedSyncerLimited = (*roleSyncer)(nil)
	_ connectorbuilder.ResourceTargetedSyncerLimited = (*groupSyncer)(nil)
	_ connectorbuilder.ResourceTargetedSyncerLimited = (*tokenSyncer)(nil)
)
