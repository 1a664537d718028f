package connector

import (
	"context"
	"fmt"

	config "github.com/conductorone/baton-sdk/pb/c1/config/v1"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/actions"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
)

// Actions: the account lifecycle actions on users (user_actions.go) and the
// token actions (token_actions.go), registered the way ConductorOne invokes
// them, and what they share.

var _ connectorbuilder.GlobalActionProvider = (*Connector)(nil)

// GlobalActions registers every action with no resource type, which is how
// ConductorOne invokes account lifecycle actions: by name, with only
// {"user_id": ...} or {"token_id": ...}. baton-sdk keeps global and per-type
// actions apart, so the user actions work both ways. The handlers use the
// client only when invoked, never here: capabilities builds a zero
// Connector, whose client is nil.
func (c *Connector) GlobalActions(ctx context.Context, registry actions.ActionRegistry) error {
	if err := (&userSyncer{client: c.client}).registerLifecycleActions(ctx, registry); err != nil {
		return err
	}
	return (&tokenActions{client: c.client}).register(ctx, registry)
}

// action is one action: its schema's parts and its handler.
type action struct {
	name, display, description string
	actionType                 v2.ActionType
	argument                   *config.Field
	results                    []*config.Field
	run                        actions.ActionHandler
}

// registerActions registers actions whose errors reach the SDK coded by
// grpcError. The schemas are built afresh on every call, because the SDK
// stamps the resource type into the schema it is given.
func registerActions(ctx context.Context, registry actions.ActionRegistry, list []action) error {
	for _, a := range list {
		schema := v2.BatonActionSchema_builder{
			Name:        a.name,
			DisplayName: a.display,
			Description: a.description,
			Arguments:   []*config.Field{a.argument},
			ReturnTypes: a.results,
			ActionType:  []v2.ActionType{a.actionType},
		}.Build()
		handler := func(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
			return sdkResult(a.run(ctx, args))
		}
		if err := registry.Register(ctx, schema, handler); err != nil {
			return fmt.Errorf("registering action %s: %w", a.name, err)
		}
	}
	return nil
}

// switching adapts a handler that switches something on or off to the action
// that switches it one way.
func switching(set func(context.Context, *structpb.Struct, bool) (*structpb.Struct, annotations.Annotations, error), on bool) actions.ActionHandler {
	return func(ctx context.Context, args *structpb.Struct) (*structpb.Struct, annotations.Annotations, error) {
		return set(ctx, args, on)
	}
}

// Fields of every action's result.
const (
	resultSuccess = "success"
	resultChanged = "changed"
	resultMessage = "message"
)

func returnField(name, display, desc string, kind func(*config.Field_builder)) *config.Field {
	b := config.Field_builder{Name: name, DisplayName: display, Description: desc}
	kind(&b)
	return b.Build()
}

func boolKind(b *config.Field_builder)   { b.BoolField = &config.BoolField{} }
func stringKind(b *config.Field_builder) { b.StringField = &config.StringField{} }
func intKind(b *config.Field_builder)    { b.IntField = &config.IntField{} }

// idArgument is a required argument naming a resource of type rt: a resource
// id, or the bare Mattermost id as text.
func idArgument(name, display, description string, rt *v2.ResourceType) *config.Field {
	return config.Field_builder{
		Name:        name,
		DisplayName: display,
		Description: description,
		IsRequired:  true,
		ResourceIdField: config.ResourceIdField_builder{
			Rules: config.ResourceIDRules_builder{AllowedResourceTypeIds: []string{rt.GetId()}}.Build(),
		}.Build(),
	}.Build()
}

// idArg reads the argument name of an action: a resource id, which must be
// of type rt, or the id as text (as the CLI and C1's lifecycle calls send
// it). It is checked to be a Mattermost id before any request is made.
func idArg(args *structpb.Struct, name string, rt *v2.ResourceType) (string, error) {
	rid, ok := actions.GetResourceIDArg(args, name)
	if !ok {
		id, _ := actions.GetStringArg(args, name)
		rid = v2.ResourceId_builder{ResourceType: rt.GetId(), Resource: id}.Build()
	}
	if rid.GetResourceType() != rt.GetId() {
		return "", refusal(codes.InvalidArgument, "%s must be a %s, not %s %s", name, rt.GetId(), rid.GetResourceType(), quoteID(rid.GetResource()))
	}
	if !isMattermostID(rid.GetResource()) {
		return "", refusal(codes.InvalidArgument, "%s must be a Mattermost %s id (26 lower-case letters and digits), got %s",
			name, rt.GetId(), quoteID(rid.GetResource()))
	}
	return rid.GetResource(), nil
}
