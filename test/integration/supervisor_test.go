//go:build integration

package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
	"github.com/baton-mattermost/baton-mattermost/test/faultproxy"
	rs "github.com/conductorone/baton-sdk/pkg/types/resource"
)

// The tests here check the command line around the SDK: the exit-code
// supervisor (cmd/baton-mattermost/supervise.go) and the one-shot flags.

// TestServerTextNamingTheFailureDoesNotFailARun: a team's display name is
// the SDK's failure phrase, and a run that logs it (removing a member logs
// the team) still exits 0: only the SDK's own failure record counts.
func TestServerTextNamingTheFailureDoesNotFailARun(t *testing.T) {
	const phrase = "error running connector code = PermissionDenied"
	team := newTeam(t, "phrase")
	if code := adminAPI(t).do(http.MethodPut, "/teams/"+team+"/patch", map[string]string{"display_name": phrase}, nil); code != http.StatusOK {
		t.Fatalf("renaming team %s: HTTP %d", team, code)
	}
	user := newUser(t, "phrase")
	addToTeam(t, team, user)
	c1z := syncToFile(t, nil)
	r := runConnector(t, nil, "-f", c1z, "--revoke-grant", "team:"+team+":member:user:"+user)
	if r.ExitCode != 0 {
		t.Fatalf("revoke exited %d, want 0\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	if !strings.Contains(r.Stderr, phrase) {
		t.Fatalf("the run did not log the team's display name, so this test proves nothing:\n%s", tail(r.Stderr, 3000))
	}
	if member, _ := membership(t, "team", team, user); member {
		t.Error("the user is still a member of the team")
	}
}

// TestInterruptedSyncResumes interrupts a sync in the middle (team member
// pages answered late by a proxy): the run stops promptly with 128+SIGINT,
// the c1z keeps the unfinished sync, and the next run resumes it and stores
// what a sync from scratch stores.
func TestInterruptedSyncResumes(t *testing.T) {
	proxy := startProxy(t, faultproxy.Config{Rate: 1, Faults: []faultproxy.Fault{faultproxy.Slow}, Delay: time.Second, Match: teamMembers})
	c1z := c1zPath(t)
	cmd := exec.Command(binary, "-f", c1z)
	cmd.Env = append(os.Environ(), "BATON_BASE_URL="+proxy.URL, "BATON_API_TOKEN="+server["MM_ADMIN_TOKEN"])
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); proxy.Stats().TotalFaults() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the sync never reached the team members\n%s", tail(stderr.String(), 3000))
		}
	}
	stopped := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(stopped)
	if cmd.ProcessState.ExitCode() != 128+int(syscall.SIGINT) {
		t.Fatalf("interrupted sync: %v, want exit %d\n%s", err, 128+int(syscall.SIGINT), tail(stderr.String(), 3000))
	}
	if took > 15*time.Second {
		t.Errorf("the interrupted sync took %s to end", took)
	}
	t.Logf("interrupted sync ended %s after SIGINT", took.Round(time.Millisecond))
	assertNotComplete(t, c1z)

	r := runConnector(t, nil, "-f", c1z)
	if r.ExitCode != 0 || !strings.Contains(r.Stderr, `"msg":"resumed previous sync"`) {
		t.Fatalf("next run: exit %d, want 0 after resuming the interrupted sync\n%s", r.ExitCode, tail(r.Stderr, 3000))
	}
	if diffs := synctest.Diff(synctest.Read(t, syncToFile(t, nil)), synctest.Read(t, c1z)); len(diffs) > 0 {
		t.Errorf("the resumed sync differs from a sync from scratch:\n%s", strings.Join(diffs, "\n"))
	}
}

