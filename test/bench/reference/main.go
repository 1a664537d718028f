// Command reference does only the work a sync of a Mattermost server cannot
// avoid: it fetches every page a full sync with the default configuration
// needs, one request at a time, and decodes the JSON into the connector's own
// types. Nothing is kept or written. Its wall time, requests and bytes are the
// yardstick the benchmark holds baton-mattermost's sync against.
//
//	MM_API_TOKEN=... reference -url http://127.0.0.1:8065 [-last-login=false]
//
// Pages: /users, /teams and, for each active team (the connector skips
// archived ones by default), /teams/{id}/members, all at per_page=200; with
// -private-channels, the private channels of the whole server, read with
// POST /channels/search {"term":"","private":true,...} 200 a page (a System
// Admin gets every team's live private channels, each with its team_id; those
// of archived teams are left out, as the connector never lists an archived
// team's channels) and each one's /channels/{id}/members pages; with
// -last-login the /reports/users pages (page_size=100, keyset paging by
// username); and the server's API tokens, GET /users/tokens 200 a page. It prints one JSON object: requests, bytes, item counts and
// seconds, in all and by listing.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
)

// Result is what one reference run did.
type Result struct {
	Requests    int     `json:"requests"`
	Bytes       int64   `json:"bytes"`
	Users       int     `json:"users"`
	Teams       int     `json:"teams"`
	Memberships int     `json:"memberships"`
	ReportRows  int     `json:"report_rows"`
	Channels    int     `json:"private_channels"`
	ChannelRows int     `json:"channel_memberships"`
	Tokens      int     `json:"tokens"`
	Seconds     float64 `json:"seconds"`
	// PhaseSeconds splits Seconds by listing: users, reports, teams, members, channels, tokens.
	PhaseSeconds map[string]float64 `json:"phase_seconds"`
}

type fetcher struct {
	http  *http.Client
	base  string
	token string
	res   Result
}

func main() {
	base := flag.String("url", "", "Mattermost server URL")
	lastLogin := flag.Bool("last-login", true, "also fetch the /reports/users pages (users' last logins)")
	includeArchived := flag.Bool("include-archived-teams", false, "also fetch the members of archived teams")
	privateChannels := flag.Bool("private-channels", true, "also fetch the active teams' private channels and their members")
	flag.Parse()
	token := os.Getenv("MM_API_TOKEN")
	if *base == "" || token == "" {
		fmt.Fprintln(os.Stderr, "reference: -url and $MM_API_TOKEN are required")
		os.Exit(2)
	}
	f := &fetcher{http: &http.Client{Timeout: 5 * time.Minute}, base: *base + "/api/v4", token: token}
	start := time.Now()
	if err := f.run(context.Background(), *lastLogin, *includeArchived, *privateChannels); err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		os.Exit(1)
	}
	f.res.Seconds = time.Since(start).Seconds()
	_ = json.NewEncoder(os.Stdout).Encode(f.res)
}

func (f *fetcher) run(ctx context.Context, lastLogin, includeArchived, privateChannels bool) error {
	f.res.PhaseSeconds = map[string]float64{}
	phase := time.Now()
	lap := func(name string) {
		f.res.PhaseSeconds[name] += time.Since(phase).Seconds()
		phase = time.Now()
	}
	if err := eachPage(ctx, f, "/users", func(users []mattermost.User) { f.res.Users += len(users) }); err != nil {
		return err
	}
	lap("users")
	if lastLogin {
		if err := f.report(ctx); err != nil {
			return err
		}
		lap("reports")
	}
	var teams []mattermost.Team
	if err := eachPage(ctx, f, "/teams", func(items []mattermost.Team) { teams = append(teams, items...) }); err != nil {
		return err
	}
	lap("teams")
	for _, t := range teams {
		if t.IsArchived() && !includeArchived {
			continue
		}
		f.res.Teams++
		if err := eachPage(ctx, f, "/teams/"+t.ID+"/members", func(members []mattermost.TeamMember) { f.res.Memberships += len(members) }); err != nil {
			return err
		}
	}
	lap("members")
	if privateChannels {
		archived := map[string]bool{}
		for _, t := range teams {
			archived[t.ID] = t.IsArchived()
		}
		if err := f.privateChannels(ctx, archived); err != nil {
			return err
		}
		lap("channels")
	}
	if err := eachPage(ctx, f, "/users/tokens", func(tokens []mattermost.AccessToken) { f.res.Tokens += len(tokens) }); err != nil {
		return err
	}
	lap("tokens")
	return nil
}

// privateChannels pages the server's private channels and each one's members,
// leaving out the channels of archived teams.
func (f *fetcher) privateChannels(ctx context.Context, archivedTeam map[string]bool) error {
	var channels []mattermost.Channel
	for page := 0; ; page++ {
		var res struct {
			Channels []mattermost.Channel `json:"channels"`
		}
		body := map[string]any{"term": "", "private": true, "page": page, "per_page": mattermost.PerPage}
		if err := f.do(ctx, http.MethodPost, "/channels/search", nil, body, &res); err != nil {
			return err
		}
		for _, ch := range res.Channels {
			if !archivedTeam[ch.TeamID] {
				channels = append(channels, ch)
			}
		}
		if len(res.Channels) < mattermost.PerPage {
			break
		}
	}
	f.res.Channels += len(channels)
	for _, ch := range channels {
		if err := eachPage(ctx, f, "/channels/"+ch.ID+"/members", func(members []mattermost.ChannelMember) { f.res.ChannelRows += len(members) }); err != nil {
			return err
		}
	}
	return nil
}

// eachPage walks a listing at per_page=200, handing each decoded page to
// each, and stops after the first page shorter than that.
func eachPage[T any](ctx context.Context, f *fetcher, path string, each func([]T)) error {
	for page := 0; ; page++ {
		var items []T
		if err := f.do(ctx, http.MethodGet, path, pageQuery(page), nil, &items); err != nil {
			return err
		}
		each(items)
		if len(items) < mattermost.PerPage {
			return nil
		}
	}
}

// report walks GET /reports/users in username order, 100 rows a page.
func (f *fetcher) report(ctx context.Context) error {
	type row struct {
		ID        string `json:"id"`
		Username  string `json:"username"`
		LastLogin int64  `json:"last_login"`
	}
	const pageSize = 100
	q := url.Values{"sort_column": {"Username"}, "direction": {"next"}, "page_size": {strconv.Itoa(pageSize)}}
	for {
		var rows []row
		if err := f.do(ctx, http.MethodGet, "/reports/users", q, nil, &rows); err != nil {
			return err
		}
		f.res.ReportRows += len(rows)
		if len(rows) < pageSize {
			return nil
		}
		last := rows[len(rows)-1]
		q.Set("from_column_value", last.Username)
		q.Set("from_id", last.ID)
	}
}

func pageQuery(page int) url.Values {
	return url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(mattermost.PerPage)}}
}

// do sends one request (in, if not nil, as its JSON body) and decodes the answer into out.
func (f *fetcher) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var reqBody io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		reqBody = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.base+path+"?"+q.Encode(), reqBody)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Accept", "application/json")
	resp, err := f.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	f.res.Requests++
	f.res.Bytes += int64(len(body))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	return json.Unmarshal(body, out)
}
