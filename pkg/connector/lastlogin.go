package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"github.com/conductorone/baton-sdk/pkg/pagination"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// Last logins are only in GET /reports/users (/users always zeroes them). The
// report pages by keyset, at most 100 rows a page, in the same order as
// /users (username, then id), and leaves bots out. So each /users page of 200
// is matched with the report rows that follow the previous page's last user:
// two report pages for 200 people, fetched while /users is being fetched, and
// never more than one /users page is held in memory.

// userPageToken is the user list's page token.
type userPageToken struct {
	// Page is the /users page to fetch.
	Page int `json:"p,omitempty"`
	// AfterUsername and AfterID name the last user of the previous page: the
	// report rows of this page start right after that user.
	AfterUsername string `json:"u,omitempty"`
	AfterID       string `json:"i,omitempty"`
	// NoReport is set once the report proved unavailable, so that it is asked
	// for, and its absence logged, once a sync only.
	NoReport bool `json:"n,omitempty"`
}

func parseUserPageToken(tok pagination.Token) (userPageToken, error) {
	var t userPageToken
	if tok.Token == "" {
		return t, nil
	}
	if err := json.Unmarshal([]byte(tok.Token), &t); err != nil || t.Page < 0 {
		return t, fmt.Errorf("baton-mattermost: invalid user page token %q", tok.Token)
	}
	return t, nil
}

func (t userPageToken) encode() string {
	b, _ := json.Marshal(t) // a struct of strings, ints and bools always marshals
	return string(b)
}

// reportCursor is where this page's report rows start; nil for the first page.
func (t userPageToken) reportCursor() *mattermost.ReportCursor {
	if t.AfterID == "" {
		return nil
	}
	return &mattermost.ReportCursor{Username: t.AfterUsername, ID: t.AfterID}
}

// reportFetch is one report page being fetched in the background.
type reportFetch struct {
	rows []mattermost.UserReport
	err  error
	done chan struct{}
}

func fetchReport(ctx context.Context, client *mattermost.Client, after *mattermost.ReportCursor) *reportFetch {
	f := &reportFetch{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.rows, f.err = client.ListUserReport(ctx, after)
	}()
	return f
}

func (f *reportFetch) wait() ([]mattermost.UserReport, error) {
	<-f.done
	return f.rows, f.err
}

// reportUnavailable tells the answers that mean this server has no user
// report for this token (older server, missing permission), as opposed to a failure.
func reportUnavailable(err error) bool {
	switch mattermost.StatusCode(err) {
	case http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

func logReportUnavailable(ctx context.Context, err error) {
	ctxzap.Extract(ctx).Warn("baton-mattermost: users' last login times are not synced: the server does not serve "+
		"GET /api/v4/reports/users to this token (older servers lack it; it needs the permission "+
		"sysconsole_read_user_management_users, which System Admins have); set skip-last-login to silence this",
		zap.Error(err))
}

// userFacts returns the report rows of the non-bot users of one /users page,
// by user id. first is the report page after the previous page's last user,
// already requested; further report pages start after every 100th person of
// this page and are fetched in parallel with it (after it on the first page). If the server changed between the
// requests (a user renamed, created or deleted), the missing rows are looked
// for once more, walking on from the last row found, a bounded number of pages.
func userFacts(ctx context.Context, client *mattermost.Client, users []mattermost.User, after *mattermost.ReportCursor, first *reportFetch) (map[string]mattermost.UserReport, error) {
	var people []*mattermost.User
	for i := range users {
		if !users[i].IsBot {
			people = append(people, &users[i])
		}
	}
	if after == nil {
		// On the first page, learn whether the server has the report at all
		// before asking it more: an unavailable report then costs one request.
		if _, err := first.wait(); err != nil {
			return nil, err
		}
	}
	fetches := []*reportFetch{first}
	for k := mattermost.ReportPageSize; k < len(people); k += mattermost.ReportPageSize {
		fetches = append(fetches, fetchReport(ctx, client, cursorOf(people[k-1])))
	}
	wanted := make(map[string]bool, len(people))
	for _, u := range people {
		wanted[u.ID] = true
	}
	facts := make(map[string]mattermost.UserReport, len(people))
	keep := func(rows []mattermost.UserReport) {
		for _, row := range rows {
			if wanted[row.ID] {
				facts[row.ID] = row
			}
		}
	}
	var firstErr error
	for _, f := range fetches {
		rows, err := f.wait()
		if err != nil && firstErr == nil {
			firstErr = err
		}
		keep(rows)
	}
	if firstErr != nil {
		return nil, firstErr
	}

	// Normally every person was found; otherwise walk on from the person
	// before the first missing one.
	missing := -1
	for i, u := range people {
		if _, ok := facts[u.ID]; !ok {
			missing = i
			break
		}
	}
	if missing < 0 {
		return facts, nil
	}
	cursor := after
	if missing > 0 {
		cursor = cursorOf(people[missing-1])
	}
	for budget := len(fetches) + 1; budget > 0 && len(facts) < len(people); budget-- {
		rows, err := client.ListUserReport(ctx, cursor)
		if err != nil {
			return nil, err
		}
		keep(rows)
		if len(rows) < mattermost.ReportPageSize {
			break
		}
		last := rows[len(rows)-1]
		cursor = &mattermost.ReportCursor{Username: last.Username, ID: last.ID}
	}
	return facts, nil
}

func cursorOf(u *mattermost.User) *mattermost.ReportCursor {
	return &mattermost.ReportCursor{Username: u.Username, ID: u.ID}
}
