package admin

import (
	"net/http"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/scheduler"
)

type dashboardDigest struct {
	Name, Title, Schedule, Timezone string
	NextLocal, NextYours            string // the next slot in the digest's zone and the editor's
	Last                            *editionRow
	Unfinished                      []int64
	Failing                         bool // the last edition has failed deliveries
}

type dashboardPage struct {
	Page
	Zone    string
	Digests []dashboardDigest
}

// dashboard shows each digest: schedule, next slot, the last edition's
// counts, and what is unfinished or failing.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	loc := zone(rq.ed)
	now := h.now()
	data := dashboardPage{Page: h.pageOf(rq, "Dashboard", "dashboard"), Zone: loc.String()}
	for _, d := range h.cfg.Digests {
		dd := dashboardDigest{Name: d.Name, Title: d.Title, Schedule: d.Schedule, Timezone: d.Timezone, NextLocal: "-", NextYours: "-"}
		if sched, err := d.CronSchedule(); err == nil {
			if next, ok := scheduler.NextSlot(sched, d.Location(), now); ok {
				dd.NextLocal = next.At.In(d.Location()).Format("Mon 2 Jan 15:04 MST")
				dd.NextYours = next.At.In(loc).Format("Mon 2 Jan 15:04 MST") + " (in " + roughly(next.At.Sub(now)) + ")"
			}
		}
		last, ok, err := h.opt.Editions.LatestEdition(ctx, d.Name)
		if err != nil {
			h.fail(w, r, rq, err)
			return
		}
		if ok {
			row := rowOf(last, loc)
			dd.Last = &row
			dd.Failing = last.Counts[model.DeliveryFailed] > 0
		}
		if dd.Unfinished, err = h.opt.Editions.UnfinishedEditionIDs(ctx, d.Name); err != nil {
			h.fail(w, r, rq, err)
			return
		}
		data.Digests = append(data.Digests, dd)
	}
	h.render(w, r, rq, http.StatusOK, "admin/dashboard", data)
}

// roughly says a duration the way a person would: "3h 20m", "45m", "2d 4h".
func roughly(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	switch {
	case days > 0:
		return itoa(days) + "d " + itoa(hours) + "h"
	case hours > 0:
		return itoa(hours) + "h " + itoa(mins) + "m"
	default:
		return itoa(mins) + "m"
	}
}
