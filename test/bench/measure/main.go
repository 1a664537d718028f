// Command measure runs a command and measures it with all the processes it
// starts: wall time, peak resident memory and CPU time. baton-mattermost runs
// as three processes (a supervisor, the SDK's CLI and its _connector-service
// child), so memory is the whole process tree's.
//
//	measure -o result.json -- ./baton-mattermost -f sync.c1z
//
// Every -interval it sums VmRSS over the tree (peak_rss_kb is the largest such
// sum), and Pss from smaps_rollup (peak_pss_kb): the three processes run the
// same executable, whose mapped pages VmRSS counts once per process and Pss
// shares out between them, so peak_pss_kb is the memory the tree really
// holds, peak_rss_kb an overstatement of it. It also remembers each process's VmHWM (its own peak) and CPU time;
// sum_hwm_kb adds up those per-process peaks: an upper bound of the tree's
// peak that no sampling gap can miss. New descendants are found by scanning
// /proc for children of known processes.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result is one measured run.
type Result struct {
	Command   string  `json:"command"`
	ExitCode  int     `json:"exit_code"`
	Seconds   float64 `json:"seconds"`
	PeakRSSKB int64   `json:"peak_rss_kb"`
	PeakPSSKB int64   `json:"peak_pss_kb"`
	SumHWMKB  int64   `json:"sum_hwm_kb"`
	CPUSecs   float64 `json:"cpu_seconds"`
	Processes int     `json:"processes"`
	Samples   int     `json:"samples"`
	// PerProcess lists each process's own peak (VmHWM) and CPU time.
	PerProcess []ProcResult `json:"per_process"`
}

// ProcResult is one process of the tree.
type ProcResult struct {
	Args    string  `json:"args"`
	HWMKB   int64   `json:"hwm_kb"`
	CPUSecs float64 `json:"cpu_seconds"`
}

// proc is what was last seen of one process of the tree.
type proc struct {
	args  string
	hwmKB int64
	cpu   float64 // user+system seconds
}

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat (100 on Linux).
const clockTicks = 100

func main() {
	out := flag.String("o", "", "write the JSON result to this file (default: stderr)")
	interval := flag.Duration("interval", 100*time.Millisecond, "sampling interval")
	timeline := flag.String("timeline", "", "also write the tree's RSS and Pss once a second to this file (seconds, kB, kB)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: measure [-o file] [-interval d] -- command [args...]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...) // #nosec G204 -- runs what the caller asks for
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(2)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var tl *os.File
	if *timeline != "" {
		f, err := os.Create(*timeline)
		if err != nil {
			fmt.Fprintln(os.Stderr, "measure:", err)
			os.Exit(2)
		}
		defer f.Close()
		tl = f
	}
	lastLine := time.Time{}

	root := cmd.Process.Pid
	tree := map[int]*proc{root: {}}
	res := Result{Command: strings.Join(flag.Args(), " ")}
	ticker := time.NewTicker(*interval)
	defer ticker.Stop()
	var waitErr error
	lastScan := time.Time{}
loop:
	for {
		// Look for new descendants: often while they start up, then now and
		// then (a scan of /proc costs more than a sample).
		scanEvery := 4 * *interval
		if time.Since(start) > 5*time.Second {
			scanEvery = 40 * *interval
		}
		if time.Since(lastScan) > scanEvery {
			addDescendants(tree)
			lastScan = time.Now()
		}
		var sum, pss int64
		for pid, p := range tree {
			rss, hwm, cpu, ok := readProc(pid)
			if !ok {
				continue
			}
			sum += rss
			pss += readPss(pid)
			p.hwmKB = max(p.hwmKB, hwm)
			if p.args == "" {
				p.args = cmdline(pid)
			}
			p.cpu = max(p.cpu, cpu)
		}
		res.PeakRSSKB = max(res.PeakRSSKB, sum)
		res.PeakPSSKB = max(res.PeakPSSKB, pss)
		if tl != nil && time.Since(lastLine) >= time.Second {
			fmt.Fprintf(tl, "%.1f\t%d\t%d\n", time.Since(start).Seconds(), sum, pss)
			lastLine = time.Now()
		}
		res.Samples++
		select {
		case waitErr = <-done:
			break loop
		case <-ticker.C:
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.Processes = len(tree)
	pids := make([]int, 0, len(tree))
	for pid := range tree {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	for _, pid := range pids {
		p := tree[pid]
		res.SumHWMKB += p.hwmKB
		res.CPUSecs += p.cpu
		res.PerProcess = append(res.PerProcess, ProcResult{Args: p.args, HWMKB: p.hwmKB, CPUSecs: p.cpu})
	}
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		res.ExitCode = -1
	}
	b, _ := json.Marshal(res)
	if *out == "" {
		fmt.Fprintln(os.Stderr, string(b))
	} else if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "measure:", err)
		os.Exit(2)
	}
	os.Exit(res.ExitCode) //nolint:gocritic // the ticker ends with the process; the exit code is the measured run's
}

// addDescendants adds every process whose parent is in tree, repeatedly.
func addDescendants(tree map[int]*proc) {
	parents := map[int]int{}
	entries, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range entries {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		b, err := os.ReadFile(f) // #nosec G304 -- /proc
		if err != nil {
			continue
		}
		if fields := statFields(b); len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			parents[pid] = ppid
		}
	}
	for grown := true; grown; {
		grown = false
		for pid, ppid := range parents {
			if _, in := tree[ppid]; in {
				if _, known := tree[pid]; !known {
					tree[pid] = &proc{}
					grown = true
				}
			}
		}
	}
}

// statFields returns the fields of /proc/<pid>/stat after the command name
// (which may hold spaces): state, ppid, ...
func statFields(b []byte) []string {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// readProc reads a live process's VmRSS and VmHWM (kB) and CPU time (s).
func readProc(pid int) (rss, hwm int64, cpu float64, ok bool) { //nolint:nonamedreturns // four readings of one /proc entry
	dir := "/proc/" + strconv.Itoa(pid)
	st, err := os.ReadFile(dir + "/stat") // #nosec G304 -- /proc
	if err != nil {
		return 0, 0, 0, false
	}
	fields := statFields(st)
	if len(fields) < 13 || fields[0] == "Z" {
		return 0, 0, 0, false
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	cpu = (utime + stime) / clockTicks
	status, err := os.ReadFile(dir + "/status") // #nosec G304 -- /proc
	if err != nil {
		return 0, 0, 0, false
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, cpu, true
}

// cmdline is a process's command line, its arguments' values shortened.
func cmdline(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline") // #nosec G304 -- /proc
	if err != nil {
		return ""
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) > 0 {
		args[0] = filepath.Base(args[0])
	}
	return strings.Join(args, " ")
}

// readPss reads a process's proportional set size (kB).
func readPss(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup") // #nosec G304 -- /proc
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
