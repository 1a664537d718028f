package mattermost

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// ReportPageSize is the largest page GET /reports/users serves.
const ReportPageSize = 100

// UserReport is one row of GET /reports/users: a user (bots excluded) with
// the facts the report adds. Times are Unix milliseconds, 0 when unknown.
type UserReport struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	LastLogin int64  `json:"last_login"`
	// LastStatusAt is the last time the user's status (activity) changed.
	LastStatusAt int64 `json:"last_status_at"`
	// LastPostDate is the day of the user's last post (PostgreSQL servers only).
	LastPostDate int64 `json:"last_post_date"`
}

// ReportCursor is a position in the user report's (username, id) order: a
// page starts right after it. Any user's username and id are a valid cursor,
// also a bot's, although bots are not in the report.
type ReportCursor struct {
	Username string
	ID       string
}

// ListUserReport returns up to ReportPageSize rows of the user report in
// username order, starting after `after` (from the start when nil). The order
// is the same as GET /users, which lets a caller walk both side by side.
func (c *Client) ListUserReport(ctx context.Context, after *ReportCursor) ([]UserReport, error) {
	q := url.Values{
		"sort_column": {"Username"},
		"direction":   {"next"},
		"page_size":   {strconv.Itoa(ReportPageSize)},
	}
	if after != nil {
		q.Set("from_column_value", after.Username)
		q.Set("from_id", after.ID)
	}
	var rows []UserReport
	if err := c.do(ctx, http.MethodGet, "/reports/users", q, nil, &rows); err != nil {
		return nil, err
	}
	return rows, nil
}
