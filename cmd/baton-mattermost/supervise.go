package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/conductorone/baton-sdk/pkg/tempdir"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
)

// baton-sdk v0.25.0 races when a CLI task fails: while the failed run returns
// its error (and exit code, e.g. 16 for a rejected token), the goroutine that
// watches the _connector-service child sees the child killed by the run's
// cancelled context and calls os.Exit(0). A failed run then sometimes exits 0
// (3 of 40 runs with a rejected token), which looks like success. So for a
// one-shot CLI run (see inspect) the process the operator started runs the
// real CLI as a child and corrects an exit status of 0 when the SDK logged
// the run's failure (failurelog.go).
//
// The same race loses an interrupted sync: the SDK's SIGINT handler cancels
// the run, which kills _connector-service, whose watcher calls os.Exit(0)
// before the sync's progress is saved to the c1z. The supervisor therefore
// puts the CLI in its own process group (a terminal's Ctrl-C reaches only the
// supervisor) and stops a run in the one order that lets the SDK save it
// (stopRun); the next sync resumes it.

// supervisedEnv marks the CLI process the supervisor runs, and its
// _connector-service child, which inherits it.
const supervisedEnv = "BATON_MATTERMOST_SUPERVISED"

const (
	connectorService = "_connector-service"
	// stopGrace bounds how long a stopped run may take to save its progress
	// before it is killed; a second signal kills it at once.
	stopGrace = 2 * time.Minute
	// serviceExitWait bounds the wait for _connector-service to exit when a
	// run is stopped.
	serviceExitWait = 5 * time.Second
)

// supervise runs the CLI task of inv as a child and returns the exit status
// its run deserves.
func supervise(ctx context.Context, inv invocation) int {
	l := inv.logger(ctx)
	exe, err := os.Executable()
	if err != nil {
		l.Error("cannot find this program's executable to run it", zap.Error(err))
		return int(codes.Internal)
	}
	workDir, releaseWorkDir := runWorkDir(l, tempdir.Resolve(inv.v.GetString("c1z-temp-dir")))
	defer releaseWorkDir()

	paths := inv.v.GetStringSlice("log-path")
	watcher := &failureWatcher{out: os.Stderr, showLog: logsToStderr(paths), console: inv.v.GetString("log-format") == "console"}
	cmd := exec.CommandContext(ctx, exe, inv.childArgs(workDir, !logsToStderr(paths))...) // #nosec G204 G702 -- this very binary, with the operator's own arguments
	cmd.Env = inv.childEnv()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, watcher
	// Linux sends the parent-death signal (childSysProcAttr) when the thread
	// that started the child ends, so that thread stays locked to this
	// goroutine for the process's life.
	runtime.LockOSThread()
	cmd.SysProcAttr = childSysProcAttr()

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		l.Error("cannot start the sync process", zap.Error(err))
		return int(codes.Internal)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var stoppedBy syscall.Signal
	var grace <-chan time.Time
	for {
		select {
		case err := <-exited:
			if stoppedBy != 0 {
				return 128 + int(stoppedBy)
			}
			return exitStatus(err, watcher)
		case s := <-signals:
			if stoppedBy != 0 {
				_ = cmd.Process.Kill()
				continue
			}
			stoppedBy, _ = s.(syscall.Signal)
			l.Info("stopping the run and saving its progress; a sync resumes where it stopped on the next run (signal again to quit at once)",
				zap.String("signal", s.String()))
			grace = time.After(stopGrace)
			go stopRun(cmd.Process.Pid)
		case <-grace:
			l.Warn("the stopped run did not end in time; killing it", zap.Duration("waited", stopGrace))
			_ = cmd.Process.Kill()
		}
	}
}

// exitStatus maps how the CLI ended to this program's exit status.
func exitStatus(waitErr error, watcher *failureWatcher) int {
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
		if code, failed := watcher.failure(); failed {
			return code
		}
		return 0
	case errors.As(waitErr, &exitErr):
		// Killed by a signal: 128+signal as shells report it, never a code
		// that the README gives to something else (2 means api-token missing).
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitErr.ExitCode()
	default:
		return int(codes.Unknown)
	}
}