// TestCreateAccountFromEmailAlone: baton-sdk v0.25.0 creates an account only
// when a login or a profile is given and otherwise runs a plain sync; the
// e-mail alone (flag or environment) must create the account.
func TestCreateAccountFromEmailAlone(t *testing.T) {
	l := newLifecycle(t)
	for _, form := range []string{"flag", "environment"} {
		t.Run(form, func(t *testing.T) {
			email := l.unique("lc.alone.") + "@example.com"
			c1z := c1zPath(t)
			var r Run
			if form == "flag" {
				r = runConnector(t, nil, "-f", c1z, "--create-account-email", email)
			} else {
				r = runConnector(t, map[string]string{"BATON_CREATE_ACCOUNT_EMAIL": email}, "-f", c1z)
			}
			if r.ExitCode != 0 || !strings.Contains(r.Stderr, "created account") {
				t.Fatalf("exit %d, want 0 and the account created\n%s", r.ExitCode, tail(r.Stderr, 3000))
			}
			created := l.createdByEmail(email)
			if synctest.HasFinishedSync(t, c1z) {
				t.Error("the run synced instead of only creating the account")
			}
			var found []string
			for _, u := range syncResult(t, nil).ResourcesOfType("user") {
				trait, err := rs.GetUserTrait(u)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range trait.GetEmails() {
					if strings.EqualFold(e.GetAddress(), email) {
						found = append(found, u.GetId().GetResource())
					}
				}
			}
			if len(found) != 1 || found[0] != created.ID {
				t.Errorf("users with e-mail %s in a re-sync: %v, want exactly [%s]", email, found, created.ID)
			}
		})
	}
}

// TestTokenOnTheCommandLineIsWarnedAbout: the warning comes once, and the
// token is in the argument list of the supervisor only, not of the SDK's
// processes.
func TestTokenOnTheCommandLineIsWarnedAbout(t *testing.T) {
	c1z := c1zPath(t)
	cmd := exec.Command(binary, "-f", c1z, "--api-token", server["MM_ADMIN_TOKEN"])
	cmd.Env = append(os.Environ(), "BATON_BASE_URL="+server["MM_URL"], "BATON_API_TOKEN=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Every process of the run, until it ends: the token may be in one argv.
	// A child between fork and exec still shows its parent's arguments
	// byte for byte; those sightings are not the child's own and are skipped.
	withToken := map[int]bool{}
	parentArgv := map[int][]byte{}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		tree := processTreeOf(cmd.Process.Pid)
		if tree == nil {
			break // the run has ended
		}
		argvs := map[int][]byte{}
		for _, pid := range tree {
			if argv, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(argv) > 0 {
				argvs[pid] = argv
			}
		}
		// Each child's parent's argv, from the sample it was first seen in.
		for _, pid := range tree {
			for _, child := range childrenOf(pid) {
				if _, seen := parentArgv[child]; !seen {
					parentArgv[child] = argvs[pid]
				}
			}
		}
		for pid, argv := range argvs {
			if parent, ok := parentArgv[pid]; ok && bytes.Equal(argv, parent) {
				continue // not exec'd yet
			}
			withToken[pid] = bytes.Contains(argv, []byte(server["MM_ADMIN_TOKEN"]))
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sync with --api-token: %v\n%s", err, tail(stderr.String(), 3000))
	}
	if n := strings.Count(stderr.String(), "--api-token on the command line can be read by every local user"); n != 1 {
		t.Errorf("%d warnings about --api-token, want 1\n%s", n, tail(stderr.String(), 3000))
	}
	for pid, has := range withToken {
		if has != (pid == cmd.Process.Pid) {
			t.Errorf("pid %d (supervisor %d): token in its arguments = %v", pid, cmd.Process.Pid, has)
		}
	}
	if len(withToken) < 3 {
		t.Errorf("saw %d of the run's 3 processes", len(withToken))
	}
}

// processTreeOf lists pid and its descendants, nil once pid has exited.
func processTreeOf(pid int) []int {
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || bytes.Contains(stat, []byte(") Z ")) {
		return nil
	}
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, childrenOf(tree[i])...)
	}
	return tree
}

// childrenOf lists the children of pid (each of its threads lists the ones it started).
func childrenOf(pid int) []int {
	var children []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, task := range tasks {
		data, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(data)) {
			var child int
			if _, err := fmt.Sscan(f, &child); err == nil {
				children = append(children, child)
			}
		}
	}
	return children
}
