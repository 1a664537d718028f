package connector

import (
	"context"
	"sync"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// userPagesAhead is how many /users pages are fetched ahead of the SDK.
const userPagesAhead = 2

// pagesAhead keeps a paged listing a few pages ahead of the SDK. The SDK walks
// a resource type's list as one chain of calls, page after page, and on a large
// server the user list is the longest chain of a sync: /users pages by offset,
// so each page costs the server more than the one before (about 180 ms a page
// at 100,000 users). With the next pages already being fetched while the SDK
// stores the current one, the server works on them side by side instead of one
// after the other. Each page is still requested once; the only extra request is
// at most depth-1 empty pages past the end of the list.
type pagesAhead[T any] struct {
	fetch func(ctx context.Context, page int) (mattermost.Page[T], error)
	depth int

	mu      sync.Mutex
	syncID  string
	pending map[int]*pendingPage[T]
}

type pendingPage[T any] struct {
	done chan struct{}
	res  mattermost.Page[T]
	err  error
}

func newPagesAhead[T any](depth int, fetch func(ctx context.Context, page int) (mattermost.Page[T], error)) *pagesAhead[T] {
	return &pagesAhead[T]{fetch: fetch, depth: depth, pending: map[int]*pendingPage[T]{}}
}

// page returns page `page` of the listing for sync syncID: the answer fetched
// ahead when this sync's previous call started it, else a fresh request (pages
// fetched for another sync, e.g. one abandoned in service mode, are never
// served). A fetch ahead that failed is asked again, so that errors, and their
// retries, come from this call as they would without fetching ahead.
func (p *pagesAhead[T]) page(ctx context.Context, syncID string, page int) (mattermost.Page[T], error) {
	pend := p.take(syncID, page)
	var res mattermost.Page[T]
	fetched := false
	if pend != nil {
		select {
		case <-pend.done:
			res, fetched = pend.res, pend.err == nil
		case <-ctx.Done():
			return mattermost.Page[T]{}, ctx.Err()
		}
	}
	if !fetched {
		var err error
		if res, err = p.fetch(ctx, page); err != nil {
			return mattermost.Page[T]{}, err
		}
	}
	if res.NextPage == 0 {
		p.forget()
		return res, nil
	}
	for k := range p.depth {
		p.start(ctx, syncID, res.NextPage+k)
	}
	return res, nil
}

// take removes and returns the fetch of `page` for syncID, dropping fetches
// that belong to another sync or to pages before it.
func (p *pagesAhead[T]) take(syncID string, page int) *pendingPage[T] {
	p.mu.Lock()
	defer p.mu.Unlock()
	if syncID != p.syncID {
		p.syncID = syncID
		clear(p.pending)
	}
	pend := p.pending[page]
	for n := range p.pending {
		if n <= page {
			delete(p.pending, n)
		}
	}
	return pend
}

func (p *pagesAhead[T]) forget() {
	p.mu.Lock()
	clear(p.pending)
	p.mu.Unlock()
}

func (p *pagesAhead[T]) start(ctx context.Context, syncID string, page int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if syncID != p.syncID || p.pending[page] != nil {
		return
	}
	pend := &pendingPage[T]{done: make(chan struct{})}
	p.pending[page] = pend
	// The gRPC call that asked for the current page ends when it returns and
	// cancels its context: the fetch ahead must outlive it. The HTTP client's
	// timeout and the retry policy still bound it.
	bg := context.WithoutCancel(ctx)
	go func() {
		defer close(pend.done)
		pend.res, pend.err = p.fetch(bg, page)
	}()
}