// stopRun stops the CLI process pid so that its run is saved. The SDK's own
// SIGINT handler cancels the run, and the sync then saves its progress
// (RFC 0009 stop checkpoint, then the c1z written on a detached context); but
// the cancellation also kills _connector-service, and the SDK's watcher of
// that child calls os.Exit as soon as it dies of anything but a clean exit
// (pkg/cli internal/connector/connector.go). So _connector-service is told to
// exit cleanly first (stopConnectorServiceOnSIGTERM), and only once it is
// gone does the CLI get its SIGINT.
func stopRun(pid int) {
	services := childrenOf(pid)
	for _, s := range services {
		_ = syscall.Kill(s, syscall.SIGTERM)
	}
	for deadline := time.Now().Add(serviceExitWait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !slices.ContainsFunc(services, processExists) {
			break
		}
	}
	_ = syscall.Kill(pid, syscall.SIGINT)
}

// stopConnectorServiceOnSIGTERM makes a supervised _connector-service (the
// SDK appends that argument last) exit with status 0 on SIGTERM: to the SDK's
// watcher in the CLI, 0 is a service that ended normally; any other end makes
// it os.Exit before the run is saved (see stopRun).
func stopConnectorServiceOnSIGTERM(args []string) {
	if len(args) == 0 || args[len(args)-1] != connectorService {
		return
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		os.Exit(0)
	}()
}

// childArgs are the CLI's arguments: the operator's, with the token moved to
// the environment (childEnv), and settings the supervisor needs appended (a
// flag's last value wins, also over BATON_* variables and .baton.yaml). The
// SDK passes them on to _connector-service.
//   - --log-format=json: the failure record is read from the SDK's log, and
//     only JSON escapes line breaks in messages, so that no text logged by a
//     server or a user can forge a record line (failurelog.go); the
//     supervisor shows console format itself when that was asked for.
//   - --log-path=stderr when the operator's --log-path omits stderr: the
//     supervisor reads the record there and does not show it.
//   - --c1z-temp-dir: the run's private working directory (runWorkDir).
func (inv invocation) childArgs(workDir string, addStderr bool) []string {
	_, args, _ := tokenInArgs(inv.args)
	args = append(args, "--log-format=json")
	if addStderr {
		args = append(args, "--log-path=stderr")
	}
	if workDir != "" {
		args = append(args, "--c1z-temp-dir="+workDir)
	}
	return args
}

// childEnv is the CLI's environment: the supervisor's, plus the marker of a
// supervised process; a token given as --api-token moves to BATON_API_TOKEN
// (the same value: the flag won over the variable), so that it is in the
// argument list of one process, not three. A lone --create-account-email
// becomes the account profile baton-sdk v0.25.0 needs to create an account
// at all (without a login or a profile it runs a plain sync instead); the
// connector takes the e-mail from the profile.
func (inv invocation) childEnv() []string {
	env := append(os.Environ(), supervisedEnv+"=1")
	if token, _, found := tokenInArgs(inv.args); found {
		env = append(env, "BATON_API_TOKEN="+token)
	}
	if profile, ok := inv.loneAccountEmailProfile(); ok {
		env = append(env, "BATON_CREATE_ACCOUNT_PROFILE="+profile)
	}
	return env
}

// loneAccountEmailProfile returns {"email": ...} when an account e-mail is
// given (flag, BATON_CREATE_ACCOUNT_EMAIL or .baton.yaml) without a login or
// a profile.
func (inv invocation) loneAccountEmailProfile() (string, bool) {
	email := inv.v.GetString("create-account-email")
	if email == "" || inv.v.GetString("create-account-login") != "" || inv.v.GetString("create-account-profile") != "" {
		return "", false
	}
	profile, err := json.Marshal(map[string]string{"email": email})
	return string(profile), err == nil
}
