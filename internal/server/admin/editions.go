package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// editionRow is an edition as the pages list it.
type editionRow struct {
	ID                                               int64
	Digest, Kind, Status, Created, Window            string
	Filters                                          string // send-now's --section/--author, "" for none
	Sent, Skipped, Failed, Pending, Cancelled, Total int
	Finished                                         bool
}

func rowOf(e model.Edition, loc *time.Location) editionRow {
	c := e.Counts
	r := editionRow{ID: e.ID, Digest: e.Digest, Kind: e.Kind, Status: e.Status, Created: when(e.CreatedAt, loc),
		Window: when(e.Since, loc) + " to " + when(e.Cutoff, loc),
		Sent:   c[model.DeliverySent], Skipped: c[model.DeliverySkipped], Failed: c[model.DeliveryFailed],
		Pending: c[model.DeliveryPending], Cancelled: c[model.DeliveryCancelled],
		Finished: e.Status == model.EditionDone || e.Status == model.EditionCancelled}
	if e.Kind == model.EditionScheduled && e.Slot != "" {
		r.Kind = "scheduled " + e.Slot
	}
	for _, n := range c {
		r.Total += n
	}
	var f []string
	for _, s := range e.Sections {
		f = append(f, "section "+s)
	}
	for _, a := range e.Authors {
		f = append(f, "author "+a)
	}
	r.Filters = strings.Join(f, ", ")
	return r
}

type editionsPage struct {
	Page
	Editions []editionRow
	Next     int64 // the cursor of the next (older) page, 0 for none
}

const editionsPerPage = 30

// editions lists editions newest first, a page at a time (keyset on id).
func (h *Handler) editions(w http.ResponseWriter, r *http.Request, rq *request) {
	before := cursor(r, "before")
	eds, err := h.opt.Editions.EditionPage(r.Context(), before, editionsPerPage+1)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	data := editionsPage{Page: h.pageOf(rq, "Editions", "editions")}
	if len(eds) > editionsPerPage {
		eds = eds[:editionsPerPage]
		data.Next = eds[len(eds)-1].ID
	}
	loc := zone(rq.ed)
	for _, e := range eds {
		data.Editions = append(data.Editions, rowOf(e, loc))
	}
	h.render(w, r, rq, http.StatusOK, "admin/editions", data)
}

// cursor reads a positive id from the query (0 when absent or bad).
func cursor(r *http.Request, key string) int64 {
	n, err := strconv.ParseInt(r.URL.Query().Get(key), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }
