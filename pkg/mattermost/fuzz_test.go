package mattermost_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// fuzzToken is the token of the fuzzed client; seeds put it in bodies to
// check that no error ever shows it.
const fuzzToken = "fuzztok3n9x7q2w8e4r6t1y5u0"

// apiCalls makes every call of the client that reads an answer, so the fuzz
// target decodes every response type. TestAPICallsCoverTheClient keeps the
// list complete as the client grows.
var apiCalls = []apiCall{
	{"GetMe", func(ctx context.Context, c *mattermost.Client) error { _, err := c.GetMe(ctx); return err }},
	{"GetUser", func(ctx context.Context, c *mattermost.Client) error { _, err := c.GetUser(ctx, "u1"); return err }},
	{"ListUsers", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListUsers(ctx, mattermost.Cursor{Page: 1})
		return err
	}},
	{"CountUsers", func(ctx context.Context, c *mattermost.Client) error { _, err := c.CountUsers(ctx); return err }},
	{"ListTeams", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListTeams(ctx, mattermost.Cursor{})
		return err
	}},
	{"GetTeam", func(ctx context.Context, c *mattermost.Client) error { _, err := c.GetTeam(ctx, "t1"); return err }},
	{"ListTeamMembers", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListTeamMembers(ctx, "t1", mattermost.Cursor{})
		return err
	}},
	{"GetTeamMember", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetTeamMember(ctx, "t1", "u1")
		return err
	}},
	{"AddTeamMember", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.AddTeamMember(ctx, "t1", "u1")
		return err
	}},
	{"RemoveTeamMember", func(ctx context.Context, c *mattermost.Client) error { return c.RemoveTeamMember(ctx, "t1", "u1") }},
	{"UpdateTeamMemberSchemeRoles", func(ctx context.Context, c *mattermost.Client) error {
		return c.UpdateTeamMemberSchemeRoles(ctx, "t1", "u1", mattermost.SchemeRoles{SchemeUser: true})
	}},
	{"ListPrivateChannels", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListPrivateChannels(ctx, "t1", mattermost.Cursor{})
		return err
	}},
	{"ListPublicChannels", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListPublicChannels(ctx, "t1", mattermost.Cursor{Offset: 200, Anchors: []string{"c9"}})
		return err
	}},
	{"SearchPrivateChannels", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.SearchPrivateChannels(ctx, mattermost.Cursor{Offset: 200, Anchors: []string{"c9"}})
		return err
	}},
	{"ListChannelUsers", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListChannelUsers(ctx, "c1", mattermost.Cursor{})
		return err
	}},
	{"ListSmallChannelMembers", func(ctx context.Context, c *mattermost.Client) error {
		_, _, err := c.ListSmallChannelMembers(ctx, "c1")
		return err
	}},
	{"GetChannelMembersByIDs", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetChannelMembersByIDs(ctx, "c1", []string{"u1", "u2"})
		return err
	}},
	{"GetChannel", func(ctx context.Context, c *mattermost.Client) error { _, err := c.GetChannel(ctx, "c1"); return err }},
	{"GetChannelMember", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetChannelMember(ctx, "c1", "u1")
		return err
	}},
	{"AddChannelMember", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.AddChannelMember(ctx, "c1", "u1")
		return err
	}},
	{"RemoveChannelMember", func(ctx context.Context, c *mattermost.Client) error { return c.RemoveChannelMember(ctx, "c1", "u1") }},
	{"UpdateChannelMemberSchemeRoles", func(ctx context.Context, c *mattermost.Client) error {
		return c.UpdateChannelMemberSchemeRoles(ctx, "c1", "u1", mattermost.SchemeRoles{SchemeUser: true, SchemeAdmin: true})
	}},
	{"ListUserChannelsInTeam", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListUserChannelsInTeam(ctx, "u1", "t1")
		return err
	}},
	{"ListGroups", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListGroups(ctx, mattermost.Cursor{})
		return err
	}},
	{"ListGroupMembers", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListGroupMembers(ctx, "g1", mattermost.Cursor{})
		return err
	}},
	{"ListTeamGroups", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListTeamGroups(ctx, "t1", mattermost.Cursor{})
		return err
	}},
	{"ListChannelGroups", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListChannelGroups(ctx, "c1", mattermost.Cursor{})
		return err
	}},
	{"GetGroup", func(ctx context.Context, c *mattermost.Client) error { _, err := c.GetGroup(ctx, "g1"); return err }},
	{"GetLicense", func(ctx context.Context, c *mattermost.Client) error { _, err := c.GetLicense(ctx); return err }},
	{"ListUserReport", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListUserReport(ctx, mattermost.Cursor{AfterKey: "a", AfterID: "u1"})
		return err
	}},
	{"GetUserReport", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetUserReport(ctx, &mattermost.User{ID: "u1", Username: "a"})
		return err
	}},
	{"GetRolesByNames", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetRolesByNames(ctx, []string{"system_admin", "system_user"})
		return err
	}},
	{"ListUsersWithRole", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListUsersWithRole(ctx, "system_admin", mattermost.Cursor{})
		return err
	}},
	{"UpdateUserRoles", func(ctx context.Context, c *mattermost.Client) error {
		return c.UpdateUserRoles(ctx, "u1", []string{"system_user"})
	}},
	{"CreateUser", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.CreateUser(ctx, &mattermost.NewUser{Email: "a@example.com", Username: "a"})
		return err
	}},
	{"GetUserByEmail", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetUserByEmail(ctx, "a@example.com")
		return err
	}},
	{"GetUserByUsername", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetUserByUsername(ctx, "a")
		return err
	}},
	{"ListSessions", func(ctx context.Context, c *mattermost.Client) error { _, err := c.ListSessions(ctx, "u1"); return err }},
	{"PasswordMinimumLength", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.PasswordMinimumLength(ctx)
		return err
	}},
	{"RevokeAllSessions", func(ctx context.Context, c *mattermost.Client) error { return c.RevokeAllSessions(ctx, "u1") }},
	{"SetBotActive", func(ctx context.Context, c *mattermost.Client) error { return c.SetBotActive(ctx, "b1", false) }},
	{"SetUserActive", func(ctx context.Context, c *mattermost.Client) error { return c.SetUserActive(ctx, "u1", true) }},
	{"ListAccessTokens", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.ListAccessTokens(ctx, mattermost.Cursor{})
		return err
	}},
	{"GetAccessToken", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetAccessToken(ctx, "k1")
		return err
	}},
	{"RevokeAccessToken", func(ctx context.Context, c *mattermost.Client) error { return c.RevokeAccessToken(ctx, "k1") }},
	{"SetAccessTokenActive", func(ctx context.Context, c *mattermost.Client) error { return c.SetAccessTokenActive(ctx, "k1", false) }},
	{"AccessTokensEnabled", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.AccessTokensEnabled(ctx)
		return err
	}},
	{"GetUsersByIDs", func(ctx context.Context, c *mattermost.Client) error {
		_, err := c.GetUsersByIDs(ctx, []string{"u1", "u2"})
		return err
	}},
}

