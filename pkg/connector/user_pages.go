package connector

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// The user list is the longest chain of requests of a sync. /users pages by
// offset, so each page costs the server more than the one before (about
// 180 ms a page at 100,000 users), and last logins come from another listing,
// GET /reports/users: at most 100 rows a page, keyset-paged in the same
// (username, id) order as /users, bots left out. The SDK asks for the list
// one page after the other and stores each page before asking for the next,
// so userPages fetches ahead: while the SDK stores page k, pages k+1 ..
// k+userPagesAhead are being fetched, each with its report rows, and the
// server works on them side by side instead of one after the other.
//
// A page of 200 users is matched with the report rows that follow the
// previous page's last user: for 200 people, two report pages, one starting
// after that user and one after the page's 100th person, fetched together
// once the page's users are known. Each page is requested once; the only
// extra requests are at most userPagesAhead-1 empty pages past the end.
//
// The first page also asks the server how many accounts it has
// (CountUsers): a server, or a proxy in front of it, that answers full pages
// without end (the same page whatever page is asked, or made-up ones) ends
// the sync with a ListError instead of keeping it busy forever. A page
// fetched ahead is checked when it is served, once the page before it is known.
//
// Fetches ahead belong to one sync (the SDK's sync id) and run under a
// context of their own, which ends when the sync reaches its last page, when
// another sync starts asking, or when nobody asked for a page for
// userPagesIdle (the SDK abandoned the sync): no fetch outlives its sync by
// more than that, and each is bounded by the HTTP timeout and retry policy.
// A page fetched ahead is served once; one whose fetch failed is fetched
// again by the call that needs it, so errors, and their retries, come from
// that call as they would without fetching ahead.

// userPagesAhead is how many /users pages are fetched ahead of the SDK.
const userPagesAhead = 2

// userPagesIdle ends the fetches ahead of a sync that stopped asking for pages.
const userPagesIdle = 2 * time.Minute

// userPageToken is the user list's page token.
type userPageToken struct {
	// Users is the /users page to serve.
	Users mattermost.Cursor `json:"u"`
	// Report is where the report rows of this page start: after the previous
	// page's last user (the zero cursor for the first page).
	Report mattermost.Cursor `json:"r"`
	// NoReport is set once the report proved unavailable, so that it is asked
	// for, and its absence logged, once a sync only.
	NoReport bool `json:"n,omitempty"`
}

// userPage is one page of the user list with its people's report rows.
type userPage struct {
	users mattermost.Page[mattermost.User]
	// facts are the report rows by user id; nil without last logins.
	facts map[string]mattermost.UserReport
	// reportUnavailable is the answer that showed the server has no report
	// for this token (older server, missing permission); nil otherwise.
	reportUnavailable error
}

// next is the token of the page after p, nil after the last page.
func (p *userPage) next(tok userPageToken) *userPageToken {
	if p.users.Next == nil {
		return nil
	}
	last := p.users.Items[len(p.users.Items)-1]
	return &userPageToken{Users: *p.users.Next, Report: mattermost.ReportAfter(last.Username, last.ID),
		NoReport: tok.NoReport || p.reportUnavailable != nil}
}

// userPageFetch is a page being fetched ahead.
type userPageFetch struct {
	usersDone chan struct{} // closed once the users are read, or failed
	done      chan struct{} // closed once the whole page is read, or failed
	page      userPage
	usersErr  error // set before usersDone is closed
	err       error // set before done is closed
}

// reportAfter is the report position after this page's last user, once its users are read.
func (f *userPageFetch) reportAfter(ctx context.Context) (mattermost.Cursor, error) {
	select {
	case <-f.usersDone:
	case <-ctx.Done():
		return mattermost.Cursor{}, ctx.Err()
	}
	if f.usersErr != nil {
		return mattermost.Cursor{}, f.usersErr
	}
	items := f.page.users.Items
	if len(items) == 0 {
		return mattermost.Cursor{}, nil // past the end: there is no page after it to serve
	}
	return mattermost.ReportAfter(items[len(items)-1].Username, items[len(items)-1].ID), nil
}

