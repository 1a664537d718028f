package connector

import (
	"context"
	"sync"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// nextPagePrefetch keeps one listing a page ahead: when the SDK has been given
// page N, page N+1 is already being fetched while the SDK stores page N, so
// the server's time and the SDK's time for a page overlap instead of adding
// up. It is for a listing the SDK walks as one chain of calls, page after
// page (the user list); on a large server that chain is the longest part of a
// sync. Each page is still requested once; at most one request runs ahead.
type nextPagePrefetch[T any] struct {
	fetch func(ctx context.Context, page int) (mattermost.Page[T], error)

	mu      sync.Mutex
	pending *pendingPage[T]
}

type pendingPage[T any] struct {
	syncID string
	page   int
	done   chan struct{}
	res    mattermost.Page[T]
	err    error
}

func newNextPagePrefetch[T any](fetch func(ctx context.Context, page int) (mattermost.Page[T], error)) *nextPagePrefetch[T] {
	return &nextPagePrefetch[T]{fetch: fetch}
}

// page returns page `page` for sync syncID: the prefetched answer when that
// sync asked for the page ahead, else a fresh request (a page fetched for
// another sync, e.g. one abandoned in service mode, is never served). A
// prefetch that failed is asked again, so that errors, and their retries, come
// from this call as they would without prefetching.
func (p *nextPagePrefetch[T]) page(ctx context.Context, syncID string, page int) (mattermost.Page[T], error) {
	p.mu.Lock()
	pend := p.pending
	p.pending = nil
	p.mu.Unlock()

	var res mattermost.Page[T]
	fetched := false
	if pend != nil && pend.syncID == syncID && pend.page == page {
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
	if res.NextPage > 0 {
		p.start(ctx, syncID, res.NextPage)
	}
	return res, nil
}

func (p *nextPagePrefetch[T]) start(ctx context.Context, syncID string, page int) {
	pend := &pendingPage[T]{syncID: syncID, page: page, done: make(chan struct{})}
	p.mu.Lock()
	p.pending = pend
	p.mu.Unlock()
	// The gRPC call that asked for this page ends when it returns, and
	// cancels its context: the request ahead must outlive it. The HTTP
	// client's timeout and the retry policy still bound it.
	bg := context.WithoutCancel(ctx)
	go func() {
		defer close(pend.done)
		pend.res, pend.err = p.fetch(bg, page)
	}()
}
