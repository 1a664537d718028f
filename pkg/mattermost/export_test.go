package mattermost

import (
	"context"
	"net/http"
)

// PostForTest sends an empty POST through the client's one request path.
func PostForTest(c *Client, ctx context.Context, path string) error {
	return c.do(ctx, http.MethodPost, path, nil, map[string]string{}, nil)
}
