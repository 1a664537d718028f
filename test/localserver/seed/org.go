package main

// The sample organisation seeded into the local Mattermost server, described as data.
// Everything here is deterministic: reruns on a fresh server produce the same org
// (only the server-generated ids, timestamps and tokens differ).

const (
	emailDomain = "example.com"

	// First System Admin, created by the unauthenticated bootstrap POST /users.
	adminUsername = "sysadmin"
	adminPassword = "Sysadmin-Passw0rd1"

	// Password of every seeded human except the SSO user.
	peoplePassword = "Seed-Passw0rd1"

	secondAdminUsername = "olivia.bennett" // second human System Admin
	tokenUserUsername   = "daniel.kim"     // non-admin with role system_user_access_token and a PAT
	loginUserUsername   = "laura.chen"     // regular user used for login-based tests
	ssoUsername         = "priya.raman"    // created with auth_service=saml (no password)
	ssoAuthService      = "saml"
	ssoAuthData         = "priya.raman@idp.example.com"
)

// Deactivated after their memberships are created (deactivation keeps memberships).
var deactivatedUsernames = []string{"mia.wilson", "evelyn.young", "samuel.nelson"}

type bot struct {
	Username, DisplayName, Description string
	SystemAdmin                        bool
}

var bots = []bot{
	{Username: "baton-bot", DisplayName: "Baton Bot", Description: "Regular bot account with a token"},
	{Username: "baton-admin-bot", DisplayName: "Baton Admin Bot", Description: "Bot account with system_admin and a token", SystemAdmin: true},
}

type person struct {
	First, Last, Nickname, Position string
}

// username is first.last in lower case.
func (p person) username() string { return lower(p.First) + "." + lower(p.Last) }

var people = []person{
	// Engineering
	{"Olivia", "Bennett", "", "VP Engineering"},
	{"Liam", "Carter", "", "Staff Engineer"},
	{"Noah", "Patel", "", ""},
	{"Emma", "Rodriguez", "Em", "Backend Engineer"},
	{"Ava", "Thompson", "", ""},
	{"Ethan", "Nguyen", "", "Security Engineer"},
	{"Sophia", "Kim", "", "Frontend Engineer"},
	{"Mason", "Lee", "", ""},
	{"Isabella", "Garcia", "Bella", ""},
	{"Lucas", "Martin", "", ""},
	{"Mia", "Wilson", "", "QA Engineer"},
	{"James", "Anderson", "Jim", ""},
	{"Harper", "Clark", "", ""},
	{"Daniel", "Kim", "", "Platform Engineer"},
	// Marketing
	{"Charlotte", "Lewis", "", "Marketing Director"},
	{"Benjamin", "Walker", "Ben", ""},
	{"Amelia", "Hall", "Millie", "Content Lead"},
	{"Henry", "Allen", "", ""},
	{"Evelyn", "Young", "", ""},
	{"Alexander", "King", "Alex", ""},
	{"Abigail", "Wright", "", ""},
	// Sales
	{"William", "Lopez", "Will", "Head of Sales"},
	{"Emily", "Hill", "", "Account Executive"},
	{"Jack", "Green", "", ""},
	{"Elizabeth", "Adams", "Liz", ""},
	{"Owen", "Baker", "", ""},
	{"Sofia", "Gonzalez", "Sofi", ""},
	{"Samuel", "Nelson", "Sam", ""},
	// Customer Support
	{"Chloe", "Mitchell", "", "Support Lead"},
	{"David", "Perez", "", ""},
	{"Grace", "Roberts", "", ""},
	{"Joseph", "Turner", "Joe", ""},
	{"Lily", "Phillips", "", ""},
	{"Matthew", "Campbell", "Matt", "Support Engineer"},
	// Cross-functional
	{"Laura", "Chen", "", "Program Manager"},
	{"Priya", "Raman", "", "Solutions Architect"},
	{"Victoria", "Parker", "", "Chief Operating Officer"},
	{"Ryan", "Evans", "", "Chief Financial Officer"},
	{"Zoe", "Edwards", "", ""},
	{"Nathan", "Collins", "Nate", "Ops Engineer"},
}

type channel struct {
	Name, DisplayName string
	Private           bool
	Members           []string // usernames (must be team members)
	Admins            []string // usernames made channel admin (scheme_admin); implicitly members
	Archived          bool     // archived (DELETE /channels/{id}) after members are added
}

type team struct {
	Name, DisplayName string
	InviteOnly        bool     // type "I", allow_open_invite=false; else type "O", allow_open_invite=true
	Members           []string // usernames
	Admins            []string // usernames made team admin (scheme_admin); implicitly members
	Left              []string // added, then removed (membership row keeps delete_at>0)
	Archived          bool     // archived (DELETE /teams/{id}) after everything else
	Channels          []channel
}

