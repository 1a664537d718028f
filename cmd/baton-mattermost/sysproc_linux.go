package main

import "syscall"

// childSysProcAttr puts the CLI in its own process group, so that a
// terminal's Ctrl-C reaches only the supervisor (stopRun), and has Linux kill
// it if the supervisor dies, even by SIGKILL (_connector-service then exits
// when its stdin, a pipe from the CLI, closes).
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
