package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runAsMainEnv makes the test binary run main() instead of the tests, so that
// the tests drive the real program (supervisor, baton-sdk's CLI and its
// _connector-service, all this binary, as in production) without building it.
const runAsMainEnv = "BATON_MATTERMOST_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMainEnv) != "" {
		main()
		return
	}
	os.Exit(m.Run())
}

// program is this binary run as baton-mattermost with args, its log in stderr.
func program(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...) // #nosec G204 G702 -- the test binary itself
	cmd.Env = append(os.Environ(), append([]string{runAsMainEnv + "=1", "BATON_API_TOKEN=test-token"}, env...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		return exitErr.ExitCode()
	default:
		t.Fatal(err)
		return -1
	}
}

// rejectingServer answers every request as Mattermost answers a revoked token.
func rejectingServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprint(w, `{"id":"api.context.session_expired.app_error","message":"Invalid or expired session, please login again.","status_code":401}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSDKFailureRecord drives failing runs through baton-sdk's CLI, without
// the supervisor, and checks the SDK's failure records in their logs: the
// runner's in every run, the CLI's in every run that the exit race spared
// (exit 16), each at error level with the run's code in its error. It fails
// if the SDK logs its failure in other words, at another level or in
// another field.
func TestSDKFailureRecord(t *testing.T) {
	srv := rejectingServer(t)
	for range 3 {
		cmd, stderr := program(t, []string{supervisedEnv + "=1"}, "--base-url", srv.URL, "-f", filepath.Join(t.TempDir(), "s.c1z"), "--log-format", "json")
		exit := exitCode(t, cmd.Run()) // 16, or 0 when the race strikes
		records := map[string]int{}
		for _, line := range bytes.Split(stderr.Bytes(), []byte("\n")) {
			var rec logRecord
			if json.Unmarshal(line, &rec) == nil && rec.Level == "error" && slices.Contains(sdkFailureRecords, rec.Msg) {
				records[rec.Msg] = exitCodeOf(rec.Error)
			}
		}
		want := map[string]int{sdkFailureRecords[0]: 16}
		if exit != 0 {
			want[sdkFailureRecords[1]] = 16
		}
		for msg, code := range want {
			if got, ok := records[msg]; !ok || got != code {
				t.Fatalf("exit %d: record %q: code %d (logged: %v), want %d; the SDK's log:\n%s", exit, msg, got, ok, code, stderr)
			}
		}
	}
}

func TestSupervisedFailedRunExitsWithItsCode(t *testing.T) {
	srv := rejectingServer(t)
	cmd, stderr := program(t, nil, "--base-url", srv.URL, "-f", filepath.Join(t.TempDir(), "s.c1z"))
	if got := exitCode(t, cmd.Run()); got != 16 {
		t.Fatalf("exit %d, want 16 (Unauthenticated); log:\n%s", got, stderr)
	}
}

func TestFailureWatcher(t *testing.T) {
	const record = `{"level":"error","ts":1,"caller":"cli/commands.go:480","msg":"error running connector",` +
		`"error":"runner: error processing task: rpc error: code = PermissionDenied desc = validate failed"}`
	tests := []struct {
		name     string
		writes   []string
		wantCode int
		failed   bool
	}{
		{"clean run", []string{`{"level":"info","msg":"Sync complete."}` + "\n"}, 0, false},
		// When the exit race ends the process before the CLI's record.
		{"the runner's record alone", []string{strings.Replace(record, "error running connector", "runner: error processing on-demand task", 1) + "\n"}, 7, true},
		{"the record, split across writes", []string{record[:60], record[60:] + "\n"}, 7, true},
		{"the record without a final newline", []string{record}, 7, true},
		{"a failure without a gRPC code", []string{`{"level":"error","msg":"error running connector","error":"boom"}` + "\n"}, 2, true},
		{"the first record counts", []string{record + "\n", strings.Replace(record, "PermissionDenied", "Unavailable", 1) + "\n"}, 7, true},
		// A team's display name, logged by a successful grant.
		{"the phrase in a field value", []string{`{"level":"info","msg":"granted team membership","team":"error running connector code = PermissionDenied"}` + "\n"}, 0, false},
		{"the phrase in a message at info level", []string{`{"level":"info","msg":"error running connector","error":"rpc error: code = PermissionDenied desc = x"}` + "\n"}, 0, false},
		{"the phrase in another error message", []string{`{"level":"error","msg":"listing team error running connector","error":"rpc error: code = PermissionDenied desc = x"}` + "\n"}, 0, false},
		{"a console-format line", []string{"2026-01-01T00:00:00.000Z\tERROR\tcli/commands.go:480\terror running connector\t{\"error\": \"rpc error: code = PermissionDenied desc = x\"}\n"}, 0, false},
		{"a record embedded in a line", []string{`team "x` + record + `"` + "\n"}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &failureWatcher{out: &out, showLog: true}
			for _, s := range tc.writes {
				if _, err := w.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			code, failed := w.failure()
			if failed != tc.failed || code != tc.wantCode {
				t.Errorf("got (%d, %v), want (%d, %v)", code, failed, tc.wantCode, tc.failed)
			}
			if all := strings.Join(tc.writes, ""); out.String() != all {
				t.Errorf("stderr was not passed through unchanged:\n%q\nwant\n%q", out.String(), all)
			}
		})
	}
}

func TestFailureWatcherShowsConsoleFormatOrNothing(t *testing.T) {
	line := `{"level":"warn","ts":1796083110.5,"caller":"sync/syncer.go:12","msg":"slow page","team":"a\tb","n":3}` + "\n"
	var out bytes.Buffer
	w := &failureWatcher{out: &out, showLog: true, console: true}
	_, _ = w.Write([]byte(line + "plain text\n"))
	got := out.String()
	for _, want := range []string{"\tWARN\tsync/syncer.go:12\tslow page\t", `"team": "a\tb"`, `"n": 3`, "\nplain text\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("console rendering %q lacks %q", got, want)
		}
	}
	out.Reset()
	w = &failureWatcher{out: &out}
	_, _ = w.Write([]byte(line + "plain text\n"))
	if out.String() != "plain text\n" {
		t.Errorf("with the log sent to files only, stderr shows %q, want only the non-log line", out.String())
	}
}

func TestInspect(t *testing.T) {
	tests := []struct {
		args    []string
		env     []string
		oneShot bool
		command string
	}{
		{[]string{"-f", "x.c1z"}, nil, true, "baton-mattermost"},
		{[]string{"--grant-entitlement", "team:t:member", "--grant-principal", "u", "--grant-principal-type", "user"}, nil, true, "baton-mattermost"},
		{[]string{"--revoke-grant", "team:t:member:user:u"}, nil, true, "baton-mattermost"},
		{[]string{"--create-account-email", "a@example.com"}, nil, true, "baton-mattermost"},
		{[]string{"--invoke-action", "disable_user", "--invoke-action-args", `{"user_id":"u"}`}, nil, true, "baton-mattermost"},
		{[]string{"--list-action-schemas"}, nil, true, "baton-mattermost"},
		{[]string{"-f", "config"}, nil, true, "baton-mattermost"}, // a file named like a subcommand
		{[]string{"--client-id", "id", "--client-secret", "s"}, nil, false, "baton-mattermost"},
		{nil, []string{"BATON_CLIENT_ID=id"}, false, "baton-mattermost"},
		{[]string{"capabilities"}, nil, false, "capabilities"},
		{[]string{"--log-level", "debug", "config"}, nil, false, "config"},
		{[]string{"completion", "bash"}, nil, false, "bash"},
		{[]string{"help"}, nil, false, "help"},
		{[]string{"health-check"}, nil, false, "health-check"},
		{[]string{"-f", "x.c1z", connectorService}, nil, false, connectorService},
		{[]string{"--help"}, nil, false, "baton-mattermost"},
		{[]string{"-h"}, nil, false, "baton-mattermost"},
		{[]string{"--version"}, nil, false, "baton-mattermost"},
		{[]string{"-v"}, nil, false, "baton-mattermost"},
		{[]string{"--no-such-flag"}, nil, false, ""},
		{[]string{"no-such-command"}, nil, false, ""},
	}
	for _, tc := range tests {
		t.Run(strings.Join(append(tc.env, tc.args...), " "), func(t *testing.T) {
			t.Setenv("BATON_CLIENT_ID", "")
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			inv := inspect(context.Background(), tc.args)
			if inv.oneShot != tc.oneShot || inv.command != tc.command {
				t.Errorf("got oneShot=%v command=%q, want %v %q", inv.oneShot, inv.command, tc.oneShot, tc.command)
			}
		})
	}
}

func TestChildArgsAndEnv(t *testing.T) {
	t.Setenv("BATON_CREATE_ACCOUNT_EMAIL", "")
	inv := inspect(context.Background(), []string{"--api-token", "s3cret", "-f", "x.c1z", "--api-token=s3cret2", "--create-account-email", `dana"fox@example.com`})
	args := inv.childArgs("/tmp/w", true)
	want := []string{"-f", "x.c1z", "--create-account-email", `dana"fox@example.com`, "--log-format=json", "--log-path=stderr", "--c1z-temp-dir=/tmp/w"}
	if strings.Join(args, " ") != strings.Join(want, " ") {
		t.Errorf("child args %q, want %q", args, want)
	}
	env := inv.childEnv()
	for _, kv := range []string{"BATON_API_TOKEN=s3cret2", `BATON_CREATE_ACCOUNT_PROFILE={"email":"dana\"fox@example.com"}`, supervisedEnv + "=1"} {
		if !containsLast(env, kv) {
			t.Errorf("child env lacks %s", kv)
		}
	}

	// An e-mail with a login or a profile is the SDK's business.
	for _, extra := range [][]string{{"--create-account-login", "dana"}, {"--create-account-profile", `{"first_name":"Dana"}`}} {
		inv := inspect(context.Background(), append([]string{"--create-account-email", "dana@example.com"}, extra...))
		if _, ok := inv.loneAccountEmailProfile(); ok {
			t.Errorf("%v: a profile was made up although the SDK creates the account", extra)
		}
	}
	t.Setenv("BATON_CREATE_ACCOUNT_EMAIL", "env@example.com")
	if p, ok := inspect(context.Background(), nil).loneAccountEmailProfile(); !ok || p != `{"email":"env@example.com"}` {
		t.Errorf("BATON_CREATE_ACCOUNT_EMAIL alone: profile %q, %v", p, ok)
	}
}

