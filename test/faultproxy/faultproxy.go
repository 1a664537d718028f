// Package faultproxy is an HTTP proxy for tests that sits in front of a
// Mattermost server (real or fake) and makes a chosen share of its answers
// go wrong the way real networks and reverse proxies do: 5xx bursts, HTML
// error pages, connection resets, bodies cut short, answers slower than the
// client's timeout, 429s.
//
// Which requests fail is decided by a seeded hash of the request (method and
// URI) and of how many times that same request was seen before, never by
// arrival order or wall-clock time, so a test run is repeatable even when
// the client retries or works concurrently.
package faultproxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is one way an answer goes wrong.
type Fault string

const (
	// InternalError is Mattermost's own 500 with an AppError JSON body.
	InternalError Fault = "500"
	// BadGateway is a reverse proxy's 502 HTML page (upstream unreachable).
	BadGateway Fault = "502-html"
	// Unavailable is a reverse proxy's 503 HTML page with Retry-After: 1.
	Unavailable Fault = "503-html"
	// GatewayTimeout is a reverse proxy's 504 HTML page.
	GatewayTimeout Fault = "504-html"
	// Reset drops the connection with a TCP RST before answering.
	Reset Fault = "reset"
	// Truncate sends the real answer's headers (with its full Content-Length)
	// and half of its body, then closes the connection.
	Truncate Fault = "truncate"
	// Slow sends the real answer after Config.Delay.
	Slow Fault = "slow"
	// RateLimit is Mattermost's own 429: text/plain "limit exceeded" with
	// Retry-After: 1 and the X-Ratelimit-* headers.
	RateLimit Fault = "429"
	// HTMLPage answers 200 with a web page, as a captive portal or a web
	// server at the wrong URL does.
	HTMLPage Fault = "200-html"
	// NotFoundPage is a reverse proxy's 404 HTML page (a route missing in
	// its configuration), which must not pass for Mattermost's own 404.
	NotFoundPage Fault = "404-html"
)

// ServerErrors are the 5xx faults, for convenience.
var ServerErrors = []Fault{InternalError, BadGateway, Unavailable, GatewayTimeout}

// Config says what to break.
type Config struct {
	// Upstream is the server's root URL, e.g. http://127.0.0.1:8065.
	Upstream string
	// Seed makes the choice of failing requests repeatable.
	Seed uint64
	// Rate is the share of requests that fail, 0 to 1; 1 fails every request.
	Rate float64
	// Faults are the ways to fail, one picked per failing request (seeded).
	Faults []Fault
	// Burst, when > 0, makes failures come in bursts: a request chosen to
	// fail fails on its first Burst tries, then passes. When 0, every try of
	// every request fails independently with probability Rate.
	Burst int
	// Match, when set, limits faults to the requests it accepts.
	Match func(*http.Request) bool
	// Delay is how late Slow answers come (default 5s).
	Delay time.Duration
}

// Stats counts what the proxy saw.
type Stats struct {
	Requests int            // requests received
	Faults   map[Fault]int  // faults injected, by kind
	Upstream map[int]int    // statuses the upstream answered to forwarded requests
	Auth     map[string]int // requests by Authorization scheme ("Bearer", "" for none)
}

// Proxy is a running fault-injecting proxy; URL is its address.
type Proxy struct {
	*httptest.Server
	cfg      Config
	upstream *url.URL
	client   *http.Client

	mu    sync.Mutex
	seen  map[string]int
	stats Stats
}

// Start starts a proxy; Close stops it.
func Start(cfg Config) (*Proxy, error) {
	up, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: bad upstream %q: %w", cfg.Upstream, err)
	}
	if up.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q has no host", cfg.Upstream)
	}
	if cfg.Delay <= 0 {
		cfg.Delay = 5 * time.Second
	}
	if len(cfg.Faults) == 0 && cfg.Rate > 0 {
		return nil, fmt.Errorf("faultproxy: Rate %v without Faults", cfg.Rate)
	}
	p := &Proxy{
		cfg:      cfg,
		upstream: up,
		// Redirects are the client's business: pass them through untouched.
		client: &http.Client{
			Transport:     &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		seen:  map[string]int{},
		stats: Stats{Faults: map[Fault]int{}, Upstream: map[int]int{}, Auth: map[string]int{}},
	}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	return p, nil
}

// Stats returns a copy of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := Stats{Requests: p.stats.Requests, Faults: map[Fault]int{}, Upstream: map[int]int{}, Auth: map[string]int{}}
	for k, v := range p.stats.Faults {
		out.Faults[k] = v
	}
	for k, v := range p.stats.Upstream {
		out.Upstream[k] = v
	}
	for k, v := range p.stats.Auth {
		out.Auth[k] = v
	}
	return out
}

// TotalFaults is the number of faults injected.
func (s Stats) TotalFaults() int {
	n := 0
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// String summarises the counters, e.g. "42 requests; faults 502-html=3 reset=2; upstream 200=37".
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests; faults", s.Requests)
	keys := make([]string, 0, len(s.Faults))
	for k := range s.Faults {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, s.Faults[Fault(k)])
	}
	b.WriteString("; upstream")
	codes := make([]int, 0, len(s.Upstream))
	for k := range s.Upstream {
		codes = append(codes, k)
	}
	sort.Ints(codes)
	for _, k := range codes {
		fmt.Fprintf(&b, " %d=%d", k, s.Upstream[k])
	}
	return b.String()
}

