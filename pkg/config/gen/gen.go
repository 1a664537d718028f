// Command gen writes conf.gen.go, the configuration struct, from the fields.
package main

import (
	cfg "github.com/baton-mattermost/baton-mattermost/pkg/config"
	"github.com/conductorone/baton-sdk/pkg/config"
)

func main() {
	config.Generate("mattermost", cfg.Configuration)
}
