package connector

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/conductorone/baton-sdk/pkg/types/resource"
	"google.golang.org/grpc/codes"
)

// Page tokens. Every listing keeps its position in the SDK's page token as
// JSON: the client's mattermost.Cursor, or a small struct holding one where a
// listing needs more (which of a team's two channel lists; the user report's
// position beside the user list's). "" is the start on the way in and the end
// on the way out.

// parsePageToken reads a page token into v; "" leaves v as it is (the start).
func parsePageToken(tok pagination.Token, v any) error {
	if tok.Token == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(tok.Token), v); err != nil {
		return refusal(codes.InvalidArgument, "invalid page token %q: %v", tok.Token, err)
	}
	return nil
}

// nextPage returns the results that carry next as the page token; nil means
// the listing ended.
func nextPage[T any](next *T) (*resource.SyncOpResults, error) {
	if next == nil {
		return nil, nil
	}
	b, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encoding the page token: %w", err)
	}
	return &resource.SyncOpResults{NextPageToken: string(b)}, nil
}

// onePage serves one page of a listing, the page at the token, for List or
// Grants: each item is mapped to its results (resources or grants; none
// skips it), and the next page's token is returned with them.
func onePage[T, R any](ctx context.Context, attrs resource.SyncOpAttrs,
	list func(context.Context, mattermost.Cursor) (mattermost.Page[T], error),
	convert func(*T) ([]R, error)) ([]R, *resource.SyncOpResults, error) {
	var cur mattermost.Cursor
	if err := parsePageToken(attrs.PageToken, &cur); err != nil {
		return nil, nil, err
	}
	page, err := list(ctx, cur)
	if err != nil {
		return nil, nil, err
	}
	out := make([]R, 0, len(page.Items))
	for i := range page.Items {
		rs, err := convert(&page.Items[i])
		if err != nil {
			return nil, nil, err
		}
		out = append(out, rs...)
	}
	res, err := nextPage(page.Next)
	return out, res, err
}

// asResource adapts a function making one resource (nil: none) to onePage.
func asResource[T any](f func(*T) (*v2.Resource, error)) func(*T) ([]*v2.Resource, error) {
	return func(item *T) ([]*v2.Resource, error) {
		r, err := f(item)
		if r == nil || err != nil {
			return nil, err
		}
		return []*v2.Resource{r}, nil
	}
}
