//go:build integration

package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/baton-mattermost/baton-mattermost/internal/synctest"
)

// The tests here run ConductorOne's provisioning check sequence through the
// binary for every grantable team and channel entitlement, and the refusals
// the local server can produce. They create their own users (and a team or
// channel where they change one) so the seeded organisation stays as it is.

func userIDByName(t *testing.T, username string) string {
	var u serverUser
	adminAPI(t).get("/users/username/"+username, &u)
	return u.ID
}

func teamIDByName(t *testing.T, name string) string {
	var team serverTeam
	adminAPI(t).get("/teams/name/"+name, &team)
	return team.ID
}

func channelIDByName(t *testing.T, teamID, name string) string {
	var ch serverChannel
	adminAPI(t).get("/teams/"+teamID+"/channels/name/"+name+"?include_deleted=true", &ch)
	return ch.ID
}

// runID keeps the names of objects created by one run apart from earlier runs.
var runID = fmt.Sprintf("%x", time.Now().UnixNano()%0xffffff)

// newUser creates a person for one test.
func newUser(t *testing.T, label string) string {
	name := fmt.Sprintf("it-%s-%s", label, runID)
	var u serverUser
	code := adminAPI(t).do(http.MethodPost, "/users", map[string]any{"username": name, "email": name + "@example.com",
		"password": "It-Passw0rd-" + runID}, &u)
	if code != http.StatusCreated {
		t.Fatalf("creating user %s: HTTP %d", name, code)
	}
	return u.ID
}

// newTeam creates a team for one test (its creator, the token's owner, is its
// first member) and archives it when the test ends, so that later syncs skip it.
func newTeam(t *testing.T, label string) string {
	name := fmt.Sprintf("it-%s-%s", label, runID)
	var team serverTeam
	if code := adminAPI(t).do(http.MethodPost, "/teams", map[string]any{"name": name, "display_name": name, "type": "O"}, &team); code != http.StatusCreated {
		t.Fatalf("creating team %s: HTTP %d", name, code)
	}
	t.Cleanup(func() { adminAPI(t).do(http.MethodDelete, "/teams/"+team.ID, nil, nil) })
	return team.ID
}

func newChannel(t *testing.T, teamID, label, typ string) string {
	name := fmt.Sprintf("it-%s-%s", label, runID)
	var ch serverChannel
	if code := adminAPI(t).do(http.MethodPost, "/channels", map[string]any{"team_id": teamID, "name": name,
		"display_name": name, "type": typ}, &ch); code != http.StatusCreated {
		t.Fatalf("creating channel %s: HTTP %d", name, code)
	}
	return ch.ID
}

func addToTeam(t *testing.T, teamID, userID string) {
	if code := adminAPI(t).do(http.MethodPost, "/teams/"+teamID+"/members", map[string]string{"team_id": teamID, "user_id": userID}, nil); code != http.StatusCreated {
		t.Fatalf("adding %s to team %s: HTTP %d", userID, teamID, code)
	}
}

func addToChannel(t *testing.T, channelID, userID string) {
	if code := adminAPI(t).do(http.MethodPost, "/channels/"+channelID+"/members", map[string]string{"user_id": userID}, nil); code != http.StatusCreated {
		t.Fatalf("adding %s to channel %s: HTTP %d", userID, channelID, code)
	}
}

// membership reads the server's answer: is the user a member, and an admin?
// Kind is "team" or "channel"; asked by id, the server lists active memberships only.
func membership(t *testing.T, kind, id, userID string) (bool, bool) {
	var rows []struct {
		UserID      string `json:"user_id"`
		DeleteAt    int64  `json:"delete_at"`
		SchemeAdmin bool   `json:"scheme_admin"`
	}
	if code := adminAPI(t).do(http.MethodPost, "/"+kind+"s/"+id+"/members/ids", []string{userID}, &rows); code != http.StatusOK {
		t.Fatalf("reading %s %s members: HTTP %d", kind, id, code)
	}
	for _, r := range rows {
		if r.UserID == userID && r.DeleteAt == 0 {
			return true, r.SchemeAdmin
		}
	}
	return false, false
}

