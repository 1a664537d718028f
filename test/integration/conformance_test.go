//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// ConductorOne's public conformance checks, as its connector CI runs them
// (ConductorOne/github-workflows: actions/sync-test grant-revoke and
// auth-error, actions/account-provisioning, actions/account-status-lifecycle-test),
// written here in Go and run the way a consumer sees the connector: the built
// binary for every sync and task, its exit code, and the baton CLI's JSON
// (`go tool baton … --output-format=json`) for what each re-sync found. What
// the server and the connector's log say about the same grants is
// checkSequence's business (provisioning_test.go). Every step's outcome is
// logged, so `go test -v` prints the suite's transcript.

// conformance is one check: the c1z that every step syncs into and reads back
// (C1's checks use the one default sync.c1z), and the step count of its log.
type conformance struct {
	t    *testing.T
	c1z  string
	step int
}

func newConformance(t *testing.T) *conformance {
	return &conformance{t: t, c1z: c1zPath(t)}
}

// logStep records a step that passed.
func (c *conformance) logStep(format string, args ...any) {
	c.t.Helper()
	c.step++
	c.t.Logf("step %d: %s", c.step, fmt.Sprintf(format, args...))
}

// failStep ends the check at the step that failed.
func (c *conformance) failStep(format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("step %d FAILED: %s", c.step+1, fmt.Sprintf(format, args...))
}

// connector runs the binary on the check's c1z; the step passes on exit 0.
func (c *conformance) connector(what string, args ...string) {
	c.t.Helper()
	r := runConnector(c.t, nil, append([]string{"-f", c.c1z}, args...)...)
	shown := strings.Join(append([]string{"baton-mattermost -f sync.c1z"}, args...), " ")
	if r.ExitCode != 0 {
		c.failStep("%s: %s exited %d: %s", what, shown, r.ExitCode, finalError(r.Stderr))
	}
	c.logStep("%s: %s: exit 0", what, shown)
}

func (c *conformance) sync() {
	c.t.Helper()
	c.connector("sync")
}

