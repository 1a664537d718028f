// Command baton-mattermost syncs a Mattermost server's users, teams, channels
// and roles into a c1z file, or serves ConductorOne in service mode.
package main

import (
	"context"
	"os"

	cfg "github.com/baton-mattermost/baton-mattermost/pkg/config"
	"github.com/baton-mattermost/baton-mattermost/pkg/connector"
	"github.com/conductorone/baton-sdk/pkg/config"
	"github.com/conductorone/baton-sdk/pkg/connectorrunner"
	"github.com/conductorone/baton-sdk/pkg/dotc1z/c1zstore"
)

// version is stamped at release build time (-ldflags "-X main.version=...").
var version = "dev"

const connectorName = "baton-mattermost"

func main() {
	ctx := context.Background()
	if os.Getenv(supervisedEnv) == "" {
		inv := inspect(ctx, os.Args[1:])
		inv.warnAboutTokenInArgs(ctx)
		if inv.oneShot {
			os.Exit(supervise(ctx, inv))
		}
	} else {
		stopConnectorServiceOnSIGTERM(os.Args[1:])
	}
	config.RunConnector(ctx, connectorName, version, cfg.Configuration, connector.New, runnerOptions()...)
}

func runnerOptions() []connectorrunner.Option {
	return []connectorrunner.Option{
		connectorrunner.WithDefaultCapabilitiesConnectorBuilderV2(&connector.Connector{}),
		// Sync several teams' member pages at once (the SDK's "auto": as many
		// workers as CPUs, at most 4): a sync waits on the server far more than
		// it computes, and one worker leaves the server idle while the SDK
		// stores each page. --workers 1 syncs sequentially. See docs/benchmarks.md.
		connectorrunner.WithWorkerCount(-1),
		// Store the sync in SQLite, not the SDK's default Pebble: Pebble keeps
		// fixed buffers (64 MiB memtables, a 256 MiB block cache, 128 MiB sort
		// arenas when it seals the file) that took a 100,000-user sync to
		// ~475 MB, where SQLite stays near 125 MB. --storage-engine pebble
		// trades that memory for a faster store. See docs/benchmarks.md.
		connectorrunner.WithStorageEngine(c1zstore.EngineSQLite),
	}
}
