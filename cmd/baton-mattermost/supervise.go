package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"sync"
	"syscall"

	"google.golang.org/grpc/codes"
)

// baton-sdk v0.25.0 races when a CLI task fails: while the failed run returns
// its error (and exit code, e.g. 16 for a rejected token), the goroutine that
// watches the _connector-service child sees the child killed by the run's
// cancelled context and calls os.Exit(0). A failed sync then sometimes exits 0,
// which looks like success. So the top-level process runs the real CLI as a
// child and corrects an exit status of 0 when the run logged its failure.

// supervisedEnv marks the process that runs the SDK's CLI.
const supervisedEnv = "BATON_MATTERMOST_SUPERVISED"

// needsSupervisor says whether this process should run the CLI as a child:
// not when it is that child, nor the SDK's own _connector-service child.
func needsSupervisor(args []string) bool {
	if os.Getenv(supervisedEnv) != "" {
		return false
	}
	for _, a := range args[1:] {
		if a == "_connector-service" {
			return false
		}
	}
	return true
}

// supervise runs this program again with the same arguments and returns the exit code its run deserves.
func supervise(ctx context.Context) int {
	exe, err := os.Executable()
	if err != nil {
		return int(codes.Internal)
	}
	cmd := exec.CommandContext(ctx, exe, os.Args[1:]...) // #nosec G204 G702 -- this very binary, with the operator's own arguments
	cmd.Env = append(os.Environ(), supervisedEnv+"=1")
	watcher := &failureWatcher{out: os.Stderr}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, watcher
	if err := cmd.Start(); err != nil {
		return int(codes.Internal)
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	signal.Stop(signals)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		if code, failed := watcher.failure(); failed {
			return code
		}
		return 0
	case errors.As(err, &exitErr) && exitErr.ExitCode() > 0:
		return exitErr.ExitCode()
	default:
		return int(codes.Unknown)
	}
}

// runFailedLine is the SDK's log message for a failed CLI run (pkg/cli/commands.go).
var (
	runFailedLine = []byte("error running connector")
	grpcCodeRE    = regexp.MustCompile(`code = ([A-Za-z]+)`)
)

// failureWatcher passes the child's stderr through and remembers whether the
// run logged its failure, and with which gRPC code.
type failureWatcher struct {
	out     io.Writer
	mu      sync.Mutex
	partial []byte
	failed  bool
	code    int
}

func (w *failureWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.inspect(w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	w.mu.Unlock()
	return w.out.Write(p)
}

func (w *failureWatcher) inspect(line []byte) {
	if w.failed || !bytes.Contains(line, runFailedLine) {
		return
	}
	w.failed = true
	w.code = int(codes.Unknown)
	if m := grpcCodeRE.FindSubmatch(line); m != nil {
		for c := codes.OK + 1; c <= codes.Unauthenticated; c++ {
			if c.String() == string(m[1]) {
				w.code = int(c)
			}
		}
	}
}

func (w *failureWatcher) failure() (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.failed && len(w.partial) > 0 {
		w.inspect(w.partial)
	}
	return w.code, w.failed
}
