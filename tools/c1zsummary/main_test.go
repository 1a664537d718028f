package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
)

func TestChannelsAreNamedWithTheirTeam(t *testing.T) {
	team := func(id, name string) *v2.Resource {
		return v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "team", Resource: id}.Build(), DisplayName: name}.Build()
	}
	channel := func(id, teamID string) *v2.Resource {
		return v2.Resource_builder{Id: v2.ResourceId_builder{ResourceType: "channel", Resource: id}.Build(), DisplayName: "Town Square",
			ParentResourceId: v2.ResourceId_builder{ResourceType: "team", Resource: teamID}.Build()}.Build()
	}
	res := &synctest.Result{Resources: []*v2.Resource{team("t1", "Engineering"), team("t2", "Marketing"),
		channel("c1", "t1"), channel("c2", "t2")}}
	var out bytes.Buffer
	summarize(&out, res)
	for _, want := range []string{"Engineering / Town Square", "Marketing / Town Square"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
