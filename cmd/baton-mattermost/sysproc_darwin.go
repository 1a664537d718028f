package main

import "syscall"

// childSysProcAttr puts the CLI in its own process group, so that a
// terminal's Ctrl-C reaches only the supervisor (stopRun). macOS has no
// parent-death signal: a supervisor killed by SIGKILL leaves the CLI to run
// to its end.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