type apiCall struct {
	method string
	call   func(context.Context, *mattermost.Client) error
}

// methodsWithoutAnswer are *Client methods that make no API call.
var methodsWithoutAnswer = []string{"BaseURL", "IsOwnToken", "CheckUsersPage"}

func TestAPICallsCoverTheClient(t *testing.T) {
	typ := reflect.TypeFor[*mattermost.Client]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if slices.Contains(methodsWithoutAnswer, name) {
			continue
		}
		if !slices.ContainsFunc(apiCalls, func(c apiCall) bool { return c.method == name }) {
			t.Errorf("(*Client).%s is not in apiCalls: add it so FuzzAPIResponse decodes its answers", name)
		}
	}
}

// canned answers every request with one fixed response.
type canned struct {
	status      int
	contentType string
	retryAfter  string
	body        []byte
}

func (c canned) RoundTrip(req *http.Request) (*http.Response, error) {
	h := http.Header{}
	if c.contentType != "" {
		h.Set("Content-Type", c.contentType)
	}
	if c.retryAfter != "" {
		h.Set("Retry-After", c.retryAfter)
		h.Set("X-Ratelimit-Reset", c.retryAfter)
	}
	return &http.Response{StatusCode: c.status, Status: http.StatusText(c.status), Header: h, Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: int64(len(c.body)),
		Request: req}, nil
}

