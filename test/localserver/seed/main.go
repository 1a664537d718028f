// Command seed bootstraps a fresh local Mattermost server (first System Admin, tokens)
// and seeds the sample organisation described in org.go through the REST API.
// It writes a shell-sourceable KEY=VALUE file with the URL, credentials and tokens.
//
// Run by test/localserver/mattermost.sh up:
//
//	go run ./test/localserver/seed -url http://127.0.0.1:8065 -out .localserver/server.env
//
// On a server that is already seeded it only mints fresh tokens and rewrites the file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

type kvFlag [][2]string

func (f *kvFlag) String() string { return fmt.Sprint(*f) }
func (f *kvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", s)
	}
	*f = append(*f, [2]string{k, v})
	return nil
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("seed: ")
	log.SetOutput(os.Stdout) // progress; errors go to stderr via fatal
	serverURL := flag.String("url", "http://127.0.0.1:8065", "Mattermost server URL")
	out := flag.String("out", "", "write the KEY=VALUE env file here (required)")
	timeout := flag.Duration("timeout", 5*time.Minute, "overall timeout")
	var extra kvFlag
	flag.Var(&extra, "set", "extra KEY=VALUE line for the env file (repeatable)")
	flag.Parse()
	if *out == "" {
		fatal(errors.New("-out is required"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	env, err := run(ctx, *serverURL)
	if err != nil {
		fatal(err)
	}
	env = append(env, extra...)
	if err := writeEnv(*out, env); err != nil {
		fatal(err)
	}
	log.Printf("wrote %s", *out)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "seed: ERROR:", err)
	os.Exit(1)
}

type user struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	Roles       string `json:"roles"`
	DeleteAt    int64  `json:"delete_at"`
	AuthService string `json:"auth_service"`
}

type seeder struct {
	anon *client // unauthenticated
	api  *client // authenticated as the first System Admin
	ids  map[string]string
}

