// Command c1zsummary prints a readable summary of a baton-mattermost c1z:
// counts per resource type and entitlement, who administers each team and
// channel, who holds each system role, and which accounts are disabled.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: c1zsummary FILE.c1z")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(path string) error {
	tmp, err := os.MkdirTemp("", "c1zsummary")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	res, err := synctest.ReadFile(context.Background(), path, tmp)
	if err != nil {
		return err
	}
	summarize(os.Stdout, res)
	return nil
}

func summarize(w io.Writer, res *synctest.Result) {
	names := map[string]string{} // "type/id" → display name
	byType := map[string][]*v2.Resource{}
	for _, r := range res.Resources {
		id := r.GetId()
		names[id.GetResourceType()+"/"+id.GetResource()] = r.GetDisplayName()
		byType[id.GetResourceType()] = append(byType[id.GetResourceType()], r)
	}

	fmt.Fprintln(w, "Resources")
	for _, typ := range sortedKeys(byType) {
		fmt.Fprintf(w, "  %-8s %6d\n", typ, len(byType[typ]))
	}
	fmt.Fprintf(w, "Entitlements %d, grants %d\n", len(res.Entitlements), len(res.Grants))

	// holders: "type/id" of the resource → entitlement slug → principal display names.
	holders := map[string]map[string][]string{}
	slugCount := map[string]int{}
	for _, g := range res.Grants {
		ent := g.GetEntitlement()
		rid := ent.GetResource().GetId()
		key := rid.GetResourceType() + "/" + rid.GetResource()
		slug := ent.GetSlug()
		if slug == "" {
			slug = ent.GetId()[strings.LastIndex(ent.GetId(), ":")+1:]
		}
		slugCount[rid.GetResourceType()+" "+slug]++
		p := g.GetPrincipal().GetId()
		if holders[key] == nil {
			holders[key] = map[string][]string{}
		}
		holders[key][slug] = append(holders[key][slug], names[p.GetResourceType()+"/"+p.GetResource()])
	}
	fmt.Fprintln(w, "Grants by entitlement")
	for _, k := range sortedKeys(slugCount) {
		fmt.Fprintf(w, "  %-22s %6d\n", k, slugCount[k])
	}

	for _, typ := range []string{"team", "channel"} {
		if len(byType[typ]) == 0 {
			continue
		}
		fmt.Fprintf(w, "%ss (members, admins)\n", strings.ToUpper(typ[:1])+typ[1:])
		for _, r := range sortedByName(byType[typ], names) {
			h := holders[typ+"/"+r.GetId().GetResource()]
			admins := h["admin"]
			slices.Sort(admins)
			fmt.Fprintf(w, "  %-44s %4d  %s\n", qualifiedName(r, names), len(h["member"]), strings.Join(admins, ", "))
		}
	}
	if len(byType["role"]) > 0 {
		fmt.Fprintln(w, "System roles (holders)")
		for _, r := range sortedByName(byType["role"], names) {
			h := holders["role/"+r.GetId().GetResource()]
			var all []string
			for _, v := range h {
				all = append(all, v...)
			}
			slices.Sort(all)
			fmt.Fprintf(w, "  %-44s %4d  %s\n", r.GetDisplayName(), len(all), strings.Join(all, ", "))
		}
	}

	var disabled, bots []string
	for _, u := range byType["user"] {
		if u.GetStatus().GetStatus() == v2.Status_RESOURCE_STATUS_DISABLED {
			disabled = append(disabled, u.GetDisplayName())
		}
		if ut, err := resource.GetUserTrait(u); err == nil && ut.GetAccountType() == v2.UserTrait_ACCOUNT_TYPE_SERVICE {
			bots = append(bots, u.GetDisplayName())
		}
	}
	slices.Sort(disabled)
	slices.Sort(bots)
	fmt.Fprintf(w, "Disabled accounts (%d): %s\n", len(disabled), strings.Join(disabled, ", "))
	fmt.Fprintf(w, "Bots and service accounts (%d): %s\n", len(bots), strings.Join(bots, ", "))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// qualifiedName names a resource with its parent, e.g. "Engineering / Town
// Square": every team has its own Town Square and Off-Topic.
func qualifiedName(r *v2.Resource, names map[string]string) string {
	p := r.GetParentResourceId()
	if p == nil {
		return r.GetDisplayName()
	}
	parent := names[p.GetResourceType()+"/"+p.GetResource()]
	if parent == "" {
		parent = p.GetResourceType() + " " + p.GetResource()
	}
	return parent + " / " + r.GetDisplayName()
}

func sortedByName(rs []*v2.Resource, names map[string]string) []*v2.Resource {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b *v2.Resource) int {
		return strings.Compare(qualifiedName(a, names), qualifiedName(b, names))
	})
	return out
}
