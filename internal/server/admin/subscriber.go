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
	Events                                       []eventRow // bounces and complaints reported on it
}

type subscriberPage struct {
	Page
	Sub           subscriberRow
	Suppressions  []suppressionRow // the entries that keep the address from mail
	Subscriptions []subscriptionRow
	History       []historyRow
	Other         []eventRow // reports on transactional mail, older deliveries or matched by address only
}

// subscriberEvents is how many of a subscriber's latest reports the page
// reads (beside their latest subscriberHistory deliveries).
const (
	subscriberHistory = 50
	subscriberEvents  = 50
)

// subscriber shows one subscriber: what keeps them from mail (their
// suppression entries), subscriptions with their follows, and their most
// recent deliveries with the bounces and complaints reported on each.
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
	hist, err := h.opt.Subscribers.SubscriberDeliveries(ctx, id, subscriberHistory)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	evs, err := h.opt.Lifecycle.SubscriberEvents(ctx, id, subscriberEvents)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	supps, err := h.suppressionsOf(r, rq, s.Email)
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
	data.Suppressions = supps
	byDelivery := map[int64]int{} // delivery id -> index in History
	for _, d := range hist {
		byDelivery[d.ID] = len(data.History)
		data.History = append(data.History, historyRow{EditionID: d.EditionID, Digest: d.Digest, Kind: d.Kind, Status: d.Status,
			Sent: when(d.SentAt, loc), Reply: d.LastReply, MessageID: d.MessageID, Attempts: d.Attempts, Articles: len(d.ArticleIDs)})
	}
	for i := len(evs) - 1; i >= 0; i-- { // oldest first under each delivery
		ev := evs[i]
		if at, ok := byDelivery[ev.DeliveryID]; ok && ev.DeliveryID != 0 {
			data.History[at].Events = append(data.History[at].Events, eventRowOf(ev, loc))
		}
	}
	for _, ev := range evs {
		if _, ok := byDelivery[ev.DeliveryID]; !ok || ev.DeliveryID == 0 {
			data.Other = append(data.Other, eventRowOf(ev, loc))
		}
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
