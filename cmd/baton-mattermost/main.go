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
)

var version = "dev"

func main() {
	ctx := context.Background()
	if needsSupervisor(os.Args) {
		os.Exit(supervise(ctx))
	}
	config.RunConnector(ctx, "baton-mattermost", version, cfg.Configuration, connector.New,
		connectorrunner.WithDefaultCapabilitiesConnectorBuilderV2(&connector.Connector{}),
	)
}
