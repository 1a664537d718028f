package connector

import (
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// annotationsFor packs messages as resource-type annotations.
func annotationsFor(msgs ...proto.Message) []*anypb.Any {
	var annos annotations.Annotations
	for _, m := range msgs {
		annos.Update(m)
	}
	return annos
}

// toStruct converts JSON-like data for GrantMetadata; data that cannot be
// converted (a programming error) gives nil, which just omits the metadata.
func toStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil
	}
	return s
}