// containsLast says whether kv is the last value given for its key in env
// (exec uses the last one).
func containsLast(env []string, kv string) bool {
	key, _, _ := strings.Cut(kv, "=")
	last := ""
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			last = e
		}
	}
	return last == kv
}

// hangingServer holds every request open until the client gives up; started
// receives a value when the first one arrives (the run is under way).
func hangingServer(t *testing.T) (*httptest.Server, <-chan struct{}) {
	started := make(chan struct{}, 1)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv, started
}

// processTree returns the supervised CLI's pid and its _connector-service's.
func processTree(t *testing.T, supervisor int) (int, int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c := childrenOf(supervisor); len(c) == 1 {
			if s := childrenOf(c[0]); len(s) == 1 {
				return c[0], s[0]
			}
		}
	}
	t.Fatal("the supervised CLI and its _connector-service did not both start")
	return 0, 0
}

func waitGone(t *testing.T, what string, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !processExists(pid) {
			return
		}
	}
	t.Errorf("%s (pid %d) still runs", what, pid)
}

// hangingRun is a supervised sync whose server never answers, once its CLI
// and _connector-service both run.
type hangingRun struct {
	cmd          *exec.Cmd
	stderr       *bytes.Buffer
	tmp          string // its -f directory and --c1z-temp-dir
	cli, service int
}