// FuzzAPIResponse feeds arbitrary answers (status, content type,
// Retry-After, body) to every call of the client. Properties: no panic; a
// call succeeds only on a 2xx; a failed answer is one of the client's typed
// errors naming the call, "not found" only for Mattermost's own error body
// (the connector maps the types to gRPC codes: pkg/connector/errors.go), and
// no error shows the token.
func FuzzAPIResponse(f *testing.F) {
	f.Add(uint8(0), 200, "application/json", "", []byte(`{"id":"u1","username":"a","roles":"system_admin system_user"}`))
	f.Add(uint8(2), 200, "application/json", "", []byte(`[{"id":"u1","username":"a","delete_at":0}]`))
	f.Add(uint8(3), 200, "application/json; charset=utf-8", "", []byte(`[{"id":"t1","name":"x","group_constrained":null}]`))
	f.Add(uint8(5), 200, "application/json", "", []byte(`[{"team_id":"t1","user_id":"u1","scheme_admin":true}]`))
	f.Add(uint8(1), 404, "application/json", "", []byte(`{"id":"app.user.missing_account.const","message":"Unable to find the user.","status_code":404}`))
	f.Add(uint8(0), 401, "application/json", "", []byte(`{"id":"api.context.session_expired.app_error","message":"Invalid or expired session `+fuzzToken+`"}`))
	f.Add(uint8(2), 429, "text/plain; charset=utf-8", "1", []byte("limit exceeded\n"))
	f.Add(uint8(4), 502, "text/html", "", []byte("<html>Bad Gateway for Bearer "+fuzzToken+"</html>"))
	f.Add(uint8(2), 200, "application/json", "", []byte(`[{"id":"u1","usern`))
	f.Add(uint8(2), 200, "application/json", "", []byte(`null`))
	f.Add(uint8(0), 200, "text/html", "", []byte("<!doctype html>"))
	f.Fuzz(func(t *testing.T, call uint8, code int, contentType, retryAfter string, body []byte) {
		if code < 0 {
			code = -code
		}
		code = 100 + code%500 // net/http only hands over 1xx-5xx
		hc := &http.Client{Transport: canned{status: code, contentType: contentType, retryAfter: retryAfter, body: body}}
		c, err := mattermost.New(mattermost.Config{BaseURL: "https://chat.example.com", Token: fuzzToken,
			HTTPClient: hc, Retry: mattermost.RetryPolicy{MaxAttempts: 1, RateLimitPatience: time.Nanosecond}})
		if err != nil {
			t.Fatal(err)
		}
		api := apiCalls[int(call)%len(apiCalls)]
		err = api.call(context.Background(), c)
		if err == nil {
			if code < 200 || code > 299 {
				t.Fatalf("%s succeeded on HTTP %d", api.method, code)
			}
			return
		}
		if code < 200 || code > 299 {
			// Every failed answer is one of the client's typed errors, naming the call.
			if !isClientError(err) {
				t.Fatalf("%s: error %T on HTTP %d is not one of the client's typed errors: %v", api.method, err, code, err)
			}
			if !strings.Contains(err.Error(), "/api/v4/") {
				t.Fatalf("%s: error does not name the call: %v", api.method, err)
			}
		}
		// Not found only when Mattermost itself said so, with its error id: a
		// proxy's 404 page must not make the SDK skip an object as gone.
		var apiErr *mattermost.APIError
		if mattermost.IsNotFound(err) && (!errors.As(err, &apiErr) || apiErr.ID == "") {
			t.Fatalf("%s: not found without a Mattermost error id: %v", api.method, err)
		}
		if strings.Contains(err.Error(), fuzzToken) {
			t.Fatalf("%s: error shows the token: %v", api.method, err)
		}
	})
}

// isClientError reports whether err is one of the errors the client documents.
func isClientError(err error) bool {
	var (
		apiErr      *mattermost.APIError
		rateLimited *mattermost.RateLimitError
		transient   *mattermost.TransientError
		notMM       *mattermost.NotMattermostError
		tooLarge    *mattermost.ResponseTooLargeError
		listErr     *mattermost.ListError
	)
	return errors.As(err, &apiErr) || errors.As(err, &rateLimited) || errors.As(err, &transient) ||
		errors.As(err, &notMM) || errors.As(err, &tooLarge) || errors.As(err, &listErr)
}

