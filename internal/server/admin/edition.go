package admin

import (
	"net/http"
	"strconv"

	"github.com/heraldnews/herald/internal/model"
)

// deliveryRow is one delivery as the edition page lists it, with the
// bounces and complaints reported on it after it left.
type deliveryRow struct {
	SubscriberID         int64
	Email, Name, Status  string
	Attempts             int
	Sent, NextAttempt    string
	LastReply, MessageID string
	Relay                string // the relay of its last attempt
	Events               []eventRow
}

type editionPage struct {
	Page
	Edition    editionRow
	Live       bool // still sending: the progress stream is worth opening
	Statuses   []statusLink
	Status     string // the filter, "" for all
	Deliveries []deliveryRow
	Next       int64 // cursor of the next page of deliveries
	CanResume  bool
	Admin      bool
	Reports    rates // what came back after this edition
}

type statusLink struct {
	Name, Label string
	Count       int
	Current     bool
}

const deliveriesPerPage = 50

// deliveryStatuses are the filters offered, in order.
var deliveryStatuses = []string{model.DeliveryPending, model.DeliverySent, model.DeliveryFailed, model.DeliverySkipped, model.DeliveryCancelled}

// edition shows one edition: its counts (live while it sends), then its
// deliveries filtered by status, a page at a time.
func (h *Handler) edition(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := pathID(r)
	if !ok {
		h.fail(w, r, rq, errNoSuchPage)
		return
	}
	ctx := r.Context()
	e, err := h.opt.Editions.EditionSummary(ctx, id)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	status := r.URL.Query().Get("status")
	known := status == ""
	for _, s := range deliveryStatuses {
		known = known || s == status
	}
	if !known {
		status = ""
	}
	after := cursor(r, "after")
	ds, err := h.opt.Editions.DeliveriesWithStatus(ctx, id, status, after, deliveriesPerPage+1)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	loc := zone(rq.ed)
	row := rowOf(e, loc)
	data := editionPage{Page: h.pageOf(rq, "Edition "+strconv.FormatInt(id, 10)+" of "+e.Digest, "editions"),
		Edition: row, Live: !row.Finished, Status: status, Admin: rq.ed.IsAdmin(),
		CanResume: !row.Finished}
	data.Statuses = append(data.Statuses, statusLink{Name: "", Label: "all", Count: row.Total, Current: status == ""})
	for _, s := range deliveryStatuses {
		data.Statuses = append(data.Statuses, statusLink{Name: s, Label: s, Count: e.Counts[s], Current: s == status})
	}
	if len(ds) > deliveriesPerPage {
		ds = ds[:deliveriesPerPage]
		data.Next = ds[len(ds)-1].ID
	}
	// The reports of this page's deliveries only: a seek per delivery,
	// however many the edition has.
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	evs, err := h.opt.Lifecycle.DeliveryEvents(ctx, ids)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	byDelivery := map[int64][]eventRow{}
	for _, ev := range evs {
		byDelivery[ev.DeliveryID] = append(byDelivery[ev.DeliveryID], eventRowOf(ev, loc))
	}
	counts, err := h.opt.Lifecycle.EditionReports(ctx, []int64{id})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	data.Reports = ratesOf(e.Counts[model.DeliverySent], counts[id])
	for _, d := range ds {
		dr := deliveryRow{SubscriberID: d.SubscriberID, Email: string(d.Email), Name: d.Name, Status: d.Status,
			Attempts: d.Attempts, Sent: when(d.SentAt, loc), LastReply: d.LastReply, MessageID: d.MessageID, Relay: d.Relay, NextAttempt: "-",
			Events: byDelivery[d.ID]}
		if d.Status == model.DeliveryPending && d.Attempts > 0 {
			dr.NextAttempt = when(d.NextAttemptAt, loc)
		}
		data.Deliveries = append(data.Deliveries, dr)
	}
	h.render(w, r, rq, http.StatusOK, "admin/edition", data)
}

// errNoSuchPage: a malformed id in the path.
var errNoSuchPage = &model.Error{Code: model.ENOTFOUND, Message: "There is no such page."}

// pathID reads the {id} path segment.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}
