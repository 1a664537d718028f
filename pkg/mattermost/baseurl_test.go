package mattermost

import (
	"strings"
	"testing"
)

func TestNormalizeBaseURL(t *testing.T) {
	ok := map[string]string{
		"https://chat.example.com":                  "https://chat.example.com",
		"https://chat.example.com/":                 "https://chat.example.com",
		"https://chat.example.com/api/v4":           "https://chat.example.com",
		"https://chat.example.com/api/v4/":          "https://chat.example.com",
		"https://Chat.Example.com:8443/mattermost/": "https://chat.example.com:8443/mattermost",
		"  http://127.0.0.1:8065  ":                 "http://127.0.0.1:8065",
		"https://example.com/mattermost/api/v4":     "https://example.com/mattermost",
	}
	for in, want := range ok {
		u, err := NormalizeBaseURL(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if u.String() != want {
			t.Errorf("%q → %q, want %q", in, u, want)
		}
	}
	bad := map[string]string{
		"":                                 "empty",
		"chat.example.com":                 "no scheme",
		"ftp://chat.example.com":           "https://",
		"https://":                         "no host",
		"https://admin:secret@example.com": "user name or password",
		"https://example.com/?x=1":         "query string",
		"https://example.com/#frag":        "fragment",
		"https://exa mple.com":             "not a valid URL",
	}
	for in, want := range bad {
		_, err := NormalizeBaseURL(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "base-url") {
			t.Errorf("%q: got %v, want an error about %q naming base-url", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: error leaks the password: %v", in, err)
		}
	}
}

func TestNormalizeToken(t *testing.T) {
	if got, err := NormalizeToken("  abcdefghijklmnopqrstuvwxyz \n"); err != nil || got != "abcdefghijklmnopqrstuvwxyz" {
		t.Errorf("white space not trimmed: %q %v", got, err)
	}
	for in, want := range map[string]string{
		"":              "empty",
		"   ":           "empty",
		`"abc123"`:      "quote",
		"'abc123'":      "quote",
		"abc 123":       "white space",
		"Bearer abc123": "Bearer",
		"abc\u00e9":     "non-ASCII",
	} {
		_, err := NormalizeToken(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "api-token") {
			t.Errorf("%q: got %v, want an error about %q", in, err, want)
		}
	}
}