// FuzzNormalizeBaseURL: no panic; an accepted URL is http(s) with a host and
// no user info, query or fragment, with no trailing slash or /api/v4, and
// normalising it again changes nothing; a refusal names base-url and never
// shows a password, query value or fragment put into the input.
func FuzzNormalizeBaseURL(f *testing.F) {
	for _, s := range []string{"https://chat.example.com", "http://127.0.0.1:8065/", "https://example.com/mattermost/api/v4/",
		"chat.example.com", "ftp://x", "https://admin:pw@host", "http://[::1", "https://host/?a=b#c", " https://HOST:443 ", "https://",
		"https://host/%zz", "https://u:p@[::1]:x/", "mailto:admin@example.com"} {
		f.Add(s, "Sekr3tValue")
	}
	f.Fuzz(func(t *testing.T, raw, secret string) {
		u, err := mattermost.NormalizeBaseURL(raw)
		if err == nil {
			if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" ||
				u.ForceQuery || u.Fragment != "" || strings.HasSuffix(u.Path, "/") || strings.HasSuffix(u.Path, "/api/v4") {
				t.Fatalf("%q accepted as %#v", raw, u)
			}
			again, err := mattermost.NormalizeBaseURL(u.String())
			if err != nil || again.String() != u.String() {
				t.Fatalf("%q → %q → %v, %v", raw, u, again, err)
			}
		} else if !strings.Contains(err.Error(), "base-url") {
			t.Fatalf("%q: error does not name base-url: %v", raw, err)
		}

		// Put the secret where credentials hide in URLs. Letters and digits
		// only, so that its value never changes how the URL parses.
		if len(secret) < 8 || strings.IndexFunc(secret, func(r rune) bool {
			return r > unicode.MaxASCII ||
				!unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) >= 0 {
			return
		}
		scheme, rest, hasScheme := strings.Cut(raw, "://")
		variants := []func(secret string) string{
			func(secret string) string {
				if hasScheme {
					return scheme + "://admin:" + secret + "@" + rest
				}
				return "admin:" + secret + "@" + raw
			},
			func(secret string) string { return raw + "?access_token=" + secret },
			func(secret string) string { return raw + "#" + secret },
		}
		for _, variant := range variants {
			_, err := mattermost.NormalizeBaseURL(variant(secret))
			if err == nil {
				t.Fatalf("%q accepted", variant(secret))
			}
			if !strings.Contains(err.Error(), secret) {
				continue
			}
			// The same input with another secret of the same shape: if its
			// message shows our secret too, the secret is part of raw itself
			// (a host name, say) or of the message's own words.
			_, other := mattermost.NormalizeBaseURL(variant(strings.Repeat("Q", len(secret))))
			if other != nil && strings.Contains(other.Error(), secret) {
				continue
			}
			t.Fatalf("%q: error shows the secret: %v", variant(secret), err)
		}
	})
}

// FuzzNormalizeToken: no panic; an accepted token is the input without
// surrounding white space, printable ASCII without quotes, not a "Bearer "
// header; a refusal names api-token and never shows the token.
func FuzzNormalizeToken(f *testing.F) {
	for _, s := range []string{"abcdefghijklmnopqrstuvwxyz", " 8b5dhqxzs3y6feq9pquidcck3e\n", `"8b5dhqxzs3y6feq9pquidcck3e"`, "",
		"Bearer 8b5dhqxzs3y6feq9pquidcck3e", "8b5dhqxzs3y6 feq9pquidcck3e", "tok\u00e9n123", "tok\x00en", "'x'", "`x`"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := mattermost.NormalizeToken(raw)
		trimmed := strings.TrimSpace(raw)
		if err == nil {
			if tok != trimmed || tok == "" || strings.HasPrefix(strings.ToLower(tok), "bearer ") ||
				strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune("\"'`", r) }) >= 0 {
				t.Fatalf("%q accepted as %q", raw, tok)
			}
			return
		}
		msg := err.Error()
		if !strings.Contains(msg, "api-token") {
			t.Fatalf("%q: error does not name api-token: %v", raw, err)
		}
		// The messages are fixed sentences without digits: any token part
		// with a digit that shows up in one was copied from the input.
		for _, part := range strings.FieldsFunc(trimmed, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune("\"'`", r) }) {
			if len(part) >= 4 && strings.ContainsAny(part, "0123456789") && strings.Contains(msg, part) {
				t.Fatalf("%q: error shows the token: %v", raw, err)
			}
		}
	})
}
