// Command load writes a psql script that bulk-loads a large, realistic
// organisation into a Mattermost server's PostgreSQL database: users, teams,
// team memberships, each team's two default public channels (without members)
// and private channels with their members, straight into the Users, Teams,
// TeamMembers, Channels, PublicChannels and ChannelMembers tables with COPY.
// Pipe it into psql; restart the server afterwards so that no cache of it
// predates the data.
//
//	go run ./test/bench/load -users 100000 | psql -h 127.0.0.1 -p 55432 -U mmuser -v ON_ERROR_STOP=1 mattermost
//
// The data set is a pure function of the flags: the same flags give the same
// ids, names, team sizes and memberships. Sizes scale with -users: by default
// one team per 100 users, about 4 memberships per user, 2% of users
// deactivated (they keep their memberships, as in Mattermost). Team sizes
// follow a power law (size of the team of rank r ∝ 1/r^s): a handful of very
// large teams, many small ones; s is 1 (Zipf) unless -largest asks for a given
// size of the largest team. -private-channels spreads that many private
// channels evenly over the teams by rank, each with members drawn from its
// team's. Every loaded user's password is Password.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
)

// Password is the password of every loaded user; passwordHash is its bcrypt
// hash (cost 10), precomputed once: hashing 100,000 passwords would dominate
// the load, and Mattermost still accepts bcrypt hashes at login.
const (
	Password     = "Bench-Passw0rd!"
	passwordHash = "$2a$10$erkk9HiN2sNw0jcG3DFFU.KHl2UJf4Ej8QLSGTae55FeYzQeDSW62"
)

// namePrefix marks the loaded teams, so that a reload can remove them first.
const namePrefix = "bench-"

type params struct {
	users, teams       int
	membershipsPerUser float64
	deactivated        float64
	seed               uint64
	// largest is the size of the largest team; 0 means Zipf sizes (s = 1).
	largest int
	// privateChannels is the number of private channels; channelMembers the
	// average number of members of one (at most its team's).
	privateChannels, channelMembers int
}

