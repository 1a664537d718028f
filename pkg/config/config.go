// Package config defines baton-mattermost's configuration fields. The struct
// in conf.gen.go is generated from them: run `go generate ./pkg/config`.
package config

import (
	"github.com/conductorone/baton-sdk/pkg/field"
)

//go:generate sh -c "go run ./gen && gofmt -w conf.gen.go"

var (
	BaseURLField = field.StringField(
		"base-url",
		field.WithDisplayName("Server URL"),
		field.WithDescription("URL of your Mattermost server, e.g. https://chat.example.com (REST calls go to /api/v4 under it)"),
		field.WithRequired(true),
		field.WithStructFieldName("BaseURL"),
		field.WithPlaceholder("https://chat.example.com"),
	)
	APITokenField = field.StringField(
		"api-token",
		field.WithDisplayName("API token"),
		field.WithDescription("Personal access token or bot token of a System Admin, sent as a Bearer token"),
		field.WithRequired(true),
		field.WithIsSecret(true),
		field.WithStructFieldName("APIToken"),
	)
	IncludeArchivedTeamsField = field.BoolField(
		"include-archived-teams",
		field.WithDisplayName("Include archived teams"),
		field.WithDescription("Also sync archived teams (marked as archived); they grant no access, so they are skipped by default"),
		field.WithDefaultValue(false),
	)
	AllowHTTPField = field.BoolField(
		"allow-http",
		field.WithDisplayName("Allow http://"),
		field.WithDescription("Allow an http:// base-url on a host other than localhost; off by default because the "+
			"System Admin token would cross the network, and any HTTP proxy, in clear text"),
		field.WithDefaultValue(false),
		field.WithStructFieldName("AllowHTTP"),
	)
	SyncPublicChannelsField = field.BoolField(
		"sync-public-channels",
		field.WithDisplayName("Sync public channels"),
		field.WithDescription("Also sync public channels and their members (every team member can join them); private channels are always synced"),
		field.WithDefaultValue(false),
	)
	SkipLastLoginField = field.BoolField(
		"skip-last-login",
		field.WithDisplayName("Skip last login"),
		field.WithDescription("Do not read users' last login times from /api/v4/reports/users (saves one request per 100 users)"),
		field.WithDefaultValue(false),
	)
	CABundleField = field.StringField(
		"ca-bundle",
		field.WithDisplayName("CA bundle"),
		field.WithDescription("Path to a PEM file of extra certificate authorities to trust, for servers with internal certificates"),
		field.WithStructFieldName("CABundle"),
	)
	RequestsPerSecondField = field.IntField(
		"requests-per-second",
		field.WithDisplayName("Requests per second"),
		field.WithDescription("Client-side cap on API requests per second, to stay under a known rate limit; 0 means no cap"),
		field.WithDefaultValue(0),
		field.WithInt(func(r *field.IntRuler) { r.Gte(0).Lte(10000) }),
	)

	ConfigurationFields = []field.SchemaField{
		BaseURLField,
		APITokenField,
		AllowHTTPField,
		IncludeArchivedTeamsField,
		SyncPublicChannelsField,
		SkipLastLoginField,
		CABundleField,
		RequestsPerSecondField,
	}

	Configuration = field.NewConfiguration(
		ConfigurationFields,
		field.WithConnectorDisplayName("Mattermost"),
		field.WithHelpUrl("/docs/baton/mattermost"),
		field.WithIconUrl("/static/app-icons/mattermost.svg"),
	)
)
