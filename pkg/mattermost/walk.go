package mattermost

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// Mattermost pages its listings by offset (page*per_page). When the list
// changes between two requests, plain offset paging goes wrong: removing an
// item before the offset shifts the next page by one and one item is never
// seen; inserting one repeats an item. For memberships that would mean a
// missing or phantom grant, so ordered listings that must be exact are walked
// in overlapping windows instead:
//
//   - each window starts a few items before the end of what was already seen,
//     and the cursor remembers the ids of the last items seen (the anchors);
//   - a window that contains an anchor continues the list without a gap: the
//     items after the last anchor it contains are new, whatever was inserted or
//     removed before it;
//   - a window without any anchor may have jumped over items (many removals
//     before it), so the walk steps back and tries an earlier window, down to
//     the start of the list if it must.
//
// Windows overlap only by choosing per_page: page p of size q covers
// [p*q, (p+1)*q), so each request picks the q (100..200) whose window ends
// furthest while starting at least `walkOverlap` items before the offset.
// That costs about 13% more requests than non-overlapping pages of 200.
//
// The result holds every item that was in the list for the whole walk, and
// only items that were in it at some time during the walk. Items that move
// within the order during the walk (a renamed user, for a list ordered by
// username) are the one case it cannot detect.

// walkOverlap is how many already-seen items each window re-reads, and how
// many anchors the cursor keeps.
const walkOverlap = 8

// minWindow is the smallest per_page a window may use, to keep requests efficient.
const minWindow = PerPage / 2

// maxWalkRestarts bounds the restarts of one walk: a list that changes that
// fast cannot be read consistently for now.
const maxWalkRestarts = 5

// Reasons a walk ends with a ListError. The error is final, not one to retry
// after a pause: a list that changed this much under five walks in a row will
// not hold still for a sixth, a server that ignores the page parameter will
// not start honouring it, and a caller that retried without limit would never end.
var (
	walkChanging = fmt.Sprintf("the list changed too much while it was being read (%d restarts from its start); "+
		"try again when fewer changes are being made", maxWalkRestarts)
	walkRepeated = "a window starts with the same item as the window before it: the server (or a caching proxy in " +
		"front of it) ignores the page parameter, so the list would never end"
)

// listFailure is the ListError that ends a walk of ep, for reason.
func (c *Client) listFailure(method string, ep endpoint, query url.Values) func(reason string) error {
	return func(reason string) error {
		call, _ := c.request(method, ep, query)
		return &ListError{Call: call, Reason: reason}
	}
}

// walkWindow returns the page and per_page of the next window: the one that
// ends furthest among those starting at least `back` items before offset.
func walkWindow(offset, back int) (int, int) {
	if offset <= 0 {
		return 0, PerPage
	}
	limit := max(offset-back, 0)
	page, perPage, bestEnd := 0, PerPage, -1
	for q := PerPage; q >= minWindow; q-- {
		p := limit / q
		if end := (p + 1) * q; end > bestEnd {
			page, perPage, bestEnd = p, q, end
		}
	}
	return page, perPage
}

// walkOrdered reads the next window of an ordered page/per_page listing and
// returns the items not seen before, and the cursor to continue from (Offset,
// Anchors and Restarts): nil once the end of the list was reached.
func walkOrdered[T any](ctx context.Context, c *Client, ep endpoint, query url.Values, cur Cursor, id func(*T) string) (Page[T], error) {
	read := func(ctx context.Context, page, perPage int) ([]T, error) {
		var items []T
		err := c.getPage(ctx, ep, query, page, perPage, &items)
		return items, err
	}
	return walkWindows(ctx, cur, id, read, c.listFailure(http.MethodGet, ep, query))
}

// walkWindows is walkOrdered over any way of reading a window: read returns
// the items [page*perPage, (page+1)*perPage) of the listing, and fail makes
// the error that ends the walk for a reason.
func walkWindows[T any](ctx context.Context, cur Cursor, id func(*T) string,
	read func(ctx context.Context, page, perPage int) ([]T, error), fail func(reason string) error) (Page[T], error) {
	offset := cur.Offset
	// At least one item of overlap, so that stepping back always moves the window.
	back := max(len(cur.Anchors), 1)
	for firstWindow := true; ; firstWindow = false {
		page, perPage := walkWindow(offset, back)
		start := page * perPage
		items, err := read(ctx, page, perPage)
		if err != nil {
			return Page[T]{}, err
		}
		// A call's first window starts ~200 items after the previous call's:
		// the same first item means the server answered the same page again.
		if firstWindow && start > 0 && len(items) > 0 && cur.Seen != "" && id(&items[0]) == cur.Seen {
			return Page[T]{}, fail(walkRepeated)
		}
		last := -1 // index of the last anchor in this window
		for i := range items {
			if slices.Contains(cur.Anchors, id(&items[i])) {
				last = i
			}
		}
		if last < 0 && start > 0 {
			// No anchor: this window may begin after items not seen yet.
			// Step back; windows only move earlier, so this ends at the
			// start of the list at the latest.
			offset = start
			continue
		}
		restarts := cur.Restarts
		if last < 0 && cur.Offset > 0 {
			// Back at the head without meeting an anchor (they all left, or
			// many items were inserted before them): start over from here.
			if restarts++; restarts > maxWalkRestarts {
				return Page[T]{}, fail(walkChanging)
			}
		}
		// Either an anchor was found, or the window starts at the head of
		// the list: everything after `last` continues the walk.
		fresh := make([]T, 0, len(items)-last-1)
		for i := last + 1; i < len(items); i++ {
			if !slices.Contains(cur.Anchors, id(&items[i])) {
				fresh = append(fresh, items[i])
			}
		}
		if len(items) < perPage {
			return Page[T]{Items: fresh}, nil
		}
		if reason := pastPlausibleEnd(cur, start+len(items)); reason != "" {
			return Page[T]{}, fail(reason)
		}
		next := &Cursor{Offset: start + len(items), Restarts: restarts, Seen: id(&items[0]), Max: cur.Max}
		for i := max(len(items)-walkOverlap, 0); i < len(items); i++ {
			next.Anchors = append(next.Anchors, id(&items[i]))
		}
		return Page[T]{Items: fresh, Next: next}, nil
	}
}
