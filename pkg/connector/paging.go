package connector

import (
	"encoding/json"
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

// Walks that need more state than a page number (channel lists and channel
// members, see mattermost.Cursor) keep it as JSON in the token.

// decodeToken reads a JSON page token into v; "" leaves v as it is (the start).
func decodeToken(tok pagination.Token, v any) error {
	if tok.Token == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(tok.Token), v); err != nil {
		return fmt.Errorf("baton-mattermost: invalid page token %q: %w", tok.Token, err)
	}
	return nil
}

// encodeToken writes v as a JSON page token; nil means the end ("").
func encodeToken[T any](v *T) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("baton-mattermost: encoding page token: %w", err)
	}
	return string(b), nil
}