func run(ctx context.Context, serverURL string) ([][2]string, error) {
	s := &seeder{anon: newClient(serverURL), ids: map[string]string{}}
	if _, err := s.anon.do(ctx, http.MethodGet, "/system/ping", nil, nil); err != nil {
		return nil, fmt.Errorf("server not reachable: %w", err)
	}

	admin, err := s.bootstrapAdmin(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.ensureBots(ctx); err != nil {
		return nil, err
	}

	seeded, err := s.alreadySeeded(ctx)
	if err != nil {
		return nil, err
	}
	if seeded {
		log.Print("organisation already seeded; only minting fresh tokens")
	} else if err := s.seedOrg(ctx); err != nil {
		return nil, err
	}
	if err := s.setSystemRoles(ctx); err != nil {
		return nil, err
	}

	// Tokens (shown once by the server, so new ones on every run).
	adminToken, err := s.createToken(ctx, adminUsername, "baton local test: first system admin")
	if err != nil {
		return nil, err
	}
	botToken, err := s.createToken(ctx, bots[0].Username, "baton local test: bot")
	if err != nil {
		return nil, err
	}
	botAdminToken, err := s.createToken(ctx, bots[1].Username, "baton local test: system admin bot")
	if err != nil {
		return nil, err
	}
	userToken, err := s.createToken(ctx, tokenUserUsername, "baton local test: non-admin user")
	if err != nil {
		return nil, err
	}
	// The PAT must work on its own (this also checks ENABLEUSERACCESSTOKENS).
	var me user
	if _, err := s.api.withToken(adminToken).do(ctx, http.MethodGet, "/users/me", nil, &me); err != nil {
		return nil, fmt.Errorf("admin PAT does not work: %w", err)
	}

	return [][2]string{
		{"MM_URL", strings.TrimRight(serverURL, "/")},
		{"MM_ADMIN_USERNAME", adminUsername},
		{"MM_ADMIN_PASSWORD", adminPassword},
		{"MM_ADMIN_USER_ID", admin.ID},
		{"MM_ADMIN_TOKEN", adminToken},
		{"MM_BOT_USERNAME", bots[0].Username},
		{"MM_BOT_USER_ID", s.ids[bots[0].Username]},
		{"MM_BOT_TOKEN", botToken},
		{"MM_BOT_ADMIN_USERNAME", bots[1].Username},
		{"MM_BOT_ADMIN_USER_ID", s.ids[bots[1].Username]},
		{"MM_BOT_ADMIN_TOKEN", botAdminToken},
		{"MM_USER_USERNAME", tokenUserUsername},
		{"MM_USER_ID", s.ids[tokenUserUsername]},
		{"MM_USER_TOKEN", userToken},
		{"MM_LOGIN_USERNAME", loginUserUsername},
		{"MM_LOGIN_PASSWORD", peoplePassword},
		{"MM_SEED_PASSWORD", peoplePassword},
	}, nil
}

// bootstrapAdmin creates the first user on an empty server (it becomes System Admin),
// or, if the server already has users, just logs in as that admin.
func (s *seeder) bootstrapAdmin(ctx context.Context) (user, error) {
	var u user
	_, err := s.anon.do(ctx, http.MethodPost, "/users", map[string]any{
		"email": adminUsername + "@" + emailDomain, "username": adminUsername, "password": adminPassword,
		"first_name": "System", "last_name": "Admin",
	}, &u)
	switch {
	case err == nil:
		log.Printf("created first user %s", adminUsername)
	case statusOf(err) == http.StatusForbidden || statusOf(err) == http.StatusBadRequest:
		log.Printf("server already has users (HTTP %d); logging in as %s", statusOf(err), adminUsername)
	default:
		return u, fmt.Errorf("bootstrap first user: %w", err)
	}

	hdr, err := s.anon.do(ctx, http.MethodPost, "/users/login",
		map[string]string{"login_id": adminUsername, "password": adminPassword}, &u)
	if err != nil {
		return u, fmt.Errorf("login as %s: %w", adminUsername, err)
	}
	token := hdr.Get("Token")
	if token == "" {
		return u, errors.New("login answer has no Token header")
	}
	if !hasRole(u.Roles, "system_admin") {
		return u, fmt.Errorf("%s is not a system admin (roles %q): the server was not empty", adminUsername, u.Roles)
	}
	s.api = s.anon.withToken(token)
	s.ids[adminUsername] = u.ID
	return u, nil
}

func (s *seeder) ensureBots(ctx context.Context) error {
	for _, b := range bots {
		if id, err := s.lookupUser(ctx, b.Username); err == nil {
			s.ids[b.Username] = id.ID
			continue
		} else if statusOf(err) != http.StatusNotFound {
			return err
		}
		var created struct {
			UserID string `json:"user_id"`
		}
		if _, err := s.api.do(ctx, http.MethodPost, "/bots", map[string]string{
			"username": b.Username, "display_name": b.DisplayName, "description": b.Description,
		}, &created); err != nil {
			return fmt.Errorf("create bot %s: %w", b.Username, err)
		}
		s.ids[b.Username] = created.UserID
	}
	log.Printf("bots: %d", len(bots))
	return nil
}

// alreadySeeded reports whether seedOrg ran to completion before: its last step
// deactivates users, so a deactivated marker user means the org is complete.
func (s *seeder) alreadySeeded(ctx context.Context) (bool, error) {
	marker := deactivatedUsernames[len(deactivatedUsernames)-1]
	u, err := s.lookupUser(ctx, marker)
	if statusOf(err) == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if u.DeleteAt == 0 {
		return false, errors.New("server is partially seeded; start from a fresh database (mattermost.sh up)")
	}
	return true, nil
}

func (s *seeder) seedOrg(ctx context.Context) error {
	if err := s.createPeople(ctx); err != nil {
		return err
	}
	nChannels := 0
	for _, t := range teams {
		if err := s.seedTeam(ctx, t); err != nil {
			return fmt.Errorf("team %s: %w", t.Name, err)
		}
		nChannels += len(t.Channels)
	}
	// Last: deactivation keeps team and channel memberships (and marks the org complete).
	for _, name := range deactivatedUsernames {
		if _, err := s.api.do(ctx, http.MethodPut, "/users/"+s.ids[name]+"/active", map[string]bool{"active": false}, nil); err != nil {
			return fmt.Errorf("deactivate %s: %w", name, err)
		}
	}
	log.Printf("seeded %d people, %d teams, %d extra channels, %d deactivated", len(people), len(teams), nChannels, len(deactivatedUsernames))
	return nil
}

func (s *seeder) createPeople(ctx context.Context) error {
	for _, p := range people {
		name := p.username()
		body := map[string]any{
			"username": name, "email": name + "@" + emailDomain,
			"first_name": p.First, "last_name": p.Last, "nickname": p.Nickname, "position": p.Position,
			"email_verified": true, "disable_welcome_email": true,
		}
		if name == ssoUsername {
			body["auth_service"], body["auth_data"] = ssoAuthService, ssoAuthData // no password
			var u user
			_, err := s.api.do(ctx, http.MethodPost, "/users", body, &u)
			if err == nil {
				s.ids[name] = u.ID
				continue
			}
			log.Printf("NOTE: server refused creating %s with auth_service=%s (%v); creating it with a password", name, ssoAuthService, err)
			delete(body, "auth_service")
			delete(body, "auth_data")
		}
		body["password"] = peoplePassword
		var u user
		if _, err := s.api.do(ctx, http.MethodPost, "/users", body, &u); err != nil {
			return fmt.Errorf("create user %s: %w", name, err)
		}
		s.ids[name] = u.ID
	}
	return nil
}

func (s *seeder) seedTeam(ctx context.Context, t team) error {
	typ, open := "O", true
	if t.InviteOnly {
		typ, open = "I", false
	}
	var created struct {
		ID              string `json:"id"`
		AllowOpenInvite bool   `json:"allow_open_invite"`
	}
	if _, err := s.api.do(ctx, http.MethodPost, "/teams", map[string]any{
		"name": t.Name, "display_name": t.DisplayName, "type": typ, "allow_open_invite": open,
	}, &created); err != nil {
		return err
	}
	tid := created.ID
	if created.AllowOpenInvite != open {
		if _, err := s.api.do(ctx, http.MethodPut, "/teams/"+tid+"/patch", map[string]bool{"allow_open_invite": open}, nil); err != nil {
			return err
		}
	}

	for _, name := range concat(t.Members, t.Admins, t.Left) {
		if _, err := s.api.do(ctx, http.MethodPost, "/teams/"+tid+"/members",
			map[string]string{"team_id": tid, "user_id": s.ids[name]}, nil); err != nil {
			return fmt.Errorf("add %s: %w", name, err)
		}
	}
	for _, name := range t.Admins {
		if _, err := s.api.do(ctx, http.MethodPut, "/teams/"+tid+"/members/"+s.ids[name]+"/schemeRoles",
			map[string]bool{"scheme_admin": true, "scheme_user": true, "scheme_guest": false}, nil); err != nil {
			return fmt.Errorf("make %s team admin: %w", name, err)
		}
	}
	for _, name := range t.Left {
		if _, err := s.api.do(ctx, http.MethodDelete, "/teams/"+tid+"/members/"+s.ids[name], nil, nil); err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}

	for _, c := range t.Channels {
		if err := s.seedChannel(ctx, tid, c); err != nil {
			return fmt.Errorf("channel %s: %w", c.Name, err)
		}
	}
	if t.Archived {
		if _, err := s.api.do(ctx, http.MethodDelete, "/teams/"+tid, nil, nil); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
	}
	return nil
}

func (s *seeder) seedChannel(ctx context.Context, teamID string, c channel) error {
	typ := "O"
	if c.Private {
		typ = "P"
	}
	var created struct {
		ID string `json:"id"`
	}
	if _, err := s.api.do(ctx, http.MethodPost, "/channels", map[string]string{
		"team_id": teamID, "name": c.Name, "display_name": c.DisplayName, "type": typ,
		"purpose": c.DisplayName + " (seeded)",
	}, &created); err != nil {
		return err
	}
	cid := created.ID
	for _, name := range concat(c.Members, c.Admins) {
		if _, err := s.api.do(ctx, http.MethodPost, "/channels/"+cid+"/members",
			map[string]string{"user_id": s.ids[name]}, nil); err != nil {
			return fmt.Errorf("add %s: %w", name, err)
		}
	}
	for _, name := range c.Admins {
		if _, err := s.api.do(ctx, http.MethodPut, "/channels/"+cid+"/members/"+s.ids[name]+"/schemeRoles",
			map[string]bool{"scheme_admin": true, "scheme_user": true}, nil); err != nil {
			return fmt.Errorf("make %s channel admin: %w", name, err)
		}
	}
	if c.Archived {
		if _, err := s.api.do(ctx, http.MethodDelete, "/channels/"+cid, nil, nil); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
	}
	return nil
}

// setSystemRoles is idempotent, so it runs on every seed.
func (s *seeder) setSystemRoles(ctx context.Context) error {
	roles := [][2]string{
		{secondAdminUsername, "system_user system_admin"},
		{tokenUserUsername, "system_user system_user_access_token"}, // non-admins need it to own a PAT
	}
	for _, b := range bots {
		if b.SystemAdmin {
			roles = append(roles, [2]string{b.Username, "system_user system_admin"})
		}
	}
	for _, r := range roles {
		id, err := s.userID(ctx, r[0])
		if err != nil {
			return err
		}
		if _, err := s.api.do(ctx, http.MethodPut, "/users/"+id+"/roles", map[string]string{"roles": r[1]}, nil); err != nil {
			return fmt.Errorf("set roles of %s: %w", r[0], err)
		}
	}
	return nil
}

func (s *seeder) createToken(ctx context.Context, username, description string) (string, error) {
	id, err := s.userID(ctx, username)
	if err != nil {
		return "", err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if _, err := s.api.do(ctx, http.MethodPost, "/users/"+id+"/tokens", map[string]string{"description": description}, &tok); err != nil {
		return "", fmt.Errorf("create token for %s: %w", username, err)
	}
	if tok.Token == "" {
		return "", fmt.Errorf("create token for %s: empty token", username)
	}
	return tok.Token, nil
}

func (s *seeder) lookupUser(ctx context.Context, username string) (user, error) {
	var u user
	_, err := s.api.do(ctx, http.MethodGet, "/users/username/"+username, nil, &u)
	return u, err
}

func (s *seeder) userID(ctx context.Context, username string) (string, error) {
	if id, ok := s.ids[username]; ok {
		return id, nil
	}
	u, err := s.lookupUser(ctx, username)
	if err != nil {
		return "", fmt.Errorf("look up %s: %w", username, err)
	}
	s.ids[username] = u.ID
	return u.ID, nil
}

var bareValue = regexp.MustCompile(`^[A-Za-z0-9_./:@%+,=?-]*$`)

// writeEnv writes KEY=VALUE lines (single-quoted only when needed), atomically, mode 0600.
func writeEnv(path string, kv [][2]string) error {
	var b strings.Builder
	b.WriteString("# Written by test/localserver/seed. Shell-sourceable. Contains credentials for a throw-away local server.\n")
	for _, e := range kv {
		v := e[1]
		if !bareValue.MatchString(v) {
			v = "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
		}
		fmt.Fprintf(&b, "%s=%s\n", e[0], v)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".server.env.*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(b.String()); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func hasRole(roles, role string) bool {
	for _, r := range strings.Fields(roles) {
		if r == role {
			return true
		}
	}
	return false
}

func concat(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	return all
}

func lower(s string) string { return strings.ToLower(s) }
