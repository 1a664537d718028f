package mattermost

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// PerPage is the page size of every page/per_page listing: the server's maximum.
const PerPage = 200

// MaxListItems bounds every listing whose Cursor has no Max of its own (a
// team's members, the tokens, the groups: lists the server gives no count
// of): far more than any Mattermost server holds in one list, so only a
// server that makes up pages without end ever meets it.
const MaxListItems = 10_000_000

// Cursor is where a listing continues; the zero Cursor is its start. Every
// listing of the client takes one and returns the next one in Page.Next (nil
// at the end), so a caller pages every list the same way, and may keep a
// Cursor in its own page token as it is (it marshals to compact JSON).
// Which fields a listing uses is its own business.
type Cursor struct {
	// Page is the next page of a page/per_page listing.
	Page int `json:"p,omitempty"`
	// Seen is the id of the first item of the page before, to notice a server
	// (or a caching proxy) that answers the same page whatever page is asked.
	Seen string `json:"s,omitempty"`
	// Max, when set, is the most items the listing can plausibly hold (from
	// a count the server gave, with room for growth); MaxListItems when not:
	// a server that keeps answering full pages past it ends the listing with
	// a *ListError.
	Max int `json:"m,omitempty"`
	// Offset, Anchors and Restarts are an ordered walk's position (walk.go).
	Offset   int      `json:"o,omitempty"`
	Anchors  []string `json:"a,omitempty"`
	Restarts int      `json:"r,omitempty"`
	// AfterKey and AfterID are a keyset listing's position: the sort key and
	// id of the last row read (the user report).
	AfterKey string `json:"k,omitempty"`
	AfterID  string `json:"i,omitempty"`
}

// Page is one page of a listing.
type Page[T any] struct {
	Items []T
	// Next is where the listing continues; nil after the last page.
	Next *Cursor
	// Total is the listing's size as the server counted it for this page,
	// for the listings that tell it (0 for the others).
	Total int
}

// listPage fetches the page at cur of a page/per_page listing, PerPage items a
// page. A page shorter than PerPage is the last one, so no empty page is ever
// fetched except after an exact multiple of PerPage.
func listPage[T any](ctx context.Context, c *Client, ep endpoint, query url.Values, cur Cursor, id func(*T) string) (Page[T], error) {
	return listEnveloped(ctx, c, ep, query, cur, id, func(items *[]T) []T { return *items })
}

// listEnveloped is listPage for listings that wrap their items in an object,
// such as {"members": [...]}; items takes them out.
func listEnveloped[T, E any](ctx context.Context, c *Client, ep endpoint, query url.Values, cur Cursor, id func(*T) string,
	items func(*E) []T) (Page[T], error) {
	var body E
	if err := c.getPage(ctx, ep, query, cur.Page, PerPage, &body); err != nil {
		return Page[T]{}, err
	}
	got := items(&body)
	call := func() Call { call, _ := c.request("GET", ep, query); return call }
	if err := checkPage(call, cur, got, id); err != nil {
		return Page[T]{}, err
	}
	p := Page[T]{Items: got}
	if len(got) >= PerPage {
		p.Next = &Cursor{Page: cur.Page + 1, Seen: id(&got[0]), Max: cur.Max}
	}
	return p, nil
}

// checkPage refuses a page read at cur that shows the server will not let
// the listing end: the page before it again, or items past cur.Max.
func checkPage[T any](call func() Call, cur Cursor, got []T, id func(*T) string) error {
	if len(got) == 0 {
		return nil
	}
	if first := id(&got[0]); cur.Page > 0 && first != "" && first == cur.Seen {
		return &ListError{Call: call(),
			Reason: "page " + strconv.Itoa(cur.Page) + " starts with the same item as the page before it: the server (or a caching " +
				"proxy in front of it) ignores the page parameter, so the list would never end"}
	}
	if reason := pastPlausibleEnd(cur, cur.Page*PerPage+len(got)); reason != "" {
		return &ListError{Call: call(), Reason: reason}
	}
	return nil
}

// pastPlausibleEnd is why a listing that has read `read` items at cur cannot
// be real ("" when it can): more than cur.Max, or than MaxListItems.
func pastPlausibleEnd(cur Cursor, read int) string {
	switch {
	case cur.Max > 0 && read > cur.Max:
		return fmt.Sprintf("the list goes on past %d items, far more than the server counts (with room for additions "+
			"during the sync): the server (or a proxy in front of it) keeps answering full pages, so the list would never end", cur.Max)
	case read > MaxListItems:
		return fmt.Sprintf("the list goes on past %d items, more than any Mattermost server holds: the server (or a proxy "+
			"in front of it) keeps answering full pages, so the list would never end", MaxListItems)
	}
	return ""
}

// getPage fetches the items [page*perPage, (page+1)*perPage) of a listing
// into out (a slice, or an object for listings that wrap their items).
func (c *Client) getPage(ctx context.Context, ep endpoint, query url.Values, page, perPage int, out any) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(perPage))
	return c.get(ctx, ep, q, out)
}
