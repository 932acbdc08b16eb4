package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/scheduler"
)

type dashboardDigest struct {
	Name, Title, Schedule, Timezone string
	NextLocal, NextYours            string // the next slot in the digest's zone and the editor's
	Last                            *editionRow
	LastRates                       rates // what came back after the last edition
	Recent                          rates // ... after the editions of the last recentWindow
	Unfinished                      []int64
	Failing                         bool // the last edition has failed deliveries
}

type dashboardPage struct {
	Page
	Zone    string
	Days    int // recentWindow in days
	Digests []dashboardDigest
}

// The dashboard's complaint and bounce rates cover the editions started
// within recentWindow, recentMax of them at most.
const (
	recentWindow = 7 * 24 * time.Hour
	recentMax    = 500
)

// dashboard shows each digest: schedule, next slot, the last edition's
// counts, and what is unfinished or failing.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	loc := zone(rq.ed)
	now := h.now()
	data := dashboardPage{Page: h.pageOf(rq, "Dashboard", "dashboard"), Zone: loc.String(), Days: int(recentWindow.Hours() / 24)}
	recent, err := h.recentEditions(ctx, now.Add(-recentWindow))
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	var ids []int64
	for _, e := range recent {
		ids = append(ids, e.ID)
	}
	var lasts []model.Edition
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
			lasts = append(lasts, last)
			ids = append(ids, last.ID)
		}
		if dd.Unfinished, err = h.opt.Editions.UnfinishedEditionIDs(ctx, d.Name); err != nil {
			h.fail(w, r, rq, err)
			return
		}
		data.Digests = append(data.Digests, dd)
	}
	counts, err := h.opt.Lifecycle.EditionReports(ctx, ids)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	for i := range data.Digests {
		dd := &data.Digests[i]
		dd.Recent = ratesOf(0, nil)
		for _, e := range recent {
			if e.Digest == dd.Name {
				dd.Recent = dd.Recent.add(e.Counts[model.DeliverySent], counts[e.ID])
			}
		}
		for _, e := range lasts {
			if e.Digest == dd.Name {
				dd.LastRates = ratesOf(e.Counts[model.DeliverySent], counts[e.ID])
			}
		}
	}
	h.render(w, r, rq, http.StatusOK, "admin/dashboard", data)
}

// recentEditions returns the editions started since since, newest first,
// recentMax at most, a page of editions at a time (their counts come
// cached once settled).
func (h *Handler) recentEditions(ctx context.Context, since time.Time) ([]model.Edition, error) {
	const page = 50
	var out []model.Edition
	before := int64(0)
	for len(out) < recentMax {
		eds, err := h.opt.Editions.EditionPage(ctx, before, page)
		if err != nil {
			return nil, err
		}
		for _, e := range eds {
			if e.CreatedAt.Before(since) {
				return out, nil
			}
			out = append(out, e)
		}
		if len(eds) < page {
			break
		}
		before = eds[len(eds)-1].ID
	}
	return out, nil
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
