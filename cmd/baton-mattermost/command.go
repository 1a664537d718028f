package main

import (
	"context"
	"errors"
	"slices"
	"strings"

	cfg "github.com/baton-mattermost/baton-mattermost/pkg/config"
	"github.com/conductorone/baton-sdk/pkg/cli"
	"github.com/conductorone/baton-sdk/pkg/config"
	"github.com/conductorone/baton-sdk/pkg/logging"
	"github.com/conductorone/baton-sdk/pkg/types"
	"github.com/spf13/viper"
	"go.uber.org/zap"
)

// invocation is what a command line asks of this program, resolved as
// baton-sdk resolves it: the cobra command it would run, and each setting from
// its flag, else its BATON_* variable, else .baton.yaml.
type invocation struct {
	args    []string
	command string       // the cobra command that would run; "" when the command line does not parse
	v       *viper.Viper // nil when the SDK's command could not be built
	// oneShot: the root command runs one CLI task (a sync, --grant-*,
	// --revoke-grant, --create-account-*, --invoke-action, ...) and exits;
	// the only runs that baton-sdk v0.25.0's exit race can end with a wrong
	// status (see supervise.go).
	oneShot bool
}

// inspect decides what args ask for. Only a CLI task of the root command is
// supervised: not the SDK's subcommands (capabilities, config, completion,
// help, health-check, lambda, and _connector-service, the SDK's own child),
// not --help or --version, and not service mode (--client-id or
// BATON_CLIENT_ID or client-id in .baton.yaml), which runs until stopped and
// whose tasks report to ConductorOne, not through the exit status. A command
// line that does not parse is not supervised either: the SDK itself reports it.
func inspect(ctx context.Context, args []string) invocation {
	inv := invocation{args: args}
	// The very command RunConnector builds and runs, built here only to be
	// asked which subcommand and settings args select (RunConnector offers
	// no way to inspect its command without running it).
	v, root, err := config.DefineConfigurationV2(ctx, connectorName, notRun, cfg.Configuration, runnerOptions()...)
	if err != nil {
		return inv
	}
	inv.v = v
	root.Version = version
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	cmd, flags, err := root.Find(args)
	if err != nil {
		return inv
	}
	inv.command = cmd.Name()
	if cmd != root {
		return inv
	}
	root.InitDefaultHelpFlag()
	root.InitDefaultVersionFlag()
	if root.ParseFlags(flags) != nil || v.BindPFlags(root.Flags()) != nil {
		inv.command = ""
		return inv
	}
	help, _ := root.Flags().GetBool("help")
	showVersion, _ := root.Flags().GetBool("version")
	inv.oneShot = !help && !showVersion && v.GetString("client-id") == ""
	return inv
}

var errNotRun = errors.New("baton-mattermost: the inspected command is never run")

func notRun(context.Context, *cfg.Mattermost, cli.RunTimeOpts) (types.ConnectorServer, error) {
	return nil, errNotRun
}

const apiTokenFlag = "--api-token"

// tokenInArgs returns the value of the last --api-token in args (pflag's
// "--api-token VALUE" and "--api-token=VALUE"), and args without any of them.
func tokenInArgs(args []string) (string, []string, bool) {
	token, found := "", false
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return token, append(rest, args[i:]...), found
		case a == apiTokenFlag && i+1 < len(args):
			token, found = args[i+1], true
			i++
		case strings.HasPrefix(a, apiTokenFlag+"="):
			token, found = strings.TrimPrefix(a, apiTokenFlag+"="), true
		default:
			rest = append(rest, a)
		}
	}
	return token, rest, found
}

// warnAboutTokenInArgs logs once, from the process the operator started, that
// a token on the command line can be read by other local users
// (/proc/<pid>/cmdline, ps). _connector-service is started by the SDK with
// its parent's arguments; that parent has already warned.
func (inv invocation) warnAboutTokenInArgs(ctx context.Context) {
	if _, _, found := tokenInArgs(inv.args); !found || inv.command == "_connector-service" {
		return
	}
	inv.logger(ctx).Warn("--api-token on the command line can be read by every local user (ps, /proc/<pid>/cmdline) " +
		"for as long as the command runs; set BATON_API_TOKEN in the environment instead")
}

// logger is a logger configured as the SDK will configure its own from the
// same settings (--log-format, --log-level, --log-path).
func (inv invocation) logger(ctx context.Context) *zap.Logger {
	var opts []logging.Option
	if inv.v != nil {
		opts = append(opts, logging.WithLogFormat(inv.v.GetString("log-format")), logging.WithLogLevel(inv.v.GetString("log-level")))
		if paths := inv.v.GetStringSlice("log-path"); len(paths) > 0 {
			opts = append(opts, logging.WithOutputPaths(paths))
		}
	}
	if _, err := logging.Init(ctx, opts...); err != nil {
		return zap.NewNop()
	}
	return zap.L()
}

// logsToStderr says whether the SDK's log reaches stderr with these settings.
func logsToStderr(paths []string) bool {
	return len(paths) == 0 || slices.Contains(paths, "stderr")
}
