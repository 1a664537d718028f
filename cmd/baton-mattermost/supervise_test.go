package main

import (
	"bytes"
	"testing"
)

func TestFailureWatcherFindsTheRunsCode(t *testing.T) {
	tests := []struct {
		name     string
		writes   []string
		wantCode int
		failed   bool
	}{
		{"clean run", []string{`{"level":"info","msg":"Sync complete."}` + "\n"}, 0, false},
		{"permission denied, split across writes", []string{
			`{"level":"error","msg":"error running connector","error":"runner: error processing task: rpc error: co`,
			`de = PermissionDenied desc = validate failed"}` + "\n"}, 7, true},
		{"unauthenticated, no final newline", []string{
			`{"level":"error","msg":"error running connector","error":"rpc error: code = Unauthenticated desc = x"}`}, 16, true},
		{"failure without a code", []string{"error running connector: boom\n"}, 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &failureWatcher{out: &out}
			for _, s := range tc.writes {
				if _, err := w.Write([]byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			code, failed := w.failure()
			if failed != tc.failed || code != tc.wantCode {
				t.Errorf("got (%d, %v), want (%d, %v)", code, failed, tc.wantCode, tc.failed)
			}
			var all string
			for _, s := range tc.writes {
				all += s
			}
			if out.String() != all {
				t.Error("stderr was not passed through unchanged")
			}
		})
	}
}

func TestNeedsSupervisor(t *testing.T) {
	if !needsSupervisor([]string{"baton-mattermost", "-f", "x.c1z"}) {
		t.Error("a CLI run must be supervised")
	}
	if needsSupervisor([]string{"baton-mattermost", "-f", "x.c1z", "_connector-service"}) {
		t.Error("the SDK's connector-service child must not be supervised")
	}
	t.Setenv(supervisedEnv, "1")
	if needsSupervisor([]string{"baton-mattermost"}) {
		t.Error("the supervised child must not supervise again")
	}
}