// connectorLog is the connector's own log lines ("baton-mattermost: ...") of a run, for assertions and the transcript.
func connectorLog(stderr string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		msg, _ := line["msg"].(string)
		if !strings.HasPrefix(msg, "baton-mattermost:") {
			continue
		}
		parts := []string{msg}
		for _, k := range []string{"target", "team", "entitlement", "user_id", "reason", "channels"} {
			if v, ok := line[k]; ok {
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// oneShot runs a provisioning command and fails the test unless it exits 0 and logs want.
func oneShot(t *testing.T, transcript *[]string, want string, args ...string) Run {
	t.Helper()
	r := runConnector(t, nil, args...)
	log := connectorLog(r.Stderr)
	*transcript = append(*transcript, fmt.Sprintf("$ baton-mattermost %s\n  exit %d\n  %s", strings.Join(args, " "), r.ExitCode, strings.Join(log, "\n  ")))
	if r.ExitCode != 0 {
		t.Fatalf("%v exited %d:\n%s", args, r.ExitCode, tail(r.Stderr, 3000))
	}
	if !strings.Contains(strings.Join(log, "\n"), want) {
		t.Fatalf("%v: connector log lacks %q:\n%s", args, want, strings.Join(log, "\n"))
	}
	return r
}

type checkCase struct {
	name     string
	kind     string // "team" or "channel"
	id       string // team or channel id
	slug     string // "member" or "admin"
	user     string
	syncArgs []string
	// wantAdded is the connector's log line of the first grant.
	wantAdded string
}

// checkSequence is ConductorOne's check: sync; grant; grant again (already
// exists); re-sync and see the grant; revoke; revoke again (already
// revoked); re-sync and see it gone; re-grant. The CLI's --revoke-grant looks
// the grant up in the c1z given by -f, hence the sync before each revoke.
func checkSequence(t *testing.T, c checkCase) []string {
	var transcript []string
	ent := fmt.Sprintf("%s:%s:%s", c.kind, c.id, c.slug)
	grantID := ent + ":user:" + c.user
	held := func() bool {
		member, admin := membership(t, c.kind, c.id, c.user)
		if c.slug == "admin" {
			return admin
		}
		return member
	}
	grantArgs := func(c1z string) []string {
		return append([]string{"-f", c1z, "--grant-entitlement", ent, "--grant-principal", c.user, "--grant-principal-type", "user"}, c.syncArgs...)
	}
	sync := func(wantGrant bool) string {
		path := syncToFile(t, nil, c.syncArgs...)
		transcript = append(transcript, fmt.Sprintf("$ baton-mattermost -f sync.c1z %s\n  exit 0; c1z holds %s: %v", strings.Join(c.syncArgs, " "), grantID, wantGrant))
		if got := readGrants(t, path)[grantID]; got != wantGrant {
			t.Fatalf("after sync: grant %s in c1z = %v, want %v", grantID, got, wantGrant)
		}
		return path
	}

	c1z := sync(false)
	if held() {
		t.Fatalf("%s already held before the test", grantID)
	}
	oneShot(t, &transcript, c.wantAdded, grantArgs(c1z)...)
	if !held() {
		t.Fatalf("grant %s: the server does not show it", grantID)
	}
	oneShot(t, &transcript, "grant already held, nothing to do", grantArgs(c1z)...)

	c1z = sync(true)
	wantRemoved := "removed member"
	if c.slug == "admin" {
		wantRemoved = "removed admin role (membership kept)"
	}
	revokeArgs := append([]string{"-f", c1z, "--revoke-grant", grantID}, c.syncArgs...)
	oneShot(t, &transcript, wantRemoved, revokeArgs...)
	if held() {
		t.Fatalf("revoke %s: the server still shows it", grantID)
	}
	if member, _ := membership(t, c.kind, c.id, c.user); c.slug == "admin" && !member {
		t.Fatalf("revoking %s removed the membership too", grantID)
	}
	oneShot(t, &transcript, "grant not held, nothing to revoke", revokeArgs...)

	c1z = sync(false)
	oneShot(t, &transcript, "baton-mattermost:", grantArgs(c1z)...)
	if !held() {
		t.Fatalf("re-grant %s: the server does not show it", grantID)
	}
	return transcript
}

func readGrants(t *testing.T, path string) map[string]bool {
	return synctest.Read(t, path).GrantIDs()
}

func TestProvisioningCheckSequences(t *testing.T) {
	eng := teamIDByName(t, "engineering")
	private := channelIDByName(t, eng, "eng-leads")
	public := channelIDByName(t, eng, "frontend")
	sales := teamIDByName(t, "sales")

	cases := []struct {
		checkCase
		inTeam string // team the user joins first (channel entitlements)
	}{
		{checkCase: checkCase{name: "team member", kind: "team", id: sales, slug: "member", wantAdded: "added member"}},
		{checkCase: checkCase{name: "team admin", kind: "team", id: sales, slug: "admin", wantAdded: "made admin"}},
		{checkCase: checkCase{name: "private channel member", kind: "channel", id: private, slug: "member", wantAdded: "added member"}, inTeam: eng},
		{checkCase: checkCase{name: "private channel admin", kind: "channel", id: private, slug: "admin", wantAdded: "made admin"}, inTeam: eng},
		{checkCase: checkCase{name: "public channel member", kind: "channel", id: public, slug: "member", wantAdded: "added member",
			syncArgs: []string{"--sync-public-channels"}}, inTeam: eng},
		{checkCase: checkCase{name: "public channel admin", kind: "channel", id: public, slug: "admin", wantAdded: "made admin",
			syncArgs: []string{"--sync-public-channels"}}, inTeam: eng},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.user = newUser(t, fmt.Sprintf("seq%d", i))
			if c.inTeam != "" {
				addToTeam(t, c.inTeam, c.user)
			}
			transcript := checkSequence(t, c.checkCase)
			t.Logf("check sequence for %s:\n%s", c.name, strings.Join(transcript, "\n"))
		})
	}
}

// Granting admin to a non-member adds the membership too; revoking the team
// membership removes the user from the team's channels, and says so.
func TestTeamRevokeRemovesChannelsAndSaysSo(t *testing.T) {
	eng := teamIDByName(t, "engineering")
	channel := channelIDByName(t, eng, "security-incidents")
	user := newUser(t, "leave")
	var transcript []string

	c1z := syncToFile(t, nil)
	oneShot(t, &transcript, "added member", "-f", c1z, "--grant-entitlement", "team:"+eng+":admin", "--grant-principal", user, "--grant-principal-type", "user")
	if member, admin := membership(t, "team", eng, user); !member || !admin {
		t.Fatalf("admin grant to a non-member: member %v admin %v, want both", member, admin)
	}
	addToChannel(t, channel, user)

	c1z = syncToFile(t, nil)
	r := oneShot(t, &transcript, "also removed them from the team's channels", "-f", c1z, "--revoke-grant", "team:"+eng+":member:user:"+user)
	if !strings.Contains(strings.Join(connectorLog(r.Stderr), "\n"), "security-incidents") {
		t.Errorf("the revoke's log does not name the channel the user lost:\n%s", strings.Join(connectorLog(r.Stderr), "\n"))
	}
	if member, _ := membership(t, "channel", channel, user); member {
		t.Error("the user is still in a channel of the team they were removed from")
	}
	t.Logf("%s", strings.Join(transcript, "\n"))
}

// refusedRun runs a one-shot command that must be refused with exit 9 (FailedPrecondition) naming the cause.
func refusedRun(t *testing.T, fragments []string, args ...string) {
	t.Helper()
	r := runConnector(t, nil, args...)
	if r.ExitCode != 9 {
		t.Fatalf("%v: exit %d, want 9 (FailedPrecondition):\n%s", args, r.ExitCode, tail(r.Stderr, 3000))
	}
	for _, f := range fragments {
		if !strings.Contains(r.Stderr, f) {
			t.Errorf("%v: stderr lacks %q:\n%s", args, f, tail(r.Stderr, 2000))
		}
	}
	t.Logf("refused: %s", finalError(r.Stderr))
}

func grantArgs(c1z, ent, user string, extra ...string) []string {
	return append([]string{"-f", c1z, "--grant-entitlement", ent, "--grant-principal", user, "--grant-principal-type", "user"}, extra...)
}

func TestProvisioningRefusals(t *testing.T) {
	a := adminAPI(t)
	eng := teamIDByName(t, "engineering")
	marketing := teamIDByName(t, "marketing")
	legacy := teamIDByName(t, "legacy-ops")

	t.Run("deactivated user", func(t *testing.T) {
		c1z := syncToFile(t, nil)
		refusedRun(t, []string{"is deactivated", "reactivate"}, grantArgs(c1z, "team:"+marketing+":member", userIDByName(t, "mia.wilson"))...)
	})
	t.Run("archived team", func(t *testing.T) {
		user := newUser(t, "arch") // before the sync: the CLI looks the principal up in the c1z
		c1z := syncToFile(t, nil, "--include-archived-teams")
		refusedRun(t, []string{"is archived", "restore"}, grantArgs(c1z, "team:"+legacy+":member", user, "--include-archived-teams")...)
	})
	t.Run("archived channel", func(t *testing.T) {
		user := newUser(t, "archch")
		addToTeam(t, eng, user)
		ch := newChannel(t, eng, "archived", "P")
		c1z := syncToFile(t, nil)
		if code := a.do(http.MethodDelete, "/channels/"+ch, nil, nil); code != http.StatusOK {
			t.Fatalf("archiving the channel: HTTP %d", code)
		}
		refusedRun(t, []string{"is archived"}, grantArgs(c1z, "channel:"+ch+":member", user)...)
	})
	t.Run("channel member not in the team", func(t *testing.T) {
		user := newUser(t, "noteam")
		c1z := syncToFile(t, nil)
		refusedRun(t, []string{"is not a member of the team", "team:" + eng + ":member"},
			grantArgs(c1z, "channel:"+channelIDByName(t, eng, "security-incidents")+":member", user)...)
	})
	t.Run("remote user", func(t *testing.T) {
		user := newUser(t, "remote")
		c1z := syncToFile(t, nil)
		// Mattermost lets an admin set remote_id, which is what marks a shared-channel user.
		if code := a.do(http.MethodPut, "/users/"+user+"/patch", map[string]string{"remote_id": "it0remote0000000000000000a"}, nil); code != http.StatusOK {
			t.Fatalf("marking the user remote: HTTP %d", code)
		}
		t.Cleanup(func() { a.do(http.MethodPut, "/users/"+user+"/patch", map[string]string{"remote_id": ""}, nil) })
		refusedRun(t, []string{"remote server", "home server"}, grantArgs(c1z, "team:"+marketing+":member", user)...)
	})
	t.Run("group-constrained team", func(t *testing.T) {
		// A fresh team: making a team group-constrained makes Mattermost
		// remove every member who is not in a linked group.
		team := newTeam(t, "ldap")
		user := newUser(t, "ldap")
		c1z := syncToFile(t, nil)
		if code := a.do(http.MethodPut, "/teams/"+team+"/patch", map[string]bool{"group_constrained": true}, nil); code != http.StatusOK {
			t.Fatalf("making the team group-constrained: HTTP %d", code)
		}
		refusedRun(t, []string{"group-synced", "linked groups"}, grantArgs(c1z, "team:"+team+":member", user)...)
		if member, _ := membership(t, "team", team, user); member {
			t.Error("the user was added to the group-constrained team")
		}
	})
	t.Run("leaving town-square", func(t *testing.T) {
		user := newUser(t, "town")
		addToTeam(t, eng, user)
		town := channelIDByName(t, eng, "town-square")
		c1z := syncToFile(t, nil, "--sync-public-channels")
		refusedRun(t, []string{"default channel", "team:" + eng + ":member"},
			"-f", c1z, "--revoke-grant", "channel:"+town+":member:user:"+user, "--sync-public-channels")
		if member, _ := membership(t, "channel", town, user); !member {
			t.Error("the refused revoke removed the user anyway")
		}
	})
}

// TestTeamFull lowers TeamSettings.MaxUsersPerTeam, which the local server
// only takes from its environment at start (the setting is locked against
// PUT /config/patch), so it restarts the server and restores it afterwards.
func TestTeamFull(t *testing.T) {
	team := newTeam(t, "full")
	addToTeam(t, team, newUser(t, "full1"))
	user := newUser(t, "full2")
	c1z := syncToFile(t, nil)

	restartServer(t, "MM_TEAMSETTINGS_MAXUSERSPERTEAM=2") // the team has its creator and full1
	t.Cleanup(func() { restartServer(t) })
	refusedRun(t, []string{"is full", "MaxUsersPerTeam"}, grantArgs(c1z, "team:"+team+":member", user)...)
	if member, _ := membership(t, "team", team, user); member {
		t.Error("the user was added to the full team")
	}
}

// restartServer restarts the local Mattermost with extra MM_* settings (none: its defaults).
func restartServer(t *testing.T, settings ...string) {
	if server["MM_STATE_DIR"] == "" {
		t.Fatal("server.env lacks MM_STATE_DIR: cannot restart the local server")
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot(), "test", "localserver", "mattermost.sh"), "restart-server")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MM_") { // the caller's MM_* settings would leak into the server
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append(settings, "MM_STATE_DIR="+server["MM_STATE_DIR"])...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("restarting the server: %v\n%s", err, out)
	}
}
