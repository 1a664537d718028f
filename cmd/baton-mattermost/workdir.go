package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// A supervised run keeps the SDK's working files (the c1z's uncompressed
// copy, tens of MB for a large server) in a private directory under the SDK's
// temp directory, removed when the run ends, however it ends. Only a
// supervisor killed with SIGKILL cannot remove its own: it holds an flock on
// the directory for its whole life, the kernel drops the lock when the process
// dies, and the next supervisor removes every such directory left unlocked.
const (
	workDirPattern = "baton-mattermost-run-*"
	// workDirMinAge keeps a sweep off a directory created a moment ago, not
	// yet locked by its owner.
	workDirMinAge = time.Minute
)

// runWorkDir creates the run's working directory under base and removes
// those of dead supervisors. On failure it returns "" (the SDK then uses base
// itself, and reports a base that does not exist) and logs why.
func runWorkDir(l *zap.Logger, base string) (string, func()) {
	sweepWorkDirs(l, base)
	dir, err := os.MkdirTemp(base, workDirPattern)
	if err != nil {
		l.Debug("no private working directory for this run", zap.Error(err))
		return "", func() {}
	}
	lock, err := lockDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		l.Debug("no private working directory for this run", zap.Error(err))
		return "", func() {}
	}
	return dir, func() {
		if err := os.RemoveAll(dir); err != nil {
			l.Warn("cannot remove the run's working directory", zap.String("dir", dir), zap.Error(err))
		}
		_ = lock.Close()
	}
}

// lockDir takes an exclusive flock on dir, held until the returned file is
// closed or the process ends.
func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir) // #nosec G304 -- a directory this program created or found by its own name pattern
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil { // #nosec G115 -- a file descriptor fits an int
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// sweepWorkDirs removes the working directories under base whose supervisor
// is gone (no lock held).
func sweepWorkDirs(l *zap.Logger, base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, workDirPattern))
	for _, dir := range dirs {
		info, err := os.Lstat(dir)
		if err != nil || !info.IsDir() || time.Since(info.ModTime()) < workDirMinAge {
			continue
		}
		lock, err := lockDir(dir)
		if err != nil {
			continue
		}
		if err := os.RemoveAll(dir); err == nil {
			l.Info("removed the working directory of a run that was killed", zap.String("dir", dir))
		}
		_ = lock.Close()
	}
}

// childrenOf lists the processes whose parent is pid (from /proc/*/stat).
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var children []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")) // #nosec G304 -- /proc/<pid>/stat
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		fields := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:])
		if len(fields) > 1 && string(fields[1]) == strconv.Itoa(pid) {
			children = append(children, child)
		}
	}
	return children
}

// processExists says whether pid is a process, zombies included.
func processExists(pid int) bool {
	_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return err == nil
}
