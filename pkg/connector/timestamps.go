package connector

import "time"

// msToTime reads Mattermost's timestamps: Unix milliseconds.
func msToTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
