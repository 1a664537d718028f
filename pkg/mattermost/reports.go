package mattermost

import (
	"context"
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

// ReportAfter is the report's cursor just after a user: the report is ordered
// by (username, id), so any user's username and id are a valid position,
// also a bot's, although bots are not in the report.
func ReportAfter(username, id string) Cursor { return Cursor{AfterKey: username, AfterID: id} }

// ListUserReport returns up to ReportPageSize rows of the user report in
// username order, starting at cur (keyset paging: AfterKey and AfterID). The
// order is the same as GET /users, which lets a caller walk both side by side.
func (c *Client) ListUserReport(ctx context.Context, cur Cursor) (Page[UserReport], error) {
	q := url.Values{
		"sort_column": {"Username"},
		"direction":   {"next"},
		"page_size":   {strconv.Itoa(ReportPageSize)},
	}
	if cur.AfterID != "" {
		q.Set("from_column_value", cur.AfterKey)
		q.Set("from_id", cur.AfterID)
	}
	var rows []UserReport
	if err := c.get(ctx, path("reports", "users"), q, &rows); err != nil {
		return Page[UserReport]{}, err
	}
	p := Page[UserReport]{Items: rows}
	if len(rows) >= ReportPageSize {
		last := rows[len(rows)-1]
		next := ReportAfter(last.Username, last.ID)
		if next.AfterKey == cur.AfterKey && next.AfterID == cur.AfterID {
			call, _ := c.request("GET", path("reports", "users"), q)
			return Page[UserReport]{}, &ListError{Call: call, Reason: "the page ends where it started: the server repeats it"}
		}
		p.Next = &next
	}
	return p, nil
}

// GetUserReport returns one user's row of the user report, nil when the
// report has none (bots are not in it). One request: a page of one row
// starting just before the user, since every id sorts after "0".
func (c *Client) GetUserReport(ctx context.Context, u *User) (*UserReport, error) {
	q := url.Values{
		"sort_column":       {"Username"},
		"direction":         {"next"},
		"page_size":         {"1"},
		"from_column_value": {u.Username},
		"from_id":           {"0"},
	}
	var rows []UserReport
	if err := c.get(ctx, path("reports", "users"), q, &rows); err != nil {
		return nil, err
	}
	if len(rows) == 1 && rows[0].ID == u.ID {
		return &rows[0], nil
	}
	return nil, nil
}
