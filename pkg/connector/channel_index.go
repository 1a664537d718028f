package connector

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/baton-mattermost/baton-mattermost/pkg/mattermost"
	"github.com/grpc-ecosystem/go-grpc-middleware/logging/zap/ctxzap"
	"go.uber.org/zap"
)

// The SDK lists channels as children of each team, but listing a team's
// private channels (GET /teams/{id}/channels/private) costs a request per
// team, also for the many teams that have none. One walk of the server-wide
// search (POST /channels/search) finds every private channel with its
// team_id in a request per 200, so the first team's listing of a sync makes
// that walk and every team's listing is served from it, grouped by team.
//
// The index belongs to one sync (the SDK's sync id): a later sync, in the
// same service-mode process, walks again and sees the server as it is then.
// It holds at most maxIndexedChannels channels; a server with more, or one
// that refuses the search, has its teams listed one by one as before. It is
// dropped when no listing used it for channelIndexIdle (the sync ended or was
// abandoned), so a process holds at most one index, and not for long; a
// listing after that walks again.

// maxIndexedChannels bounds the index: ~20 MB of channels at worst (a
// purpose is at most 250 characters), and 125 search requests.
const maxIndexedChannels = 25_000

// channelIndexIdle drops an index no listing has used for this long.
const channelIndexIdle = 2 * time.Minute

// privateChannelIndex serves each team's private channels from one
// server-wide search per sync.
type privateChannelIndex struct {
	client *mattermost.Client
	// lock is held while reading or building the index; a channel, so that
	// a listing waiting for another's walk gives up when its call ends.
	lock   chan struct{}
	syncID string
	// byTeam are the live private channels by team id, each team's sorted
	// by id; nil when there is no index for syncID.
	byTeam map[string][]mattermost.Channel
	// perTeam is set when this sync lists each team's channels itself.
	perTeam   bool
	idle      *time.Timer
	idleAfter time.Duration // channelIndexIdle; shorter in tests
	// kept counts keep calls, so that a timer that fired just as the index
	// was used again leaves it be.
	kept int
}

func newPrivateChannelIndex(client *mattermost.Client) *privateChannelIndex {
	return &privateChannelIndex{client: client, lock: make(chan struct{}, 1), idleAfter: channelIndexIdle}
}

// teamChannels returns the live private channels of team teamID for sync
// syncID, walking the search first if this sync has no index yet. ok is
// false when this sync lists each team's channels itself.
func (x *privateChannelIndex) teamChannels(ctx context.Context, syncID, teamID string) ([]mattermost.Channel, bool, error) {
	select {
	case x.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	defer func() { <-x.lock }()
	if syncID != x.syncID || (x.byTeam == nil && !x.perTeam) {
		x.syncID, x.byTeam, x.perTeam = syncID, nil, false
		byTeam, err := x.build(ctx)
		if err != nil {
			return nil, false, err
		}
		x.byTeam, x.perTeam = byTeam, byTeam == nil
	}
	x.keep()
	if x.perTeam {
		return nil, false, nil
	}
	return x.byTeam[teamID], true, nil
}

// keep (re)starts the idle timer that drops the index.
func (x *privateChannelIndex) keep() {
	if x.idle != nil {
		x.idle.Stop()
	}
	x.kept++
	kept := x.kept
	x.idle = time.AfterFunc(x.idleAfter, func() {
		x.lock <- struct{}{}
		defer func() { <-x.lock }()
		if x.kept == kept {
			x.syncID, x.byTeam, x.perTeam = "", nil, false
		}
	})
}

// build walks the search to its end. It returns nil (and no error) when the
// teams are to be listed one by one: too many channels, or no search.
func (x *privateChannelIndex) build(ctx context.Context) (map[string][]mattermost.Channel, error) {
	l := ctxzap.Extract(ctx)
	byTeam := map[string][]mattermost.Channel{}
	seen := map[string]bool{}
	total := 0
	for cur, windows := (mattermost.Cursor{}), 1; ; windows++ {
		page, err := x.client.SearchPrivateChannels(ctx, cur)
		if notServed(err) {
			l.Info("baton-mattermost: the server does not serve the private channel search; listing each team's private channels", zap.Error(err))
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		total = max(total, page.Total)
		if total > maxIndexedChannels || len(seen) > maxIndexedChannels {
			l.Info("baton-mattermost: too many private channels to index; listing each team's private channels",
				zap.Int("private_channels", max(total, len(seen))), zap.Int("index_limit", maxIndexedChannels))
			return nil, nil
		}
		// Each window reads at least 100 new positions of the list, so a
		// walk longer than this is a server that does not page.
		if windows > total/(mattermost.PerPage/2)+10 {
			return nil, fmt.Errorf("the private channel search (POST /channels/search) did not end after %d requests "+
				"for %d channels: the server does not page it", windows, total)
		}
		for _, ch := range page.Items {
			if !seen[ch.ID] && ch.Type == mattermost.ChannelTypePrivate && !ch.IsArchived() {
				seen[ch.ID] = true
				byTeam[ch.TeamID] = append(byTeam[ch.TeamID], ch)
			}
		}
		if page.Next == nil {
			break
		}
		cur = *page.Next
	}
	for _, chs := range byTeam {
		slices.SortFunc(chs, func(a, b mattermost.Channel) int { return cmp.Compare(a.ID, b.ID) })
	}
	l.Debug("baton-mattermost: private channels indexed", zap.Int("channels", len(seen)), zap.Int("teams", len(byTeam)))
	return byTeam, nil
}
