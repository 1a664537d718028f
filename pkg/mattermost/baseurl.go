package mattermost

import (
	"fmt"
	"net/url"
	"strings"
)

// apiPath is the REST API root below a Mattermost server URL.
const apiPath = "/api/v4"

// NormalizeBaseURL turns what an operator typed as the server URL into the
// server root (scheme, host and optional sub-path, no trailing slash).
// It accepts "https://host", "https://host/", "https://host/api/v4" and servers
// under a sub-path ("https://host/mattermost"). It refuses anything else with
// an error that says what to change, because a wrong URL would otherwise show
// up much later as a confusing HTTP error.
func NormalizeBaseURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, fmt.Errorf("base-url is empty: set it to your Mattermost server URL, e.g. https://chat.example.com")
	}
	if !strings.Contains(s, "://") {
		return nil, fmt.Errorf("base-url %q has no scheme: use https://%s", s, s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("base-url %q is not a valid URL: %w", s, err)
	}
	switch u.Scheme {
	case "https", "http":
	default:
		return nil, fmt.Errorf("base-url %q must start with https:// (or http://), not %s://", redactURL(u), u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("base-url %q has no host name", redactURL(u))
	}
	if u.User != nil {
		return nil, fmt.Errorf("base-url %q must not contain a user name or password: put the credential in api-token", redactURL(u))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("base-url %q must not contain a query string or fragment: give only the server URL", redactURL(u))
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, apiPath)
	p = strings.TrimRight(p, "/")
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: p}, nil
}

// redactURL prints a URL without its user info or query, which may hold secrets.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	return c.String()
}

// NormalizeToken trims surrounding white space (a common copy-paste accident)
// and refuses tokens that cannot be valid, naming the mistake. Mattermost
// personal access and bot tokens are 26 lower-case letters and digits, but we
// only refuse what is certainly wrong, so that future token formats still work.
func NormalizeToken(raw string) (string, error) {
	t := strings.TrimSpace(raw)
	if t == "" {
		return "", fmt.Errorf("api-token is empty: create a personal access token or bot token of a System Admin and pass it as api-token")
	}
	if strings.HasPrefix(strings.ToLower(t), "bearer ") {
		return "", fmt.Errorf("api-token starts with \"Bearer \": give only the token itself")
	}
	for _, r := range t {
		switch {
		case r == '"' || r == '\'' || r == '`':
			return "", fmt.Errorf("api-token contains quote characters: remove the quotes around the token")
		case r <= ' ' || r == 0x7f:
			return "", fmt.Errorf("api-token contains white space or control characters inside it: copy the token again")
		case r > 0x7e:
			return "", fmt.Errorf("api-token contains non-ASCII characters: copy the token again")
		}
	}
	return t, nil
}
