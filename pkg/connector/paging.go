package connector

import (
	"fmt"
	"strconv"

	"github.com/conductorone/baton-sdk/pkg/pagination"
)

// Mattermost lists are paged by page number, so the page token is simply the
// next page number; "" means the first page on the way in and the end on the way out.

func pageNumber(tok pagination.Token) (int, error) {
	if tok.Token == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(tok.Token)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("baton-mattermost: invalid page token %q", tok.Token)
	}
	return n, nil
}

func nextPageToken(next int) string {
	if next <= 0 {
		return ""
	}
	return strconv.Itoa(next)
}
