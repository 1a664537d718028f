//go:build pprof

package main

// A profiling build (go build -tags pprof) for the benchmark: with
// BATON_MATTERMOST_PPROF_DIR set, the SDK's CLI process and its
// _connector-service child each write CPU profiles in 2-second chunks
// (cpu-<role>-<pid>-<n>.pb.gz: the SDK ends both processes with os.Exit or
// SIGKILL, so one profile for the whole run would never be flushed) and the
// heap profile taken when their heap in use was largest (heap-<role>-<pid>.pb.gz),
// and a log of the Go runtime's memory figures (mem-<role>-<pid>.tsv).
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
	// Profile the supervised CLI and its _connector-service, not the supervisor.
	if dir == "" || os.Getenv(supervisedEnv) == "" {
		return
	}
	role := "cli"
	if slices.Contains(os.Args[1:], connectorService) {
		role = "service"
	}
	go profile(dir, fmt.Sprintf("%s-%d", role, os.Getpid()))
}

func profile(dir, name string) {
	go heapPeaks(dir, name)
	for n := 0; ; n++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%s-%03d.pb.gz", name, n))) // #nosec G703 -- the operator's profile directory
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
	}
}

// heapPeaks writes the heap profile whenever the Go heap in use reaches a new
// high, and logs the Go runtime's memory figures (MB) every quarter second to
// mem-<name>.tsv, to tell the Go heap from memory allocated outside it
// (pebble's memtables and block cache, with cgo).
func heapPeaks(dir, name string) {
	tsv, err := os.Create(filepath.Join(dir, "mem-"+name+".tsv")) // #nosec G703 -- the operator's profile directory
	if err != nil {
		return
	}
	fmt.Fprintln(tsv, "seconds\theap_inuse\theap_sys\theap_released\tsys")
	start := time.Now()
	var peak uint64
	for {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(tsv, "%.2f\t%d\t%d\t%d\t%d\n", time.Since(start).Seconds(),
			ms.HeapInuse>>20, ms.HeapSys>>20, ms.HeapReleased>>20, ms.Sys>>20)
		if ms.HeapInuse > peak+peak/20 {
			peak = ms.HeapInuse
			// A heap profile shows the heap as of the last collection: collect
			// now, so that it shows what made this peak.
			runtime.GC()
			if h, err := os.Create(filepath.Join(dir, "heap-"+name+".pb.gz")); err == nil { // #nosec G703 -- the operator's profile directory
				_ = pprof.Lookup("heap").WriteTo(h, 0)
				_ = h.Close()
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}
