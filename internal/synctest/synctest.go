// Package synctest runs a full baton sync of a connector in-process (the
// SDK's syncer over an in-memory gRPC connection) and reads back the c1z, so
// tests can assert on exactly what a real run would store.
package synctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"github.com/conductorone/baton-sdk/pkg/connectorclient"
	"github.com/conductorone/baton-sdk/pkg/dotc1z"
	c1zv3 "github.com/conductorone/baton-sdk/pkg/dotc1z/format/v3"
	sdksync "github.com/conductorone/baton-sdk/pkg/sync"
	"github.com/conductorone/baton-sdk/pkg/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
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

// About returns the part of the result about one resource: the resource,
// its entitlements, and the grants of those entitlements.
func (r *Result) About(typeID, id string) *Result {
	is := func(rid *v2.ResourceId) bool { return rid.GetResourceType() == typeID && rid.GetResource() == id }
	var out Result
	for _, res := range r.Resources {
		if is(res.GetId()) {
			out.Resources = append(out.Resources, res)
		}
	}
	for _, e := range r.Entitlements {
		if is(e.GetResource().GetId()) {
			out.Entitlements = append(out.Entitlements, e)
		}
	}
	for _, g := range r.Grants {
		if is(g.GetEntitlement().GetResource().GetId()) {
			out.Grants = append(out.Grants, g)
		}
	}
	return &out
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

// Read loads the latest finished sync of a c1z file, failing the test on error.
func Read(t testing.TB, path string) *Result {
	t.Helper()
	res, err := ReadFile(context.Background(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ReadFile loads the latest finished sync of a c1z file; tmpDir holds the unpacked store.
func ReadFile(ctx context.Context, path, tmpDir string) (*Result, error) {
	store, err := dotc1z.NewStore(ctx, path, dotc1z.WithReadOnly(true), dotc1z.WithTmpDir(tmpDir))
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer store.Close(ctx)
	latest, err := store.SyncMeta().LatestFinishedSyncOfAnyType(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading syncs of %s: %w", path, err)
	}
	if latest == nil {
		return nil, fmt.Errorf("no finished sync in %s", path)
	}
	if err := store.SetCurrentSync(ctx, latest.ID); err != nil {
		return nil, err
	}
	var res Result
	if res.Resources, err = drain(func(tok string) ([]*v2.Resource, string, error) {
		resp, err := store.ListResources(ctx, v2.ResourcesServiceListResourcesRequest_builder{PageSize: 1000, PageToken: tok}.Build())
		return resp.GetList(), resp.GetNextPageToken(), err
	}); err != nil {
		return nil, err
	}
	if res.Entitlements, err = drain(func(tok string) ([]*v2.Entitlement, string, error) {
		resp, err := store.ListEntitlements(ctx, v2.EntitlementsServiceListEntitlementsRequest_builder{PageSize: 1000, PageToken: tok}.Build())
		return resp.GetList(), resp.GetNextPageToken(), err
	}); err != nil {
		return nil, err
	}
	if res.Grants, err = drain(func(tok string) ([]*v2.Grant, string, error) {
		resp, err := store.ListGrants(ctx, v2.GrantsServiceListGrantsRequest_builder{PageSize: 1000, PageToken: tok}.Build())
		return resp.GetList(), resp.GetNextPageToken(), err
	}); err != nil {
		return nil, err
	}
	return &res, nil
}

// drain calls a paged store listing until its last page.
func drain[T any](list func(tok string) ([]T, string, error)) ([]T, error) {
	var all []T
	for tok := ""; ; {
		items, next, err := list(tok)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		tok = next
	}
}

// Diff lists what differs between two syncs: resources, entitlements and
// grants missing from one side or stored with different content, keyed by
// their ids (resources by "type:id"). Empty means the same access graph.
func Diff(want, got *Result) []string {
	var diffs []string
	diffs = append(diffs, diffByID("resource", want.Resources, got.Resources, func(r *v2.Resource) string {
		return r.GetId().GetResourceType() + ":" + r.GetId().GetResource()
	})...)
	diffs = append(diffs, diffByID("entitlement", want.Entitlements, got.Entitlements, (*v2.Entitlement).GetId)...)
	diffs = append(diffs, diffByID("grant", want.Grants, got.Grants, (*v2.Grant).GetId)...)
	return diffs
}

func diffByID[T proto.Message](kind string, want, got []T, id func(T) string) []string {
	index := func(items []T) (map[string]T, []string) {
		m := make(map[string]T, len(items))
		var dups []string
		for _, it := range items {
			k := id(it)
			if _, ok := m[k]; ok {
				dups = append(dups, fmt.Sprintf("%s %s stored twice", kind, k))
			}
			m[k] = it
		}
		return m, dups
	}
	w, diffs := index(want)
	g, gotDups := index(got)
	diffs = append(diffs, gotDups...)
	for k, wv := range w {
		gv, ok := g[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s %s missing", kind, k))
		case !proto.Equal(wv, gv):
			diffs = append(diffs, fmt.Sprintf("%s %s differs:\n  want %v\n  got  %v", kind, k, wv, gv))
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s %s unexpected", kind, k))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// HasFinishedSync reports whether the c1z at path holds a finished sync,
// i.e. whether it looks complete to whoever reads it. A missing file has none.
func HasFinishedSync(t testing.TB, path string) bool {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false
	}
	ctx := context.Background()
	store, err := dotc1z.NewStore(ctx, path, dotc1z.WithReadOnly(true), dotc1z.WithTmpDir(t.TempDir()))
	if err != nil {
		t.Fatalf("dotc1z.NewStore(%s): %v", path, err)
	}
	defer store.Close(ctx)
	latest, err := store.SyncMeta().LatestFinishedSyncOfAnyType(ctx)
	if err != nil {
		t.Fatalf("reading the syncs of %s: %v", path, err)
	}
	return latest != nil
}

// Find lists the stored objects whose content (as protobuf JSON) contains s,
// e.g. to prove that a secret appears nowhere in a c1z.
func Find(res *Result, s string) []string {
	var found []string
	check := func(kind, id string, m proto.Message) {
		b, err := protojson.Marshal(m)
		if err != nil || strings.Contains(string(b), s) {
			found = append(found, kind+" "+id)
		}
	}
	for _, r := range res.Resources {
		check("resource", r.GetId().GetResourceType()+":"+r.GetId().GetResource(), r)
	}
	for _, e := range res.Entitlements {
		check("entitlement", e.GetId(), e)
	}
	for _, g := range res.Grants {
		check("grant", g.GetId(), g)
	}
	return found
}

// Uncompressed returns the bytes a c1z holds: the file itself and, below
// its compression, the SQLite database (v1, --storage-engine sqlite) or every
// file of the Pebble checkpoint (v3, the default), keyed by a name for messages.
func Uncompressed(t testing.TB, path string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out[path] = raw
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, err := dotc1z.ReadHeaderFormat(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	switch format {
	case dotc1z.C1ZFormatV1:
		dec, err := dotc1z.NewDecoder(f)
		if err != nil {
			t.Fatal(err)
		}
		db, err := io.ReadAll(dec)
		if err != nil {
			t.Fatalf("decompressing %s: %v", path, err)
		}
		out[path+" (sqlite)"] = db
	case dotc1z.C1ZFormatV3:
		dir := t.TempDir()
		if _, _, err := c1zv3.ExtractEnvelopePayload(f, dir); err != nil {
			t.Fatalf("extracting %s: %v", path, err)
		}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			out[path+" ("+strings.TrimPrefix(p, dir)+")"] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("%s: unknown c1z format %v", path, format)
	}
	return out
}