// baton runs `go tool baton ARGS --output-format=json` on the check's c1z and decodes its answer.
func (c *conformance) baton(out any, args ...string) {
	c.t.Helper()
	cmd := exec.Command("go", append(append([]string{"tool", "baton"}, args...), "-f", c.c1z, "--output-format=json")...)
	cmd.Dir = repoRoot()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	data, err := cmd.Output()
	if err != nil {
		c.failStep("go tool baton %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 2000))
	}
	if err := json.Unmarshal(data, out); err != nil {
		c.failStep("go tool baton %s: decoding %q: %v", strings.Join(args, " "), tail(string(data), 300), err)
	}
}

// capability checks that `baton-mattermost capabilities` declares a
// connector capability: without it C1's check would skip its steps and prove nothing.
func (c *conformance) capability(name string) {
	c.t.Helper()
	r := runConnector(c.t, nil, "capabilities")
	var caps struct {
		ConnectorCapabilities []string `json:"connectorCapabilities"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &caps); r.ExitCode != 0 || err != nil {
		c.failStep("capabilities: exit %d, %v: %s", r.ExitCode, err, tail(r.Stdout+r.Stderr, 2000))
	}
	if !slices.Contains(caps.ConnectorCapabilities, name) {
		c.failStep("capabilities lack %s: %v", name, caps.ConnectorCapabilities)
	}
	c.logStep("baton-mattermost capabilities: declares %s", name)
}

// grantsTo lists the ids of ent's grants whose principal is user, from
// `baton grants --entitlement ent`.
func (c *conformance) grantsTo(ent, user string) []string {
	c.t.Helper()
	var out struct {
		Grants []struct {
			Grant struct {
				ID string `json:"id"`
			} `json:"grant"`
			Principal struct {
				ID struct {
					Resource string `json:"resource"`
				} `json:"id"`
			} `json:"principal"`
		} `json:"grants"`
	}
	c.baton(&out, "grants", "--entitlement", ent)
	var ids []string
	for _, g := range out.Grants {
		if g.Principal.ID.Resource == user {
			ids = append(ids, g.Grant.ID)
		}
	}
	return ids
}

// syncAndCheckGrant re-syncs and checks with baton grants that user holds ent
// (once) or not; it returns the grant's id.
func (c *conformance) syncAndCheckGrant(ent, user string, held bool) string {
	c.t.Helper()
	c.sync()
	ids := c.grantsTo(ent, user)
	switch {
	case held && len(ids) == 1:
		c.logStep("go tool baton grants --entitlement %s: %s", ent, ids[0])
		return ids[0]
	case !held && len(ids) == 0:
		c.logStep("go tool baton grants --entitlement %s: no grant to %s", ent, user)
		return ""
	}
	c.failStep("go tool baton grants --entitlement %s: grants to %s %v, want held=%v", ent, user, ids, held)
	return ""
}

// batonUser is a user as `baton resources -t user` prints it: the facts C1's checks read from its UserTrait.
type batonUser struct {
	ID     string
	Emails []string
	Status string
}

func (c *conformance) users() []batonUser {
	c.t.Helper()
	var out struct {
		Resources []struct {
			Resource struct {
				ID struct {
					Resource string `json:"resource"`
				} `json:"id"`
				Annotations []struct {
					Type   string `json:"@type"`
					Emails []struct {
						Address string `json:"address"`
					} `json:"emails"`
					Status struct {
						Status string `json:"status"`
					} `json:"status"`
				} `json:"annotations"`
			} `json:"resource"`
		} `json:"resources"`
	}
	c.baton(&out, "resources", "-t", "user")
	var users []batonUser
	for _, r := range out.Resources {
		u := batonUser{ID: r.Resource.ID.Resource}
		for _, a := range r.Resource.Annotations {
			if a.Type != "type.googleapis.com/c1.connector.v2.UserTrait" {
				continue
			}
			u.Status = a.Status.Status
			for _, e := range a.Emails {
				u.Emails = append(u.Emails, e.Address)
			}
		}
		users = append(users, u)
	}
	return users
}

// usersWithEmail re-syncs and returns the ids of the users whose UserTrait holds email.
func (c *conformance) usersWithEmail(email string) []string {
	c.t.Helper()
	c.sync()
	var ids []string
	for _, u := range c.users() {
		if slices.Contains(u.Emails, email) {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// wantStatus re-syncs and checks the UserTrait status of user.
func (c *conformance) wantStatus(user, want string) {
	c.t.Helper()
	c.sync()
	for _, u := range c.users() {
		if u.ID == user {
			if u.Status != want {
				c.failStep("go tool baton resources -t user: %s has status %s, want %s", user, u.Status, want)
			}
			c.logStep("go tool baton resources -t user: %s has status %s", user, u.Status)
			return
		}
	}
	c.failStep("go tool baton resources -t user: no user %s", user)
}

// TestConformanceGrantRevoke is sync-test's grant-revoke check for each kind
// of grantable entitlement: grant, see it after a re-sync, grant again, revoke
// by the id baton lists, revoke again, see it gone, grant again and see it.
func TestConformanceGrantRevoke(t *testing.T) {
	team := newTeam(t, "conformance")
	channel := newChannel(t, team, "conformance", "P") // private channels are synced by default
	for _, c := range []struct {
		name, ent string
		inTeam    bool // the user joins the team first, as a channel's members must
	}{
		{"team member", "team:" + team + ":member", false},
		{"team admin", "team:" + team + ":admin", false},
		{"channel member", "channel:" + channel + ":member", true},
		{"channel admin", "channel:" + channel + ":admin", true},
		{"system role", "role:system_user_access_token:assigned", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			user, _ := newLifecycle(t).newPasswordUser("cfgrant")
			if c.inTeam {
				addToTeam(t, team, user.ID)
			}
			cf := newConformance(t)
			grant := []string{"--grant-entitlement", c.ent, "--grant-principal", user.ID, "--grant-principal-type", "user"}

			cf.capability("CAPABILITY_PROVISION")
			cf.syncAndCheckGrant(c.ent, user.ID, false)
			cf.connector("grant", grant...)
			cf.syncAndCheckGrant(c.ent, user.ID, true)
			cf.connector("grant again (already held)", grant...)
			ids := cf.grantsTo(c.ent, user.ID)
			if len(ids) != 1 {
				cf.failStep("go tool baton grants --entitlement %s: grants to %s %v, want one to revoke", c.ent, user.ID, ids)
			}
			grantID := ids[0]
			cf.logStep("grant id from go tool baton grants: %s", grantID)
			cf.connector("revoke", "--revoke-grant", grantID)
			cf.connector("revoke again (already revoked)", "--revoke-grant", grantID)
			cf.syncAndCheckGrant(c.ent, user.ID, false)
			cf.connector("re-grant", grant...)
			cf.syncAndCheckGrant(c.ent, user.ID, true)
		})
	}
}

// TestConformanceInvalidCredentials is sync-test's auth-error check: every
// credential-looking BATON_* variable set to "invalid"; C1 accepts exit 16
// (Unauthenticated) or 7 (PermissionDenied), and a rejected token is 16 here.
func TestConformanceInvalidCredentials(t *testing.T) {
	c := newConformance(t)
	env := map[string]string{}
	for _, kv := range append(os.Environ(), "BATON_BASE_URL=", "BATON_API_TOKEN=") {
		if name, _, _ := strings.Cut(kv, "="); looksLikeCredential(name) {
			env[name] = "invalid"
		}
	}
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Contains(names, "BATON_API_TOKEN") || slices.Contains(names, "BATON_BASE_URL") {
		t.Fatalf("credential variables %v: want BATON_API_TOKEN and not BATON_BASE_URL", names)
	}
	r := runConnector(t, env, "-f", c.c1z)
	if r.ExitCode != 16 {
		c.failStep("sync with %v set to invalid: exit %d, want 16 (C1 accepts 16 or 7): %s", names, r.ExitCode, finalError(r.Stderr))
	}
	c.logStep("sync with %v set to invalid: exit 16: %s", names, finalError(r.Stderr))
}

// looksLikeCredential tells, as C1's auth-error check does, which BATON_*
// variables hold secrets: names of tokens, passwords, secrets, keys and
// credentials, but not addresses, paths, settings or the ids beside secrets.
func looksLikeCredential(name string) bool {
	if !strings.HasPrefix(name, "BATON_") {
		return false
	}
	for _, notSecret := range []string{"_URL", "_ENDPOINT", "_PATH", "_HOST", "_ADDRESS", "_TIMEOUT", "_LEVEL", "_FILE", "_DIR",
		"_KEY_ID", "_CLIENT_ID", "_TENANT_ID", "_ORGANIZATION_ID", "_ORG_ID"} {
		if strings.HasSuffix(name, notSecret) {
			return false
		}
	}
	for _, secret := range []string{"TOKEN", "PASSWORD", "SECRET", "KEY", "CREDENTIAL", "PASSWD", "BEARER"} {
		if strings.Contains(name, secret) {
			return true
		}
	}
	return strings.HasSuffix(name, "PAT")
}

// TestConformanceAccountCreation is account-provisioning's check in each of
// the three forms C1 uses: no account with the e-mail before, the one-shot
// creation, then exactly one user with that e-mail in a re-sync.
func TestConformanceAccountCreation(t *testing.T) {
	for _, form := range []struct {
		name string
		args func(email, login string) []string
	}{
		{"e-mail and login", func(email, login string) []string {
			return []string{"--create-account-email", email, "--create-account-login", login}
		}},
		{"e-mail and profile", func(email, _ string) []string {
			return []string{"--create-account-email", email, "--create-account-profile", `{"first_name":"Casey","last_name":"Conformance"}`}
		}},
		{"e-mail alone", func(email, _ string) []string { return []string{"--create-account-email", email} }},
	} {
		t.Run(form.name, func(t *testing.T) {
			l := newLifecycle(t)
			login := l.unique("cfacct")
			email := login + "@example.com"
			c := newConformance(t)
			c.capability("CAPABILITY_ACCOUNT_PROVISIONING")
			if ids := c.usersWithEmail(email); len(ids) != 0 {
				c.failStep("before creating: users with e-mail %s: %v", email, ids)
			}
			c.logStep("go tool baton resources -t user: no user with e-mail %s", email)
			c.connector("create account", form.args(email, login)...)
			ids := c.usersWithEmail(email)
			for _, id := range ids {
				l.retire(id, false)
			}
			if len(ids) != 1 {
				c.failStep("go tool baton resources -t user: users with e-mail %s: %v, want exactly one", email, ids)
			}
			c.logStep("go tool baton resources -t user: exactly one user with e-mail %s: %s", email, ids[0])
		})
	}
}

// TestConformanceDisableEnable is account-status-lifecycle-test's
// disable-enable flow: the actions invoked by name with only {"user_id": id}
// and no resource type, as C1 invokes them, each confirmed by a re-sync.
func TestConformanceDisableEnable(t *testing.T) {
	user, _ := newLifecycle(t).newPasswordUser("cfstatus")
	c := newConformance(t)
	args := `{"user_id":"` + user.ID + `"}`
	c.wantStatus(user.ID, "STATUS_ENABLED")
	c.connector("disable_user, no resource type", "--invoke-action", "disable_user", "--invoke-action-args", args)
	c.wantStatus(user.ID, "STATUS_DISABLED")
	c.connector("enable_user, no resource type", "--invoke-action", "enable_user", "--invoke-action-args", args)
	c.wantStatus(user.ID, "STATUS_ENABLED")
}
