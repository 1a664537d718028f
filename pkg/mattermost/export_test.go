package mattermost

import (
	"context"
	"net/http"
	"strings"
)

// PostForTest sends an empty POST through the client's write path (a call
// that changes data), e.g. PostForTest(c, ctx, "/echo").
func PostForTest(c *Client, ctx context.Context, p string) error {
	return c.write(ctx, http.MethodPost, path(strings.Split(strings.TrimPrefix(p, "/"), "/")...), map[string]string{}, nil)
}
