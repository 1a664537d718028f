package mattermost

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
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
//
// Its errors never show a user name, password, query string or fragment of
// the input: operators paste URLs with credentials in them, and errors end
// up in logs.
func NormalizeBaseURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, fmt.Errorf("base-url is empty: set it to your Mattermost server URL, e.g. https://chat.example.com")
	}
	shown := redactRawURL(s)
	if !strings.Contains(s, "://") {
		return nil, fmt.Errorf("base-url %q has no scheme: use https://%s", shown, shown)
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL it repeats
		}
		return nil, fmt.Errorf("base-url %q is not a valid URL: %s", shown, scrubURLSecrets(err.Error(), s))
	}
	switch u.Scheme {
	case "https", "http":
	default:
		return nil, fmt.Errorf("base-url %q must start with https:// (or http://), not %s://", shown, scrubURLSecrets(u.Scheme, s))
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("base-url %q has no host name", shown)
	}
	if u.User != nil {
		return nil, fmt.Errorf("base-url %q must not contain a user name or password: put the credential in api-token", shown)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("base-url %q must not contain a query string or fragment: give only the server URL", shown)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, apiPath)
	p = strings.TrimRight(p, "/")
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: p}, nil
}

// redactRawURL shows a URL that may not parse without what may be a
// credential: everything between the scheme and the last "@" (user info,
// even when it holds characters that break parsing), and the query string
// and fragment.
func redactRawURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "…@" + rest[at+1:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] + "…"
	}
	if ok {
		return scheme + "://" + rest
	}
	return rest
}

// scrubURLSecrets removes from msg every part of the raw URL s that
// redactRawURL hides, also in the escaped forms url.Parse and %q print.
func scrubURLSecrets(msg, s string) string {
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		rest = s
	}
	var secrets []string
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		userinfo := rest[:at]
		secrets = append(secrets, userinfo)
		if _, pass, ok := strings.Cut(userinfo, ":"); ok {
			secrets = append(secrets, pass)
		}
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		secrets = append(secrets, rest[i+1:])
	}
	var all []string
	for _, sec := range secrets {
		all = append(all, sec, strings.Trim(strconv.Quote(sec), `"`))
		if dec, err := url.PathUnescape(sec); err == nil {
			all = append(all, dec)
		}
		if dec, err := url.QueryUnescape(sec); err == nil {
			all = append(all, dec)
		}
	}
	// Longest first, so that a secret inside another is not scrubbed half.
	sort.Slice(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	for _, sec := range all {
		if len(sec) >= 3 {
			msg = strings.ReplaceAll(msg, sec, "…")
		}
	}
	return msg
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

// checkCleartext refuses http:// for hosts other than loopback unless the
// operator opted in: the token would cross the network (and any HTTP proxy)
// in clear text, and it is a System Admin's.
func checkCleartext(base *url.URL, allowHTTP bool) error {
	if base.Scheme != "http" || allowHTTP || isLoopback(base.Hostname()) {
		return nil
	}
	return fmt.Errorf("base-url %s uses http://, which would send the System Admin token to %s in clear text: "+
		"use https://, or set allow-http if the network path is trusted (e.g. a private link)", base, base.Hostname())
}

// isLoopback reports whether host names this machine: localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
