package connector

import (
	"encoding/json"
	"fmt"

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
