package connector

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// pagedList is a listing of `pages` full pages and a short last one, which
// records the pages asked for and can hold or fail them.
type pagedList struct {
	pages int
	mu    sync.Mutex
	asked []int
	fail  map[int]bool
	// hold, when set, makes the fetches of pages from holdFrom on wait for it to be closed.
	hold     chan struct{}
	holdFrom int
}

func (l *pagedList) fetch(ctx context.Context, page int) (mattermost.Page[int], error) {
	l.mu.Lock()
	l.asked = append(l.asked, page)
	fail, hold := l.fail[page], l.hold
	l.fail[page] = false
	l.mu.Unlock()
	if hold != nil && page >= l.holdFrom {
		select {
		case <-hold:
		case <-ctx.Done():
			return mattermost.Page[int]{}, ctx.Err()
		}
	}
	if fail {
		return mattermost.Page[int]{}, errors.New("HTTP 503")
	}
	n := mattermost.PerPage
	switch {
	case page == l.pages:
		n = 7
	case page > l.pages:
		n = 0
	}
	items := make([]int, n)
	for i := range items {
		items[i] = page*mattermost.PerPage + i
	}
	p := mattermost.Page[int]{Items: items}
	if n == mattermost.PerPage {
		p.NextPage = page + 1
	}
	return p, nil
}

func (l *pagedList) askedPages() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.asked...)
}

// walk reads the whole listing the way the SDK does, one page after the other.
func walk(t *testing.T, p *pagesAhead[int], syncID string) int {
	t.Helper()
	items := 0
	for page := 0; ; {
		res, err := p.page(context.Background(), syncID, page)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		for i, v := range res.Items {
			if v != page*mattermost.PerPage+i {
				t.Fatalf("page %d item %d = %d: another page's answer", page, i, v)
			}
		}
		items += len(res.Items)
		if res.NextPage == 0 {
			return items
		}
		page = res.NextPage
	}
}

func TestPagesAheadAsksEachPageOnceAndOnePastTheEnd(t *testing.T) {
	l := &pagedList{pages: 5, fail: map[int]bool{}}
	p := newPagesAhead(2, l.fetch)
	if got := walk(t, p, "s1"); got != 5*mattermost.PerPage+7 {
		t.Fatalf("walked %d items", got)
	}
	time.Sleep(50 * time.Millisecond) // let the fetch past the end finish
	seen := map[int]int{}
	for _, page := range l.askedPages() {
		seen[page]++
	}
	for page := 0; page <= 6; page++ {
		if seen[page] != 1 {
			t.Errorf("page %d asked %d times, want once (asked: %v)", page, seen[page], l.askedPages())
		}
	}
	if len(seen) != 7 {
		t.Errorf("asked pages %v, want 0-5 and the empty page 6", l.askedPages())
	}
}

// The pages ahead are in flight together, before the SDK asks for them.
func TestPagesAheadFetchesTheNextPagesTogether(t *testing.T) {
	l := &pagedList{pages: 5, fail: map[int]bool{}, hold: make(chan struct{}), holdFrom: 1}
	p := newPagesAhead(2, l.fetch)
	if _, err := p.page(context.Background(), "s1", 0); err != nil {
		t.Fatal(err)
	}
	// Pages 1 and 2 are both asked for while neither has answered.
	waitAsked(t, l, 3)
	close(l.hold)
	if got := walk(t, p, "s1"); got != 5*mattermost.PerPage+7 {
		t.Fatalf("walked %d items", got)
	}
}

func waitAsked(t *testing.T, l *pagedList, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(l.askedPages()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("asked %v, want %d pages asked", l.askedPages(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestPagesAheadRetriesAFailedFetchAndServesNoOtherSync(t *testing.T) {
	l := &pagedList{pages: 3, fail: map[int]bool{2: true}}
	p := newPagesAhead(2, l.fetch)
	if got := walk(t, p, "s1"); got != 3*mattermost.PerPage+7 {
		t.Fatalf("walked %d items", got)
	}
	twice := 0
	for _, page := range l.askedPages() {
		if page == 2 {
			twice++
		}
	}
	if twice != 2 {
		t.Errorf("failed page 2 asked %d times, want 2 (ahead, then by its own call)", twice)
	}

	// A page fetched ahead for sync s2 is not served to sync s3.
	if _, err := p.page(context.Background(), "s2", 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	before := len(l.askedPages())
	if _, err := p.page(context.Background(), "s3", 1); err != nil {
		t.Fatal(err)
	}
	if after := l.askedPages(); len(after) <= before || after[before] != 1 {
		t.Errorf("sync s3's page 1 was not asked afresh: %v", after[before:])
	}
}