// decide returns the fault for this request, or "" to pass it through.
func (p *Proxy) decide(r *http.Request) Fault {
	key := r.Method + " " + r.URL.RequestURI()
	p.mu.Lock()
	n := p.seen[key]
	p.seen[key] = n + 1
	p.stats.Requests++
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	p.stats.Auth[scheme]++
	p.mu.Unlock()
	if p.cfg.Rate <= 0 || (p.cfg.Match != nil && !p.cfg.Match(r)) {
		return ""
	}
	fail := false
	if p.cfg.Burst > 0 {
		fail = n < p.cfg.Burst && unit(p.cfg.Seed, key, 0, 0) < p.cfg.Rate
	} else {
		fail = unit(p.cfg.Seed, key, n, 0) < p.cfg.Rate
	}
	if !fail {
		return ""
	}
	f := p.cfg.Faults[int(unit(p.cfg.Seed, key, n, 1)*float64(len(p.cfg.Faults)))%len(p.cfg.Faults)]
	p.mu.Lock()
	p.stats.Faults[f]++
	p.mu.Unlock()
	return f
}

// unit hashes (seed, key, n, salt) to a number in [0, 1).
func unit(seed uint64, key string, n, salt int) float64 {
	h := fnv.New64a()
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], seed)
	h.Write(buf[:])
	h.Write([]byte(key))
	binary.LittleEndian.PutUint64(buf[:], uint64(n)<<8|uint64(salt))
	h.Write(buf[:])
	// splitmix64 finaliser: FNV's high bits alone are not uniform enough.
	z := h.Sum64()
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / float64(1<<53)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	switch f := p.decide(r); f {
	case InternalError:
		writeBody(w, http.StatusInternalServerError, "application/json", nil,
			`{"id":"app.internal_error","message":"We encountered an internal error.","detailed_error":"","request_id":"faultproxy","status_code":500}`)
	case BadGateway, Unavailable, GatewayTimeout, NotFoundPage:
		code := map[Fault]int{BadGateway: 502, Unavailable: 503, GatewayTimeout: 504, NotFoundPage: 404}[f]
		var h http.Header
		if f == Unavailable {
			h = http.Header{"Retry-After": {"1"}}
		}
		text := strconv.Itoa(code) + " " + http.StatusText(code)
		writeBody(w, code, "text/html", h, "<html>\r\n<head><title>"+text+"</title></head>\r\n<body>\r\n<center><h1>"+text+
			"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
	case RateLimit:
		writeBody(w, http.StatusTooManyRequests, "text/plain; charset=utf-8", http.Header{
			"Retry-After": {"1"}, "X-Ratelimit-Limit": {"3"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"2"},
		}, "limit exceeded\n")
	case HTMLPage:
		writeBody(w, http.StatusOK, "text/html; charset=utf-8", nil,
			"<!DOCTYPE html><html><head><title>Sign in to the network</title></head><body>Please sign in.</body></html>\n")
	case Reset:
		reset(w)
	case Slow:
		select {
		case <-time.After(p.cfg.Delay):
		case <-r.Context().Done():
			return
		}
		p.forward(w, r, false)
	case Truncate:
		p.forward(w, r, true)
	default:
		p.forward(w, r, false)
	}
}

func writeBody(w http.ResponseWriter, code int, contentType string, h http.Header, body string) {
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// reset closes the client's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err) // httptest servers always support hijacking
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// hopByHop headers are the connection's, not the message's (RFC 9110 7.6.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forward sends the request upstream and relays the answer, or, with
// truncate, half of its body under the full Content-Length.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, truncate bool) {
	target := *p.upstream
	target.Path = strings.TrimRight(p.upstream.Path, "/") + r.URL.Path
	target.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.Header = r.Header.Clone()
	for _, h := range hopByHop {
		out.Header.Del(h)
	}
	// Ask for a plain body, so Truncate cuts the JSON itself.
	out.Header.Del("Accept-Encoding")
	out.ContentLength = r.ContentLength
	resp, err := p.client.Do(out)
	if err != nil {
		writeBody(w, http.StatusBadGateway, "text/plain", nil, "faultproxy: upstream: "+err.Error()+"\n")
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		reset(w)
		return
	}
	p.mu.Lock()
	p.stats.Upstream[resp.StatusCode]++
	p.mu.Unlock()
	for _, h := range hopByHop {
		resp.Header.Del(h)
	}
	resp.Header.Del("Content-Encoding")
	if !truncate {
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
		return
	}
	// Write the answer by hand on the raw connection: net/http's server
	// would refuse to send fewer bytes than the Content-Length it announced.
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	writeTruncated(buf, resp, body)
}

// writeTruncated announces the whole body (at least one byte, so even an
// empty answer is cut short) and sends half of it.
func writeTruncated(buf *bufio.ReadWriter, resp *http.Response, body []byte) {
	resp.Header.Set("Content-Length", strconv.Itoa(max(len(body), 1)))
	var head bytes.Buffer
	fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	resp.Header.Set("Connection", "close")
	_ = resp.Header.Write(&head)
	head.WriteString("\r\n")
	_, _ = buf.Write(head.Bytes())
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}