func main() {
	var p params
	flag.IntVar(&p.users, "users", 100000, "number of users")
	flag.IntVar(&p.teams, "teams", 0, "number of teams (default: users/100, at least 1)")
	flag.Float64Var(&p.membershipsPerUser, "memberships-per-user", 4, "average number of teams per user")
	flag.Float64Var(&p.deactivated, "deactivated", 0.02, "fraction of users that are deactivated")
	flag.Uint64Var(&p.seed, "seed", 1, "random seed")
	flag.IntVar(&p.largest, "largest", 0, "members of the largest team (default: Zipf sizes, 1/rank)")
	flag.IntVar(&p.privateChannels, "private-channels", 0, "number of private channels, spread over the teams")
	flag.IntVar(&p.channelMembers, "channel-members", 20, "average members of a private channel")
	summary := flag.String("summary", "", "also write what was generated, as JSON, to this file")
	flag.Parse()
	if p.teams <= 0 {
		p.teams = max(1, p.users/100)
	}
	if p.users < 1 || p.membershipsPerUser <= 0 || p.deactivated < 0 || p.deactivated > 1 ||
		p.largest < 0 || p.largest > p.users || p.privateChannels < 0 || p.channelMembers < 2 {
		fmt.Fprintln(os.Stderr, "load: invalid flags")
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	st := write(w, p)
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	st.Users, st.Teams = p.users, p.teams
	fmt.Fprintf(os.Stderr, "load: %d users (%d deactivated), %d teams (largest %d members, smallest %d), %d memberships (%d team admins), "+
		"%d private channels (%d memberships)\n",
		st.Users, st.Deactivated, st.Teams, st.Largest, st.Smallest, st.Memberships, st.Admins, st.PrivateChannels, st.ChannelMemberships)
	if *summary != "" {
		b, _ := json.Marshal(st)
		if err := os.WriteFile(*summary, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
	}
}

// stats describes the generated data, for the benchmark to check what the server serves.
type stats struct {
	Users       int `json:"users"`
	Deactivated int `json:"deactivated"`
	Teams       int `json:"teams"`
	Memberships int `json:"memberships"`
	Admins      int `json:"team_admins"`
	// LargestTeamID is the first team, the largest: Largest members, of which
	// LargestDeactivated are deactivated users.
	LargestTeamID      string `json:"largest_team_id"`
	Largest            int    `json:"largest"`
	LargestDeactivated int    `json:"largest_deactivated"`
	Smallest           int    `json:"smallest"`
	// PrivateChannels were loaded with ChannelMemberships members in all.
	PrivateChannels    int `json:"private_channels"`
	ChannelMemberships int `json:"channel_memberships"`
	// SampleUsername is a loaded, active user who can log in with Password.
	SampleUsername string `json:"sample_username"`
}

// idAlphabet is Mattermost's id alphabet (model.NewId: base32, 26 characters, [a-z0-9]).
const idAlphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"

// newID derives a stable 26-character id from a kind and a number.
func newID(seed uint64, kind string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%s/%d", seed, kind, i))
	var b [26]byte
	for k := range b {
		b[k] = idAlphabet[sum[k]&31]
	}
	return string(b[:])
}

var (
	firstNames = strings.Fields(`james mary robert patricia john jennifer michael linda david elizabeth william barbara
		richard susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy matthew betty anthony
		margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin
		amanda brian melissa george deborah timothy stephanie ronald rebecca edward sharon jason laura jeffrey cynthia
		ryan kathleen jacob amy gary angela nicholas shirley eric anna jonathan brenda stephen pamela larry emma justin
		nicole scott helen brandon samantha benjamin katherine samuel christine gregory debra alexander rachel frank
		carolyn patrick janet raymond catherine jack maria dennis heather jerry diane tyler ruth aaron julie jose olivia
		adam joyce henry virginia nathan victoria douglas kelly zachary lauren peter christina kyle joan ethan evelyn
		walter judith noah megan jeremy andrea christian cheryl keith hannah roger jacqueline terry martha gerald gloria
		harold teresa sean ann austin sara carl madison arthur frances lawrence kathryn dylan janice jesse jean jordan
		abigail bryan alice billy julia joe judy bruce sophia gabriel grace logan denise albert amber willie doris alan
		marilyn juan danielle wayne beverly elijah isabella randy theresa roy diana vincent natalie ralph brittany eugene
		charlotte russell marie bobby kayla mason alexis philip lori louis priya wei mohammed fatima hiroshi yuki carlos
		lucia ahmed aisha raj ananya chen mei ivan olga pierre chloe lars ingrid`)
	lastNames = strings.Fields(`smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez
		lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark
		ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker
		hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes
		stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos
		kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo
		sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell coleman butler henderson
		barnes gonzales fisher vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace
		moreno west cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall owens
		harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker guzman burns
		crawford olson simpson porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer
		wagner black robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza daniels ferguson nichols
		stephens soto weaver ryan gardner payne grant dunn kelley spencer hawkins arnold pierce vazquez hansen peters
		santos hart bradley knight elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray
		delgado berry perkins hoffman johnston matthews pena richards willis carpenter lawrence sandoval yamamoto sato
		tanaka wang zhang liu singh kumar sharma ivanov petrov muller schneider dubois laurent rossi russo`)
	positions = strings.Fields(`Engineer Designer Manager Analyst Consultant Director Architect Recruiter
		Accountant Scientist Administrator Coordinator Specialist Technician Lead`)
	teamWords = strings.Fields(`Platform Payments Mobile Web Data Security Infrastructure Growth Support Sales
		Marketing Finance Legal People Research Design Operations Quality Analytics Billing Search Identity Partners
		Logistics Procurement Compliance Brand Community Events Training`)
)

// Columns as the server created them (Mattermost 11.4 schema).
const (
	usersColumns = "id, createat, updateat, deleteat, username, password, authdata, authservice, email, emailverified, " +
		"nickname, firstname, lastname, roles, allowmarketing, props, notifyprops, lastpasswordupdate, lastpictureupdate, " +
		"failedattempts, locale, mfaactive, mfasecret, position, timezone, remoteid, lastlogin, mfausedtimestamps"
	teamsColumns = "id, createat, updateat, deleteat, displayname, name, description, email, type, companyname, " +
		"alloweddomains, inviteid, schemeid, allowopeninvite, lastteamiconupdate, groupconstrained, cloudlimitsarchived"
	teamMembersColumns = "teamid, userid, roles, deleteat, schemeuser, schemeadmin, schemeguest, createat"
	channelsColumns    = "id, createat, updateat, deleteat, teamid, type, displayname, name, header, purpose, lastpostat, " +
		"totalmsgcount, extraupdateat, creatorid, totalmsgcountroot, lastrootpostat, defaultcategoryname"
	publicChannelsColumns = "id, deleteat, teamid, displayname, name, header, purpose"
	channelMembersColumns = "channelid, userid, roles, lastviewedat, msgcount, mentioncount, notifyprops, lastupdateat, " +
		"schemeuser, schemeadmin, schemeguest, mentioncountroot, msgcountroot, urgentmentioncount"

	// What the server stores for a user created with the defaults.
	notifyProps = `{"push": "mention", "email": "true", "channel": "true", "desktop": "mention", "comments": "never", ` +
		`"first_name": "false", "push_status": "online", "mention_keys": "", "push_threads": "all", "desktop_sound": "true", ` +
		`"email_threads": "all", "desktop_threads": "all"}`
	timezone           = `{"manualTimezone": "", "automaticTimezone": "", "useAutomaticTimezone": "true"}`
	channelNotifyProps = `{"push": "default", "email": "default", "desktop": "default", "mark_unread": "all", ` +
		`"ignore_channel_mentions": "default", "channel_auto_follow_threads": "off"}`
)

// epoch is 2021-01-01 in Unix milliseconds; the data spans five years from it.
const (
	epoch     = int64(1609459200000)
	fiveYears = int64(5 * 365 * 24 * 3600 * 1000)
)

func write(w *bufio.Writer, p params) stats {
	rng := rand.New(rand.NewPCG(p.seed, 0x6d6d))
	var st stats

	fmt.Fprintln(w, `\set ON_ERROR_STOP on`)
	fmt.Fprintln(w, "SET synchronous_commit = off;")
	fmt.Fprintln(w, "BEGIN;")
	// Idempotent: a reload first removes what an earlier load added.
	for _, table := range []string{"channelmembers WHERE channelid", "publicchannels WHERE id", "channels WHERE id"} {
		fmt.Fprintf(w, "DELETE FROM %s IN (SELECT c.id FROM channels c JOIN teams t ON t.id = c.teamid WHERE t.name LIKE '%s%%');\n", table, namePrefix)
	}
	fmt.Fprintf(w, "DELETE FROM teammembers WHERE teamid IN (SELECT id FROM teams WHERE name LIKE '%s%%');\n", namePrefix)
	fmt.Fprintf(w, "DELETE FROM teams WHERE name LIKE '%s%%';\n", namePrefix)
	fmt.Fprintf(w, "DELETE FROM users WHERE email LIKE '%%@%sexample.com';\n", namePrefix)

	userIDs := make([]string, p.users)
	active := make([]bool, p.users)
	fmt.Fprintf(w, "COPY users (%s) FROM STDIN;\n", usersColumns)
	for i := range p.users {
		id := newID(p.seed, "user", i)
		userIDs[i] = id
		first := firstNames[rng.IntN(len(firstNames))]
		last := lastNames[rng.IntN(len(lastNames))]
		username := fmt.Sprintf("%s.%s.%d", first, last, i)
		createAt := epoch + rng.Int64N(fiveYears)
		updateAt, deleteAt := createAt, int64(0)
		if rng.Float64() < p.deactivated {
			deleteAt = createAt + 1 + rng.Int64N(epoch+fiveYears-createAt)
			updateAt = deleteAt
			st.Deactivated++
		}
		nickname, position := "", ""
		if rng.IntN(10) == 0 {
			nickname = strings.ToUpper(first[:1]) + first[1:min(4, len(first))]
		}
		if rng.IntN(3) == 0 {
			position = positions[rng.IntN(len(positions))]
		}
		active[i] = deleteAt == 0
		if active[i] && st.SampleUsername == "" {
			st.SampleUsername = username
		}
		lastLogin := int64(0)
		if deleteAt == 0 && rng.IntN(5) != 0 {
			lastLogin = createAt + rng.Int64N(epoch+fiveYears-createAt)
		}
		// The id, username and e-mail are unique; authdata stays NULL (unique too).
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\t\\N\t\t%s@%sexample.com\tt\t%s\t%s\t%s\tsystem_user\tf\t{}\t%s\t%d\t0\t0\ten\tf\t\t%s\t%s\t\t%d\t[]\n",
			id, createAt, updateAt, deleteAt, username, passwordHash, username, namePrefix, nickname,
			title(first), title(last), notifyProps, createAt, position, timezone, lastLogin)
	}
	fmt.Fprintln(w, `\.`)

	sizes := teamSizes(p)
	fmt.Fprintf(w, "COPY teams (%s) FROM STDIN;\n", teamsColumns)
	teamIDs := make([]string, p.teams)
	for r := range p.teams {
		id := newID(p.seed, "team", r)
		teamIDs[r] = id
		createAt := epoch + rng.Int64N(fiveYears)
		word := teamWords[rng.IntN(len(teamWords))]
		teamType, open := "O", "t"
		if rng.IntN(5) == 0 {
			teamType, open = "I", "f"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t0\t%s %d\t%s%05d\tThe %s team, number %d\tadmin@example.com\t%s\t\t\t%s\t\\N\t%s\t0\t\\N\tf\n",
			id, createAt, createAt, word, r+1, namePrefix, r+1, word, r+1, teamType, newID(p.seed, "invite", r), open)
	}
	fmt.Fprintln(w, `\.`)

	// Members of each team: a uniform sample without replacement (partial
	// Fisher-Yates over one shared permutation); about 1 in 100 is a team admin.
	perm := make([]int, p.users)
	for i := range perm {
		perm[i] = i
	}
	// The teams that get private channels keep their member list, to draw
	// the channels' members from.
	channelTeams := privateChannelTeams(p)
	teamMembers := map[int][]int{}
	fmt.Fprintf(w, "COPY teammembers (%s) FROM STDIN;\n", teamMembersColumns)
	st.Smallest = p.users
	st.LargestTeamID = teamIDs[0]
	for r, size := range sizes {
		admins := max(1, size/100)
		for k := range size {
			j := k + rng.IntN(p.users-k)
			perm[k], perm[j] = perm[j], perm[k]
			if channelTeams[r] > 0 {
				teamMembers[r] = append(teamMembers[r], perm[k])
			}
			admin := "f"
			if k < admins {
				admin = "t"
				st.Admins++
			}
			if r == 0 && !active[perm[k]] {
				st.LargestDeactivated++
			}
			fmt.Fprintf(w, "%s\t%s\t\t0\tt\t%s\tf\t%d\n", teamIDs[r], userIDs[perm[k]], admin, epoch+rng.Int64N(fiveYears))
		}
		st.Memberships += size
		st.Largest = max(st.Largest, size)
		st.Smallest = min(st.Smallest, size)
	}
	fmt.Fprintln(w, `\.`)
	writeChannels(w, p, rng, teamIDs, userIDs, channelTeams, teamMembers, &st)
	fmt.Fprintln(w, "COMMIT;")
	fmt.Fprintln(w, "ANALYZE users; ANALYZE teams; ANALYZE teammembers; ANALYZE channels; ANALYZE publicchannels; ANALYZE channelmembers;")
	return st
}

// privateChannelTeams tells how many private channels each team (by rank)
// gets: channel k goes to the team of rank k*teams/private-channels, so that
// they spread evenly from the largest team to the smallest.
func privateChannelTeams(p params) map[int]int {
	n := map[int]int{}
	for k := range p.privateChannels {
		n[k*p.teams/p.privateChannels]++
	}
	return n
}

// writeChannels loads every team's two default public channels (no members:
// they only make the Channels table as large as a real server's) and the
// private channels with their members. The first member of a private channel
// created it and is its admin, as are about 1 in 10 of the others.
func writeChannels(w *bufio.Writer, p params, rng *rand.Rand, teamIDs, userIDs []string,
	channelTeams map[int]int, teamMembers map[int][]int, st *stats) {
	type channel struct {
		id, team string
		createAt int64
		members  []int
	}
	var private []channel
	fmt.Fprintf(w, "COPY channels (%s) FROM STDIN;\n", channelsColumns)
	row := func(id, team, typ, display, name, purpose, creator string, createAt int64) {
		fmt.Fprintf(w, "%s\t%d\t%d\t0\t%s\t%s\t%s\t%s\t\t%s\t%d\t0\t0\t%s\t0\t%d\t\n",
			id, createAt, createAt, team, typ, display, name, purpose, createAt, creator, createAt)
	}
	defaults := [][2]string{{"town-square", "Town Square"}, {"off-topic", "Off-Topic"}}
	var public []string // PublicChannels rows
	for r, team := range teamIDs {
		createAt := epoch + rng.Int64N(fiveYears)
		for k, d := range defaults {
			id := newID(p.seed, "public-channel", 2*r+k)
			row(id, team, "O", d[1], d[0], "", "", createAt)
			public = append(public, fmt.Sprintf("%s\t0\t%s\t%s\t%s\t\t\n", id, team, d[1], d[0]))
		}
		members := teamMembers[r]
		for c := range channelTeams[r] {
			ch := channel{id: newID(p.seed, "private-channel", len(private)), team: team, createAt: createAt + rng.Int64N(fiveYears/5)}
			size := min(len(members), 2+rng.IntN(2*p.channelMembers-3))
			for k := range size {
				j := k + rng.IntN(len(members)-k)
				members[k], members[j] = members[j], members[k]
				ch.members = append(ch.members, members[k])
			}
			word := teamWords[rng.IntN(len(teamWords))]
			row(ch.id, team, "P", fmt.Sprintf("%s private %d-%d", word, r+1, c+1), fmt.Sprintf("private-%d-%d", r+1, c+1),
				"A private channel of team "+fmt.Sprint(r+1), userIDs[ch.members[0]], ch.createAt)
			private = append(private, ch)
		}
	}
	fmt.Fprintln(w, `\.`)
	fmt.Fprintf(w, "COPY publicchannels (%s) FROM STDIN;\n", publicChannelsColumns)
	for _, line := range public {
		fmt.Fprint(w, line)
	}
	fmt.Fprintln(w, `\.`)
	fmt.Fprintf(w, "COPY channelmembers (%s) FROM STDIN;\n", channelMembersColumns)
	for _, ch := range private {
		for k, u := range ch.members {
			admin := "f"
			if k == 0 || rng.IntN(10) == 0 {
				admin = "t"
			}
			fmt.Fprintf(w, "%s\t%s\t\t0\t0\t0\t%s\t%d\tt\t%s\tf\t0\t0\t0\n", ch.id, userIDs[u], channelNotifyProps, ch.createAt, admin)
		}
		st.ChannelMemberships += len(ch.members)
	}
	fmt.Fprintln(w, `\.`)
	st.PrivateChannels = len(private)
}

// teamSizes gives the team of rank r (from 1) a size proportional to 1/r^s,
// so that the sizes add up to about users × memberships-per-user; every team
// has at least 2 members and none more than there are users. s is 1, or with
// -largest the exponent that makes the first team that large.
func teamSizes(p params) []int {
	total := float64(p.users) * p.membershipsPerUser
	exp := 1.0
	if p.largest > 0 {
		// The largest team is total/H(s), H(s) = Σ 1/r^s falling as s grows:
		// bisect for H(s) = total/largest.
		lo, hi := 0.0, 4.0
		for range 60 {
			exp = (lo + hi) / 2
			if harmonic(p.teams, exp) > total/float64(p.largest) {
				lo = exp
			} else {
				hi = exp
			}
		}
	}
	h := harmonic(p.teams, exp)
	sizes := make([]int, p.teams)
	for r := range sizes {
		s := int(math.Round(total / (math.Pow(float64(r+1), exp) * h)))
		sizes[r] = min(p.users, max(2, s))
	}
	return sizes
}

// harmonic is Σ 1/r^s for r = 1..n.
func harmonic(n int, s float64) float64 {
	h := 0.0
	for r := 1; r <= n; r++ {
		h += 1 / math.Pow(float64(r), s)
	}
	return h
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
