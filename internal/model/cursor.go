package model

import "time"

// ReaderCursor is one reader's position in a `delivery: local` digest: how
// far their digests have covered the articles, and the last scheduled slot
// planned for them with the zone group it belonged to.
type ReaderCursor struct {
	SubscriberID int64
	Through      time.Time // covered up to here: the cutoff of the last edition that planned them
	SlotAt       time.Time // the last scheduled slot planned for them (zero: none yet)
	Zone         string    // that slot's zone group
}

// CursorMove is a planned delivery together with the cursor move it
// implies: the delivery is recorded only if the reader's cursor still is
// From (Found false: the reader had none), and the cursor becomes To in
// the same transaction. Two planners that read the same cursor (two zone
// groups racing over a reader who just changed zone) thus plan the reader
// once.
type CursorMove struct {
	Delivery Delivery
	Found    bool
	From, To ReaderCursor
}