// userPages serves the user list page by page, fetching ahead.
type userPages struct {
	client    *mattermost.Client
	lastLogin bool
	idleAfter time.Duration // userPagesIdle; shorter in tests

	mu     sync.Mutex
	syncID string
	ctx    context.Context // the current sync's fetches ahead; nil when none run
	cancel context.CancelFunc
	idle   *time.Timer
	ahead  map[int]*userPageFetch // by /users page number
}

func newUserPages(client *mattermost.Client, lastLogin bool) *userPages {
	return &userPages{client: client, lastLogin: lastLogin, idleAfter: userPagesIdle, ahead: map[int]*userPageFetch{}}
}

// userListRoom is how far past the server's own count of its accounts the
// user list may go before it counts as endless: accounts created while a
// sync runs (a bulk import, say) move the end, a server that makes up pages
// without end does not stop.
func userListRoom(count int) int { return 2*count + 1000 }

// get returns the page tok points at, for sync syncID.
func (p *userPages) get(ctx context.Context, syncID string, tok userPageToken) (userPage, error) {
	if tok.Users.Page == 0 && tok.Users.Max == 0 {
		// The list's plausible end, which every later page token carries.
		n, err := p.client.CountUsers(ctx)
		if err != nil {
			return userPage{}, err
		}
		tok.Users.Max = userListRoom(n)
	}
	f, aheadCtx := p.take(ctx, syncID, tok.Users.Page)
	var page userPage
	fetched := false
	if f != nil {
		select {
		case <-f.done:
			page, fetched = f.page, f.err == nil
		case <-ctx.Done():
			return userPage{}, ctx.Err()
		}
	}
	if !fetched {
		var err error
		from := func(context.Context) (mattermost.Cursor, error) { return tok.Report, nil }
		if page, err = p.fetch(ctx, tok.Users, from, p.lastLogin && !tok.NoReport, tok.Users.Page == 0, nil); err != nil {
			return userPage{}, err
		}
	}
	// A page fetched ahead was read before the page before it was known.
	if err := p.client.CheckUsersPage(tok.Users, page.users); err != nil {
		p.endSync(syncID)
		return userPage{}, err
	}
	next := page.next(tok)
	if next == nil {
		p.endSync(syncID)
		return page, nil
	}
	p.fetchAhead(aheadCtx, syncID, *next)
	return page, nil
}

// take starts or continues the fetches ahead of sync syncID and removes and
// returns the fetch of page `page`, dropping fetches of pages before it.
func (p *userPages) take(ctx context.Context, syncID string, page int) (*userPageFetch, context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if syncID != p.syncID || p.ctx == nil {
		p.stopLocked()
		p.syncID = syncID
		// Detached from the gRPC call that asked for this page, which ends
		// when it returns; keeps its logger.
		p.ctx, p.cancel = context.WithCancel(ctxzap.ToContext(context.Background(), ctxzap.Extract(ctx)))
		p.idle = time.AfterFunc(p.idleAfter, p.cancel)
	}
	p.idle.Reset(p.idleAfter)
	f := p.ahead[page]
	for n := range p.ahead {
		if n <= page {
			delete(p.ahead, n)
		}
	}
	return f, p.ctx
}

// endSync stops the fetches ahead of a sync that reached its last page.
func (p *userPages) endSync(syncID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if syncID == p.syncID {
		p.stopLocked()
	}
}

func (p *userPages) stopLocked() {
	if p.cancel != nil {
		p.cancel()
		p.idle.Stop()
	}
	p.ctx, p.cancel, p.idle = nil, nil, nil
	clear(p.ahead)
}

// fetchAhead starts fetching the userPagesAhead pages from next on, each
// page's report rows starting after the page before it.
func (p *userPages) fetchAhead(ctx context.Context, syncID string, next userPageToken) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if syncID != p.syncID || p.ctx != ctx {
		return // another sync took over meanwhile
	}
	p.idle.Reset(p.idleAfter) // idle counts from the page just served
	from := func(context.Context) (mattermost.Cursor, error) { return next.Report, nil }
	for k := range userPagesAhead {
		at := mattermost.Cursor{Page: next.Users.Page + k, Max: next.Users.Max}
		f := p.ahead[at.Page]
		if f == nil {
			f = &userPageFetch{usersDone: make(chan struct{}), done: make(chan struct{})}
			p.ahead[at.Page] = f
			go func(from func(context.Context) (mattermost.Cursor, error)) {
				defer close(f.done)
				// fetch sets f.page.users itself, before the next page may read them.
				page, err := p.fetch(ctx, at, from, p.lastLogin && !next.NoReport, false, f)
				f.page.facts, f.page.reportUnavailable, f.err = page.facts, page.reportUnavailable, err
			}(from)
		}
		from = f.reportAfter
	}
}

// fetch reads page `at` of /users and, withReport, the report rows of its
// people, starting at from (which may wait for the page before). probe asks
// the first report page alone before the others, so that a server without
// the report costs one request. f, when set, learns the users as soon as
// they are read.
func (p *userPages) fetch(ctx context.Context, at mattermost.Cursor, from func(context.Context) (mattermost.Cursor, error),
	withReport, probe bool, f *userPageFetch) (userPage, error) {
	users, err := p.client.ListUsers(ctx, at)
	if f != nil {
		f.page.users, f.usersErr = users, err
		close(f.usersDone)
	}
	page := userPage{users: users}
	if err != nil || !withReport || len(users.Items) == 0 {
		return page, err
	}
	start, err := from(ctx)
	if err != nil {
		return page, err
	}
	page.facts, err = userFacts(ctx, p.client, users.Items, start, probe)
	if notServed(err) {
		page.facts, page.reportUnavailable = nil, err
		return page, nil
	}
	return page, err
}

// notServed tells the answers that mean this server does not serve an
// endpoint to this token (older server, missing permission), as opposed to a
// failure: the user report, the server-wide channel search.
func notServed(err error) bool {
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

// userFacts returns the report rows of the people (not bots) of one /users
// page, by user id, reading the report from `from` on: one report page from
// there and one after every 100th person, all at once (with probe, the first
// alone before the others). If the server changed between the requests (a
// user renamed, created or deleted), the missing rows are looked for once
// more, walking on from the last row found, a bounded number of pages.
func userFacts(ctx context.Context, client *mattermost.Client, users []mattermost.User, from mattermost.Cursor, probe bool) (map[string]mattermost.UserReport, error) {
	var people []*mattermost.User
	for i := range users {
		if !users[i].IsBot {
			people = append(people, &users[i])
		}
	}
	starts := []mattermost.Cursor{from}
	for k := mattermost.ReportPageSize; k < len(people); k += mattermost.ReportPageSize {
		starts = append(starts, mattermost.ReportAfter(people[k-1].Username, people[k-1].ID))
	}
	pages := make([]mattermost.Page[mattermost.UserReport], len(starts))
	read := func(ctx context.Context, i int) error {
		var err error
		pages[i], err = client.ListUserReport(ctx, starts[i])
		return err
	}
	first := 0
	if probe {
		if err := read(ctx, 0); err != nil {
			return nil, err
		}
		first = 1
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := first; i < len(starts); i++ {
		g.Go(func() error { return read(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
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
	for _, pg := range pages {
		keep(pg.Items)
	}

	// Normally every person was found; otherwise walk on from the person
	// before the first missing one.
	cur := from
	for i, u := range people {
		if _, ok := facts[u.ID]; !ok {
			if i > 0 {
				cur = mattermost.ReportAfter(people[i-1].Username, people[i-1].ID)
			}
			break
		}
	}
	for budget := len(starts) + 1; budget > 0 && len(facts) < len(people); budget-- {
		pg, err := client.ListUserReport(ctx, cur)
		if err != nil {
			return nil, err
		}
		keep(pg.Items)
		if pg.Next == nil {
			break
		}
		cur = *pg.Next
	}
	return facts, nil
}
