//go:build pprof

package main

// A profiling build (go build -tags pprof) for the benchmark: with
// BATON_MATTERMOST_PPROF_DIR set, the SDK's CLI process and its
// _connector-service child each write CPU profiles in 2-second chunks
// (cpu-<role>-<pid>-<n>.pb.gz: the SDK ends both processes with os.Exit or
// SIGKILL, so one profile for the whole run would never be flushed) and the
// heap profile taken when their heap in use was largest (heap-<role>-<pid>.pb.gz).
// Merge the chunks with: go tool pprof -top cpu-service-*.pb.gz

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"
)

func init() {
	dir := os.Getenv("BATON_MATTERMOST_PPROF_DIR")
	if dir == "" || needsSupervisor(os.Args) {
		return
	}
	role := "cli"
	if slices.Contains(os.Args[1:], "_connector-service") {
		role = "service"
	}
	go profile(dir, fmt.Sprintf("%s-%d", role, os.Getpid()))
}

func profile(dir, name string) {
	var peak uint64
	for n := 0; ; n++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%s-%03d.pb.gz", name, n)))
		if err != nil {
			return
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return
		}
		time.Sleep(2 * time.Second)
		pprof.StopCPUProfile()
		_ = f.Close()

		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak {
			peak = ms.HeapInuse
			if h, err := os.Create(filepath.Join(dir, "heap-"+name+".pb.gz")); err == nil {
				_ = pprof.WriteHeapProfile(h)
				_ = h.Close()
			}
		}
	}
}
