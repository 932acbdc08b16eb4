package admin

import (
	"strconv"
	"strings"
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

// Summary says the reports in words: "1 complaint (0.10%), 3 hard
// bounces (0.30%), 2 soft bounces", or "nothing reported".
func (r rates) Summary() string {
	var parts []string
	if r.Complaints > 0 {
		parts = append(parts, plural(r.Complaints, "complaint")+" ("+r.ComplaintRate+")")
	}
	if r.Hard > 0 {
		parts = append(parts, plural(r.Hard, "hard bounce")+" ("+r.HardRate+")")
	}
	if r.Soft > 0 {
		parts = append(parts, plural(r.Soft, "soft bounce"))
	}
	if len(parts) == 0 {
		return "nothing reported"
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" }

// eventRow is one bounce or complaint event as the pages list it.
type eventRow struct {
	Kind, Status, Diagnostic, Source, When string
	DeliveryID, MailID                     int64
}

func eventRowOf(ev model.BounceEvent, loc *time.Location) eventRow {
	return eventRow{Kind: ev.Kind, Status: ev.Status, Diagnostic: ev.Diagnostic, Source: orDash(ev.Source),
		When: when(ev.CreatedAt, loc), DeliveryID: ev.DeliveryID, MailID: ev.MailID}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
