//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/test/faultproxy"
)

// runBounded runs the binary like runConnector, but kills it after limit, so
// that a retry loop shows up as a failed test instead of a hung run.
func runBounded(t *testing.T, limit time.Duration, env map[string]string, args ...string) Run {
	t.Helper()
	return runWatched(t, limit, nil, env, args...)
}

// runMeasured is runBounded that also records the run's PeakRSS.
func runMeasured(t *testing.T, limit time.Duration, env map[string]string, args ...string) Run {
	t.Helper()
	return runWatched(t, limit, watchPeakRSS, env, args...)
}

// runWatched runs the binary like runBounded; watch, when set, watches the
// started process and says what it saw when the process has ended.
func runWatched(t *testing.T, limit time.Duration, watch func(pid int) (stop func() int64), env map[string]string, args ...string) Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "BATON_BASE_URL="+server["MM_URL"], "BATON_API_TOKEN="+server["MM_ADMIN_TOKEN"])
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Start()
	var peak int64
	if err == nil {
		stop := func() int64 { return 0 }
		if watch != nil {
			stop = watch(cmd.Process.Pid)
		}
		err = cmd.Wait()
		peak = stop()
	}
	r := Run{Stdout: stdout.String(), Stderr: stderr.String(), PeakRSS: peak}
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not end within %v\nstderr:\n%s", binary, strings.Join(args, " "), limit, tail(r.Stderr, 3000))
	}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", binary, err)
	}
	return r
}

// startProxy starts a fault proxy in front of the local server.
func startProxy(t *testing.T, cfg faultproxy.Config) *faultproxy.Proxy {
	t.Helper()
	cfg.Upstream = server["MM_URL"]
	p, err := faultproxy.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// c1zPath is a fresh c1z path in the test's temporary directory.
func c1zPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "sync.c1z")
}

// assertCleanFailure checks what an operator sees of a failed run: the exit
// code, a message naming the problem, and no Go stack trace or panic.
func assertCleanFailure(t *testing.T, r Run, wantExit int, wantText ...string) {
	t.Helper()
	if r.ExitCode != wantExit {
		t.Errorf("exit code %d, want %d\nstderr:\n%s", r.ExitCode, wantExit, tail(r.Stderr, 3000))
	}
	final := finalError(r.Stderr)
	for _, want := range wantText {
		if !strings.Contains(final, want) {
			t.Errorf("final error lacks %q:\n%s", want, final)
		}
	}
	assertNoStackTrace(t, r)
}

// finalError is what exit.LogExit prints at the end of a failed run: the
// run's error, in plain text among the JSON log lines. It can span several
// lines: when a sync worker fails, the SDK cancels the others and joins their
// errors (the failure first, then "context canceled" from the siblings). JSON
// lines may still follow it: the connector-service child shares stderr and
// logs its own shutdown ("error closing connector wrapper") when it likes.
func finalError(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	isLog := func(line string) bool { return strings.HasPrefix(line, "{") }
	end := len(lines)
	for end > 0 && isLog(lines[end-1]) {
		end--
	}
	start := end
	for start > 0 && !isLog(lines[start-1]) {
		start--
	}
	return strings.Join(lines[start:end], "\n")
}

func assertNoStackTrace(t *testing.T, r Run) {
	t.Helper()
	// A Go stack trace has "goroutine N [running]:" and tab-indented file
	// lines; zap adds a "stacktrace" field. zap's "caller" (file.go:line) is fine.
	for _, bad := range []string{"goroutine ", "panic:", "\n\t/", `"stacktrace"`} {
		if strings.Contains(r.Stderr, bad) {
			t.Errorf("stderr shows a stack trace (%q):\n%s", bad, tail(r.Stderr, 3000))
			return
		}
	}
}

// assertNotComplete checks that a failed run left no c1z that looks like a
// finished sync: either no file, or one holding only an unfinished sync.
func assertNotComplete(t *testing.T, path string) {
	t.Helper()
	if synctest.HasFinishedSync(t, path) {
		t.Errorf("the failed run left %s with a finished sync", path)
	}
}

// watchPeakRSS samples, every 10 ms, the peak resident memory (VmHWM) of the
// process pid and of all its descendants; the function it returns stops
// sampling and returns the largest, in bytes. Not every process of a run is
// waited for by its parent (baton-sdk kills its _connector-service child and
// exits), so the rusage of the process the test waits for would miss some;
// VmHWM only grows, so one sample between a process's peak and its end sees it.
func watchPeakRSS(pid int) func() int64 {
	done, result := make(chan struct{}), make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, p := range processTreeOf(pid) {
				peak = max(peak, vmHWM(p))
			}
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 { close(done); return <-result }
}

// vmHWM is a process's peak resident memory in bytes, 0 once it is gone.
func vmHWM(pid int) int64 {
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
