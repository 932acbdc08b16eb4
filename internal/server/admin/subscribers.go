package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

type subscriberRow struct {
	ID                                int64
	Email, Name, Status, Since, Added string
}

type subscribersPage struct {
	Page
	Q, Status, Digest string
	Statuses          []choice
	Digests           []choice
	Rows              []subscriberRow
	NextURL           string // the next (older) page, "" for none
	Filtered          bool
}

const subscribersPerPage = 50

// subscriberStatuses are the filters offered; the lifecycle's statuses
// join here as the store learns them.
var subscriberStatuses = []string{model.SubscriberActive, model.SubscriberPending, model.SubscriberBounced, model.SubscriberErased}

// subscribers searches the list: an address prefix, a status, a digest;
// newest first, a page at a time by id (keyset: no OFFSET, no count), so a
// page costs the same at a million subscribers as at a thousand.
func (h *Handler) subscribers(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	data := subscribersPage{Page: h.pageOf(rq, "Subscribers", "subscribers"),
		Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Digest: q.Get("digest")}
	if !has(subscriberStatuses, data.Status) {
		data.Status = ""
	}
	if _, ok := h.cfg.Digest(data.Digest); !ok || data.Digest == "" {
		data.Digest = ""
	}
	data.Filtered = data.Q != "" || data.Status != "" || data.Digest != ""
	data.Statuses = append(data.Statuses, choice{Value: "", Label: "any status", Checked: data.Status == ""})
	for _, s := range subscriberStatuses {
		data.Statuses = append(data.Statuses, choice{Value: s, Label: s, Checked: s == data.Status})
	}
	data.Digests = append(data.Digests, choice{Value: "", Label: "any digest", Checked: data.Digest == ""})
	for _, d := range h.cfg.Digests {
		data.Digests = append(data.Digests, choice{Value: d.Name, Label: d.Title, Checked: d.Name == data.Digest})
	}
	subs, err := h.opt.Subscribers.SearchSubscribers(r.Context(), model.SubscriberQuery{Email: data.Q, Status: data.Status,
		Digest: data.Digest, Before: cursor(r, "before"), Limit: subscribersPerPage + 1})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if len(subs) > subscribersPerPage {
		subs = subs[:subscribersPerPage]
		next := url.Values{"q": {data.Q}, "status": {data.Status}, "digest": {data.Digest},
			"before": {strconv.FormatInt(subs[len(subs)-1].ID, 10)}}
		data.NextURL = "/admin/subscribers?" + next.Encode()
	}
	loc := zone(rq.ed)
	for _, s := range subs {
		data.Rows = append(data.Rows, subscriberRow{ID: s.ID, Email: string(s.Email), Name: s.Name, Status: s.Status,
			Added: when(s.CreatedAt, loc), Since: when(s.ConfirmedAt, loc)})
	}
	h.render(w, r, rq, http.StatusOK, "admin/subscribers", data)
}
