//go:build integration

// Package integration runs the compiled baton-mattermost binary against a real
// Mattermost server started by test/localserver/mattermost.sh, and compares
// what it wrote with what the server itself answers.
//
//	bash test/localserver/mattermost.sh up
//	go test -tags integration -count=1 ./test/integration/
package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
)

// server holds the local server's facts from server.env.
var server map[string]string

// binary is the connector built once for the whole run.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	envPath := os.Getenv("MM_SERVER_ENV")
	if envPath == "" {
		envPath = filepath.Join(repoRoot(), ".localserver", "server.env")
	}
	var err error
	if server, err = readEnvFile(envPath); err != nil {
		fmt.Fprintf(os.Stderr, "integration tests need a running local server (bash test/localserver/mattermost.sh up): %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "baton-mattermost-it")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "baton-mattermost")
	build := exec.Command("go", "build", "-o", binary, "./cmd/baton-mattermost")
	build.Dir = repoRoot()
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building the connector: %v\n", err)
		return 1
	}
	return m.Run()
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			continue
		}
		out[k] = strings.Trim(v, `"'`)
	}
	if out["MM_URL"] == "" || out["MM_ADMIN_TOKEN"] == "" {
		return nil, fmt.Errorf("%s lacks MM_URL or MM_ADMIN_TOKEN", path)
	}
	return out, sc.Err()
}

// Run is the outcome of one run of the binary.
type Run struct {
	Stdout, Stderr string
	ExitCode       int
	// PeakRSS is the largest resident memory, in bytes, any process of the
	// run reached; set by runMeasured only.
	PeakRSS int64
}

// runConnector runs the binary with the given arguments and environment
// additions (BATON_* variables); the server URL and admin token are passed
// unless the caller overrides them.
func runConnector(t *testing.T, env map[string]string, args ...string) Run {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "BATON_BASE_URL="+server["MM_URL"], "BATON_API_TOKEN="+server["MM_ADMIN_TOKEN"])
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Run{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", binary, err)
	}
	return r
}

// syncToFile runs a full sync into a new c1z and returns its path; it fails the test on a non-zero exit.
func syncToFile(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sync.c1z")
	r := runConnector(t, env, append([]string{"-f", path}, args...)...)
	if r.ExitCode != 0 {
		t.Fatalf("sync exited %d\nstderr:\n%s", r.ExitCode, tail(r.Stderr, 4000))
	}
	return path
}

// syncResult runs a full sync and reads back what it stored.
func syncResult(t *testing.T, env map[string]string, args ...string) *synctest.Result {
	t.Helper()
	return synctest.Read(t, syncToFile(t, env, args...))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// api reads the server's own answers with a token, independently of the connector's client.
type api struct {
	t     *testing.T
	token string
}

func adminAPI(t *testing.T) *api { return &api{t: t, token: server["MM_ADMIN_TOKEN"]} }

// do sends one request and decodes a JSON answer into out; it returns the HTTP status.
func (a *api) do(method, path string, body, out any) int {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, server["MM_URL"]+"/api/v4"+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("%s %s: decoding %q: %v", method, path, tail(string(data), 300), err)
		}
	}
	return resp.StatusCode
}

// get fetches path and fails the test unless the server answers 200.
func (a *api) get(path string, out any) {
	a.t.Helper()
	if code := a.do(http.MethodGet, path, nil, out); code != http.StatusOK {
		a.t.Fatalf("GET %s: HTTP %d", path, code)
	}
}

// getAll walks a page/per_page listing to its end.
func getAll[T any](a *api, path string) []T {
	a.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []T
	for page := 0; ; page++ {
		var items []T
		a.get(fmt.Sprintf("%s%spage=%d&per_page=200", path, sep, page), &items)
		all = append(all, items...)
		if len(items) < 200 {
			return all
		}
	}
}
