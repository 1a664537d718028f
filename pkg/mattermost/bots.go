package mattermost

import (
	"context"
	"net/http"
)

// SetBotActive disables or enables a bot account (POST /bots/{id}/disable or
// /enable). Unlike PUT /users/{id}/active it also updates the bot record, so
// the bot shows as disabled in the System Console's bot list too.
func (c *Client) SetBotActive(ctx context.Context, botUserID string, active bool) error {
	verb := "disable"
	if active {
		verb = "enable"
	}
	return c.write(ctx, http.MethodPost, path("bots", botUserID, verb), nil, nil)
}