// The creator (sysadmin) of every team also becomes its team admin.
var teams = []team{
	{
		Name: "engineering", DisplayName: "Engineering",
		Members: []string{"noah.patel", "emma.rodriguez", "ava.thompson", "ethan.nguyen", "sophia.kim",
			"mason.lee", "isabella.garcia", "lucas.martin", "mia.wilson", "harper.clark", "daniel.kim",
			"olivia.bennett", "laura.chen", "baton-bot"},
		Admins: []string{"liam.carter", "olivia.bennett"},
		Left:   []string{"james.anderson"},
		Channels: []channel{
			{Name: "backend", DisplayName: "Backend",
				Members: []string{"noah.patel", "ava.thompson", "mason.lee", "mia.wilson", "daniel.kim", "liam.carter"},
				Admins:  []string{"emma.rodriguez"}},
			{Name: "frontend", DisplayName: "Frontend",
				Members: []string{"isabella.garcia", "lucas.martin", "harper.clark", "laura.chen"},
				Admins:  []string{"sophia.kim"}},
			{Name: "security-incidents", DisplayName: "Security Incidents", Private: true,
				Members: []string{"liam.carter", "olivia.bennett", "daniel.kim"},
				Admins:  []string{"ethan.nguyen"}},
			{Name: "eng-leads", DisplayName: "Engineering Leads", Private: true,
				Members: []string{"olivia.bennett", "noah.patel", "laura.chen"},
				Admins:  []string{"liam.carter"}},
		},
	},
	{
		Name: "marketing", DisplayName: "Marketing",
		Members: []string{"benjamin.walker", "amelia.hall", "henry.allen", "evelyn.young", "alexander.king",
			"abigail.wright", "laura.chen"},
		Admins: []string{"charlotte.lewis"},
		Channels: []channel{
			{Name: "campaigns", DisplayName: "Campaigns",
				Members: []string{"benjamin.walker", "henry.allen", "evelyn.young", "alexander.king"},
				Admins:  []string{"amelia.hall"}},
			{Name: "budget", DisplayName: "Budget", Private: true,
				Members: []string{"amelia.hall"},
				Admins:  []string{"charlotte.lewis"}},
		},
	},
	{
		Name: "sales", DisplayName: "Sales", InviteOnly: true,
		Members: []string{"emily.hill", "jack.green", "elizabeth.adams", "owen.baker", "sofia.gonzalez",
			"priya.raman"},
		Admins: []string{"william.lopez"},
		Channels: []channel{
			{Name: "deals", DisplayName: "Deals", Private: true,
				Members: []string{"emily.hill", "jack.green", "priya.raman"},
				Admins:  []string{"william.lopez", "emily.hill"}},
			{Name: "wins", DisplayName: "Wins",
				Members: []string{"elizabeth.adams", "owen.baker", "sofia.gonzalez"}},
		},
	},
	{
		Name: "leadership", DisplayName: "Leadership", InviteOnly: true,
		Members: []string{"olivia.bennett", "charlotte.lewis", "william.lopez", "chloe.mitchell", "baton-admin-bot"},
		Admins:  []string{"victoria.parker", "ryan.evans"},
		Channels: []channel{
			{Name: "board-prep", DisplayName: "Board Prep", Private: true,
				Members: []string{"ryan.evans", "olivia.bennett"},
				Admins:  []string{"victoria.parker"}},
		},
	},
	{
		Name: "support", DisplayName: "Customer Support",
		Members: []string{"david.perez", "grace.roberts", "joseph.turner", "lily.phillips", "matthew.campbell",
			"laura.chen"},
		Admins: []string{"chloe.mitchell"},
		Left:   []string{"owen.baker"},
		Channels: []channel{
			{Name: "escalations", DisplayName: "Escalations",
				Members: []string{"david.perez", "grace.roberts", "matthew.campbell"},
				Admins:  []string{"chloe.mitchell"}},
			{Name: "old-tickets", DisplayName: "Old Tickets", Archived: true,
				Members: []string{"joseph.turner", "lily.phillips"},
				Admins:  []string{"david.perez"}},
		},
	},
	{
		Name: "legacy-ops", DisplayName: "Legacy Ops", Archived: true,
		Members: []string{"zoe.edwards", "matthew.campbell", "mia.wilson"},
		Admins:  []string{"nathan.collins"},
		Channels: []channel{
			{Name: "runbooks", DisplayName: "Runbooks", Private: true,
				Members: []string{"zoe.edwards"},
				Admins:  []string{"nathan.collins"}},
		},
	},
}
