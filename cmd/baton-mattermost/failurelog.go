package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc/codes"
)

// sdkFailureRecords are the messages of the records baton-sdk logs at error
// level when a one-shot run fails, with the run's error in their "error"
// field: the runner's, as soon as the task has failed
// (pkg/connectorrunner/runner.go), and the CLI's, once the runner has ended
// (pkg/cli/commands.go, MakeMainCommand). The exit race (supervise.go) can
// end the process between the two, so only the first is always there.
// TestSDKFailureRecord fails if the SDK changes them.
var sdkFailureRecords = []string{"runner: error processing on-demand task", "error running connector"}

// maxLogLine bounds a log line held while its end is awaited; a longer line
// is passed through unread.
const maxLogLine = 1 << 20

// The gRPC status at the head of the run's error: the SDK's exit code is
// this status's code (pkg/exit).
var grpcStatusRE = regexp.MustCompile(`rpc error: code = ([A-Za-z]+) desc = `)

// logRecord is the part of a JSON log line (zap's production encoding, which
// the supervised CLI is told to use) that identifies the SDK's failure record.
type logRecord struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
	Error string `json:"error"`
}

// failureWatcher reads the CLI's stderr line by line: it shows each line
// (rendered in console format when the operator asked for it; log records
// left out when the operator sent the log only to files) and remembers the
// SDK's failure record. Only a whole JSON line whose level is "error" and
// whose message is one of the SDK's counts, and only the first: a server's or
// a user's text is logged in field values or messages, JSON-escaped, never as
// a line of its own (the one raw print of the run's error, by the SDK's
// exit.LogExit, comes after the records).
type failureWatcher struct {
	out     io.Writer
	showLog bool
	console bool

	mu      sync.Mutex
	partial []byte
	failed  bool
	code    int
}

func (w *failureWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(w.partial[:i+1])
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > maxLogLine {
		_, _ = w.out.Write(w.partial)
		w.partial = w.partial[:0]
	}
	return len(p), nil
}

// failure returns the failed run's exit code, once the CLI has exited.
func (w *failureWatcher) failure() (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.line(w.partial)
		w.partial = nil
	}
	return w.code, w.failed
}

func (w *failureWatcher) line(line []byte) {
	var rec logRecord
	if json.Unmarshal(line, &rec) != nil || rec.Level == "" || rec.Msg == "" {
		_, _ = w.out.Write(line)
		return
	}
	if rec.Level == "error" && slices.Contains(sdkFailureRecords, rec.Msg) && !w.failed {
		w.failed, w.code = true, exitCodeOf(rec.Error)
	}
	switch {
	case !w.showLog:
	case w.console:
		_, _ = w.out.Write(consoleLine(line))
	default:
		_, _ = w.out.Write(line)
	}
}

// exitCodeOf is the exit code baton-sdk gives the run's error: the code of
// its gRPC status, else Unknown.
func exitCodeOf(runErr string) int {
	if m := grpcStatusRE.FindStringSubmatch(runErr); m != nil {
		for c := codes.OK + 1; c <= codes.Unauthenticated; c++ {
			if c.String() == m[1] {
				return int(c)
			}
		}
	}
	return int(codes.Unknown)
}

// consoleLine renders a JSON log line as baton-sdk's console format would
// have (zap's console encoder with its development settings); a line it
// cannot read is returned as it is.
func consoleLine(line []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return line
	}
	var ent zapcore.Entry
	var fields []zap.Field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return line
		}
		key, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return line
		}
		var s string
		_ = json.Unmarshal(raw, &s)
		switch key {
		case "level":
			_ = ent.Level.UnmarshalText([]byte(s))
		case "ts":
			var secs float64
			_ = json.Unmarshal(raw, &secs)
			whole, frac := math.Modf(secs)
			ent.Time = time.Unix(int64(whole), int64(frac*1e9))
		case "msg":
			ent.Message = s
		case "logger":
			ent.LoggerName = s
		case "caller":
			if i := strings.LastIndexByte(s, ':'); i > 0 {
				n, _ := strconv.Atoi(s[i+1:])
				ent.Caller = zapcore.NewEntryCaller(0, s[:i], n, true)
			}
		case "stacktrace":
			ent.Stack = s
		default:
			fields = append(fields, zap.Reflect(key, raw))
		}
	}
	buf, err := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()).EncodeEntry(ent, fields)
	if err != nil {
		return line
	}
	return buf.Bytes()
}