func startHangingRun(t *testing.T) *hangingRun {
	t.Helper()
	srv, started := hangingServer(t)
	r := &hangingRun{tmp: t.TempDir()}
	r.cmd, r.stderr = program(t, nil, "--base-url", srv.URL, "-f", filepath.Join(r.tmp, "s.c1z"), "--c1z-temp-dir", r.tmp)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-started
	r.cli, r.service = processTree(t, r.cmd.Process.Pid)
	return r
}

// waitTreeGone fails the test unless the CLI and _connector-service end.
func (r *hangingRun) waitTreeGone(t *testing.T) {
	t.Helper()
	waitGone(t, "the CLI", r.cli)
	waitGone(t, "_connector-service", r.service)
}

func TestSignalStopsTheRunWith128PlusSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			r := startHangingRun(t)
			begin := time.Now()
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if got, want := exitCode(t, r.cmd.Wait()), 128+int(sig); got != want {
				t.Errorf("exit %d, want %d; log:\n%s", got, want, r.stderr)
			}
			if took := time.Since(begin); took > 20*time.Second {
				t.Errorf("the run took %s to stop", took)
			}
			r.waitTreeGone(t)
			if left, _ := filepath.Glob(filepath.Join(r.tmp, workDirPattern)); len(left) > 0 {
				t.Errorf("working directories left behind: %v", left)
			}
		})
	}
}

func TestKilledSupervisorTakesItsRunAlong(t *testing.T) {
	r := startHangingRun(t)
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = r.cmd.Wait()
	r.waitTreeGone(t)

	// The next run removes the working directory the killed one left.
	left, _ := filepath.Glob(filepath.Join(r.tmp, workDirPattern))
	if len(left) != 1 {
		t.Fatalf("want the killed run's working directory, found %v", left)
	}
	old := time.Now().Add(-2 * workDirMinAge)
	if err := os.Chtimes(left[0], old, old); err != nil {
		t.Fatal(err)
	}
	next, stderr := program(t, nil, "--base-url", rejectingServer(t).URL, "-f", filepath.Join(r.tmp, "s.c1z"), "--c1z-temp-dir", r.tmp)
	if got := exitCode(t, next.Run()); got != 16 {
		t.Fatalf("next run exited %d, want 16; log:\n%s", got, stderr)
	}
	if _, err := os.Stat(left[0]); !os.IsNotExist(err) {
		t.Errorf("the killed run's working directory %s is still there (%v)", left[0], err)
	}
}
