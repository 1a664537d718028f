package mattermost

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// PasswordMaximumLength is Mattermost's fixed upper bound (bcrypt's 72 bytes).
const PasswordMaximumLength = 72

// PasswordMinimumLength reads the server's PasswordSettings.MinimumLength from
// the client configuration (GET /config/client?format=old), which any session may read.
func (c *Client) PasswordMinimumLength(ctx context.Context) (int, error) {
	cfg, err := c.clientConfig(ctx)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(cfg["PasswordMinimumLength"])
	if err != nil {
		// The value itself is not shown: errors must never carry arbitrary server text unscrubbed.
		return 0, fmt.Errorf("mattermost: client configuration has no usable PasswordMinimumLength (%d characters, not a number)",
			len(cfg["PasswordMinimumLength"]))
	}
	return n, nil
}

// clientConfig reads the client configuration (GET /config/client?format=old):
// the settings any session may read, every value a string.
func (c *Client) clientConfig(ctx context.Context) (map[string]string, error) {
	var cfg map[string]string
	if err := c.get(ctx, path("config", "client"), url.Values{"format": {"old"}}, &cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}
