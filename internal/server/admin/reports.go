package admin

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// What came back after sending, as the pages show it: each bounce or
// complaint event, and per edition the rates the mailbox providers judge a
// sender by.

// Thresholds. Gmail asks bulk senders to keep the spam complaint rate
// below 0.1% and never to reach 0.3%; Yahoo's limit is 0.3% too. Hard
// bounces at 2% or more of the mail delivered mean a list that needs
// cleaning (a common relay threshold; no provider publishes one).
const (
	complaintWarn = 0.001
	complaintMax  = 0.003
	hardBounceMax = 0.02
)

// reportsFresh is how long the pages reuse an edition's report counts:
// complaints keep arriving for days after an edition, a minute late is
// fine, and counting a million-reader edition's events on every view of
// the dashboard is not.
const reportsFresh = time.Minute

// rates are an edition's (or several editions') reports against the
// messages delivered.
type rates struct {
	Delivered, Complaints, Hard, Soft int
	ComplaintRate, HardRate           string // "0.12%", "-" when nothing was delivered
	// Level is "" (fine), "warn" (complaints at Gmail's advised 0.1% or
	// more) or "bad" (complaints at the 0.3% bulk-sender limit or more).
	Level      string
	BounceHigh bool // hard bounces at 2% or more
}

func ratesOf(delivered int, counts map[string]int) rates {
	r := rates{Delivered: delivered, Complaints: counts[model.ReportComplaint], Hard: counts[model.ReportHard],
		Soft: counts[model.ReportSoft], ComplaintRate: "-", HardRate: "-"}
	if delivered <= 0 {
		return r
	}
	c, h := float64(r.Complaints)/float64(delivered), float64(r.Hard)/float64(delivered)
	r.ComplaintRate, r.HardRate = percent(c), percent(h)
	switch {
	case c >= complaintMax:
		r.Level = "bad"
	case c >= complaintWarn:
		r.Level = "warn"
	}
	r.BounceHigh = h >= hardBounceMax
	return r
}

// add sums two editions' rates.
func (r rates) add(delivered int, counts map[string]int) rates {
	return ratesOf(r.Delivered+delivered, map[string]int{model.ReportComplaint: r.Complaints + counts[model.ReportComplaint],
		model.ReportHard: r.Hard + counts[model.ReportHard], model.ReportSoft: r.Soft + counts[model.ReportSoft]})
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" }

// eventRow is one bounce or complaint event as the pages list it.
type eventRow struct {
	Kind, Status, Diagnostic, Source, When string
	DeliveryID, MailID                     int64
}

func eventRowOf(ev model.BounceEvent, loc *time.Location) eventRow {
	return eventRow{Kind: ev.Kind, Status: orDash(ev.Status), Diagnostic: ev.Diagnostic, Source: orDash(ev.Source),
		When: when(ev.CreatedAt, loc), DeliveryID: ev.DeliveryID, MailID: ev.MailID}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// reportCache keeps editions' report counts for reportsFresh.
type reportCache struct {
	mu    sync.Mutex
	fresh time.Duration
	now   func() time.Time
	items map[int64]cachedReports
}

type cachedReports struct {
	counts map[string]int
	at     time.Time
}

func newReportCache(fresh time.Duration, now func() time.Time) *reportCache {
	return &reportCache{fresh: fresh, now: now, items: map[int64]cachedReports{}}
}

// counts returns the report counts of editions ids, reading those not
// cached (or cached too long ago) from st in one query.
func (c *reportCache) counts(ctx context.Context, st LifecycleStore, ids []int64) (map[int64]map[string]int, error) {
	out := make(map[int64]map[string]int, len(ids))
	var missing []int64
	c.mu.Lock()
	now := c.now()
	for _, id := range ids {
		if it, ok := c.items[id]; ok && now.Sub(it.at) < c.fresh {
			out[id] = it.counts
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := st.EditionReports(ctx, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, it := range c.items {
		if now.Sub(it.at) >= c.fresh {
			delete(c.items, id)
		}
	}
	for _, id := range missing {
		counts := got[id]
		if counts == nil {
			counts = map[string]int{}
		}
		out[id] = counts
		c.items[id] = cachedReports{counts: counts, at: now}
	}
	return out, nil
}
