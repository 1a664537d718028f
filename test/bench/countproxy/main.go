// Command countproxy is a reverse proxy in front of a Mattermost server that
// counts what a client asks: requests, response bytes, requests by kind of
// call, repeated requests (the same method, URL and body more than once: POST
// listings such as /channels/search carry their page in the body) and calls
// about one user (/users/{id}...). The benchmark sends one run of each side
// through it to count, and times runs that go straight to the server.
//
//	countproxy -upstream http://127.0.0.1:8065 -addr-file proxy.addr
//
// It writes the address it listens on to -addr-file. GET /_count/report
// returns the counts so far as JSON; POST /_count/reset zeroes them.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Report is what the proxy counted since the last reset.
type Report struct {
	Requests int            `json:"requests"`
	Bytes    int64          `json:"bytes"`
	ByKind   map[string]int `json:"by_kind"`
	// Duplicates counts requests whose method, URL and body had been requested before.
	Duplicates       int      `json:"duplicates"`
	DuplicateSamples []string `json:"duplicate_samples,omitempty"`
	// PerUserCalls counts GETs of /users/{id} and below: what a list already returned.
	PerUserCalls int `json:"per_user_calls"`
	Errors       int `json:"errors"`
}

type counter struct {
	mu   sync.Mutex
	rep  Report
	seen map[string]bool
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rep = Report{ByKind: map[string]int{}}
	c.seen = map[string]bool{}
}

var (
	idSegment = regexp.MustCompile(`^[a-z0-9]{26}$`)
	userCall  = regexp.MustCompile(`^/api/v4/users/[a-z0-9]{26}(/|$)`)
)

// kind names a call by its path with ids replaced, e.g. GET /api/v4/teams/{id}/members.
func kind(method, path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if idSegment.MatchString(p) {
			parts[i] = "{id}"
		}
	}
	return method + " " + strings.Join(parts, "/")
}

func (c *counter) record(r *http.Request, body string, status int, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rep.Requests++
	c.rep.Bytes += n
	c.rep.ByKind[kind(r.Method, r.URL.Path)]++
	key := r.Method + " " + r.URL.Path + "?" + canonicalQuery(r.URL.Query())
	if body != "" {
		key += " " + body
	}
	if c.seen[key] {
		c.rep.Duplicates++
		if len(c.rep.DuplicateSamples) < 10 {
			c.rep.DuplicateSamples = append(c.rep.DuplicateSamples, key)
		}
	}
	c.seen[key] = true
	if r.Method == http.MethodGet && userCall.MatchString(r.URL.Path) {
		c.rep.PerUserCalls++
	}
	if status >= 400 {
		c.rep.Errors++
	}
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			fmt.Fprintf(&b, "%s=%s&", k, v)
		}
	}
	return b.String()
}

// countingBody counts the bytes the client reads of a response.
type countingBody struct {
	io.ReadCloser
	n    int64
	done func(int64)
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error {
	b.done(b.n)
	return b.ReadCloser.Close()
}

// bodyKey is the context key of a request's body, as keepBody read it.
type bodyKey struct{}

// maxKeptBody bounds the request body kept to tell requests apart.
const maxKeptBody = 1 << 20

// keepBody reads a request's body (up to maxKeptBody), passes it on unchanged
// and keeps a copy in the request's context for record.
func keepBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(io.LimitReader(r.Body, maxKeptBody+1))
			_ = r.Body.Close()
			if err != nil || len(b) > maxKeptBody {
				http.Error(w, "countproxy: request body unreadable or over 1 MiB", http.StatusBadGateway)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, string(b)))
		}
		next.ServeHTTP(w, r)
	})
}

func main() {
	upstream := flag.String("upstream", "", "Mattermost server URL")
	addrFile := flag.String("addr-file", "", "write the listen address (http://host:port) here")
	flag.Parse()
	target, err := url.Parse(*upstream)
	if err != nil || target.Host == "" {
		fmt.Fprintln(os.Stderr, "countproxy: -upstream must be a URL")
		os.Exit(2)
	}
	c := &counter{}
	c.reset()
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		req := resp.Request
		status := resp.StatusCode
		body, _ := req.Context().Value(bodyKey{}).(string)
		resp.Body = &countingBody{ReadCloser: resp.Body, done: func(n int64) { c.record(req, body, status, n) }}
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_count/report", func(w http.ResponseWriter, _ *http.Request) {
		c.mu.Lock()
		defer c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c.rep)
	})
	mux.HandleFunc("POST /_count/reset", func(w http.ResponseWriter, _ *http.Request) {
		c.reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.Handle("/", keepBody(proxy))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "countproxy:", err)
		os.Exit(1)
	}
	addr := "http://" + ln.Addr().String()
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(addr+"\n"), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "countproxy:", err)
			os.Exit(1)
		}
	}
	fmt.Fprintln(os.Stderr, "countproxy: listening on", addr)
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "countproxy:", err)
		os.Exit(1)
	}
}
