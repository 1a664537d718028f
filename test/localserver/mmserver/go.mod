// Nested module used only to build the Mattermost server binary for the local
// test harness (test/localserver/mattermost.sh build). It keeps the server's
// dependencies out of the connector's go.mod. Build with
//   GONOSUMDB=github.com/mattermost/mattermost GOFLAGS=-mod=mod go build ...
// Never run `go mod tidy` / `go get` here: they try to resolve closed-source
// github.com/mattermost/enterprise/* imports behind build tags.
module mmserver

go 1.26

require (
	github.com/mattermost/mattermost/server/public v0.1.22-0.20260113165922-8e4cadbc88ee // same commit as server/v8
	github.com/mattermost/mattermost/server/v8 v8.0.0-20260113162330-9e1d4c2072c0 // Team Edition 11.4.0 line
)

// Copied from server/go.mod: replace directives of dependencies are ignored.
replace github.com/olekukonko/tablewriter => github.com/olekukonko/tablewriter v0.0.5
