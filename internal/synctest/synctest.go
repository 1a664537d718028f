// Package synctest runs a full baton sync of a connector in-process (the
// SDK's syncer over an in-memory gRPC connection) and reads back the c1z, so
// tests can assert on exactly what a real run would store.
package synctest

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/connectorclient"
	"github.com/conductorone/baton-sdk/pkg/dotc1z"
	sdksync "github.com/conductorone/baton-sdk/pkg/sync"
	"github.com/conductorone/baton-sdk/pkg/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// Result is what a sync stored.
type Result struct {
	Resources    []*v2.Resource
	Entitlements []*v2.Entitlement
	Grants       []*v2.Grant
}

// ResourcesOfType returns the stored resources of one type, by resource id.
func (r *Result) ResourcesOfType(typeID string) map[string]*v2.Resource {
	out := map[string]*v2.Resource{}
	for _, res := range r.Resources {
		if res.GetId().GetResourceType() == typeID {
			out[res.GetId().GetResource()] = res
		}
	}
	return out
}

// GrantIDs returns the set of stored grant ids ("team:T:member:user:U").
func (r *Result) GrantIDs() map[string]bool {
	out := map[string]bool{}
	for _, g := range r.Grants {
		out[g.GetId()] = true
	}
	return out
}

// GrantIDsOn returns the set of stored grant ids on resources of one type.
func (r *Result) GrantIDsOn(typeID string) map[string]bool {
	out := map[string]bool{}
	for _, g := range r.Grants {
		if g.GetEntitlement().GetResource().GetId().GetResourceType() == typeID {
			out[g.GetId()] = true
		}
	}
	return out
}

// EntitlementsOn returns the stored entitlements of resources of one type.
func (r *Result) EntitlementsOn(typeID string) []*v2.Entitlement {
	var out []*v2.Entitlement
	for _, e := range r.Entitlements {
		if e.GetResource().GetId().GetResourceType() == typeID {
			out = append(out, e)
		}
	}
	return out
}

// Serve exposes a connector builder over an in-memory gRPC connection, as the
// CLI's _connector-service child would, and returns a client for it.
func Serve(t testing.TB, ctx context.Context, cb connectorbuilder.ConnectorBuilderV2) types.ConnectorClient {
	t.Helper()
	srv, err := connectorbuilder.NewConnector(ctx, cb)
	if err != nil {
		t.Fatalf("connectorbuilder.NewConnector: %v", err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	v2.RegisterConnectorServiceServer(gs, srv)
	v2.RegisterResourceTypesServiceServer(gs, srv)
	v2.RegisterResourcesServiceServer(gs, srv)
	v2.RegisterEntitlementsServiceServer(gs, srv)
	v2.RegisterGrantsServiceServer(gs, srv)
	v2.RegisterAssetServiceServer(gs, srv)
	v2.RegisterResourceGetterServiceServer(gs, srv)
	v2.RegisterGrantManagerServiceServer(gs, srv)
	v2.RegisterAccountManagerServiceServer(gs, srv)
	v2.RegisterActionServiceServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(context.Context, string) (net.Conn, error) { return lis.Dial() }))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return connectorclient.NewConnectorClient(ctx, conn)
}

// Sync runs a full sync of cb and returns what it stored. A sync error is returned, not fatal.
func Sync(t testing.TB, cb connectorbuilder.ConnectorBuilderV2, opts ...sdksync.SyncOpt) (*Result, error) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sync.c1z")
	client := Serve(t, ctx, cb)
	opts = append([]sdksync.SyncOpt{sdksync.WithC1ZPath(path), sdksync.WithTmpDir(t.TempDir())}, opts...)
	s, err := sdksync.NewSyncer(ctx, client, opts...)
	if err != nil {
		t.Fatalf("sync.NewSyncer: %v", err)
	}
	syncErr := s.Sync(ctx)
	if err := s.Close(ctx); err != nil && syncErr == nil {
		syncErr = err
	}
	if syncErr != nil {
		return nil, syncErr
	}
	return Read(t, path), nil
}

// Read loads the latest finished sync of a c1z file.
func Read(t testing.TB, path string) *Result {
	t.Helper()
	ctx := context.Background()
	store, err := dotc1z.NewStore(ctx, path, dotc1z.WithReadOnly(true), dotc1z.WithTmpDir(t.TempDir()))
	if err != nil {
		t.Fatalf("dotc1z.NewStore: %v", err)
	}
	defer store.Close(ctx)
	latest, err := store.SyncMeta().LatestFinishedSyncOfAnyType(ctx)
	if err != nil || latest == nil {
		t.Fatalf("no finished sync in %s: %v", path, err)
	}
	if err := store.SetCurrentSync(ctx, latest.ID); err != nil {
		t.Fatalf("SetCurrentSync: %v", err)
	}
	res := &Result{}
	for tok := ""; ; {
		resp, err := store.ListResources(ctx, v2.ResourcesServiceListResourcesRequest_builder{PageSize: 1000, PageToken: tok}.Build())
		if err != nil {
			t.Fatalf("ListResources: %v", err)
		}
		res.Resources = append(res.Resources, resp.GetList()...)
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	for tok := ""; ; {
		resp, err := store.ListEntitlements(ctx, v2.EntitlementsServiceListEntitlementsRequest_builder{PageSize: 1000, PageToken: tok}.Build())
		if err != nil {
			t.Fatalf("ListEntitlements: %v", err)
		}
		res.Entitlements = append(res.Entitlements, resp.GetList()...)
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	for tok := ""; ; {
		resp, err := store.ListGrants(ctx, v2.GrantsServiceListGrantsRequest_builder{PageSize: 1000, PageToken: tok}.Build())
		if err != nil {
			t.Fatalf("ListGrants: %v", err)
		}
		res.Grants = append(res.Grants, resp.GetList()...)
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	return res
}
