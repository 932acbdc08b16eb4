package admin

import (
	"net/http"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

type subscriptionRow struct {
	Digest, Status, Follows string
}

type historyRow struct {
	EditionID                                    int64
	Digest, Kind, Status, Sent, Reply, MessageID string
	Attempts, Articles                           int
}

type subscriberPage struct {
	Page
	Sub           subscriberRow
	Subscriptions []subscriptionRow
	History       []historyRow
}

// subscriber shows one subscriber: subscriptions with their follows, and
// their most recent deliveries.
func (h *Handler) subscriber(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := pathID(r)
	if !ok {
		h.fail(w, r, rq, errNoSuchPage)
		return
	}
	ctx := r.Context()
	s, err := h.opt.Subscribers.SubscriberByID(ctx, id)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	subs, err := h.opt.Subscribers.SubscriptionsOf(ctx, id)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	hist, err := h.opt.Subscribers.SubscriberDeliveries(ctx, id, 50)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	loc := zone(rq.ed)
	data := subscriberPage{Page: h.pageOf(rq, string(s.Email), "subscribers"),
		Sub: subscriberRow{ID: s.ID, Email: string(s.Email), Name: s.Name, Status: s.Status, Added: when(s.CreatedAt, loc), Since: when(s.ConfirmedAt, loc)}}
	for _, su := range subs {
		data.Subscriptions = append(data.Subscriptions, subscriptionRow{Digest: su.Digest, Status: su.Status, Follows: follows(su)})
	}
	for _, d := range hist {
		data.History = append(data.History, historyRow{EditionID: d.EditionID, Digest: d.Digest, Kind: d.Kind, Status: d.Status,
			Sent: when(d.SentAt, loc), Reply: d.LastReply, MessageID: d.MessageID, Attempts: d.Attempts, Articles: len(d.ArticleIDs)})
	}
	h.render(w, r, rq, http.StatusOK, "admin/subscriber", data)
}

// follows says what a subscription follows.
func follows(su model.Subscription) string {
	if su.FollowsAll() {
		return "everything"
	}
	var parts []string
	if len(su.Sections) > 0 {
		parts = append(parts, "sections "+strings.Join(su.Sections, ", "))
	}
	if len(su.Authors) > 0 {
		parts = append(parts, "authors "+strings.Join(su.Authors, ", "))
	}
	return strings.Join(parts, "; ")
}
