package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// progressEvent is one update of the progress stream.
type progressEvent struct {
	Status    string  `json:"status"`
	Total     int     `json:"total"`
	Sent      int     `json:"sent"`
	Skipped   int     `json:"skipped"`
	Failed    int     `json:"failed"`
	Pending   int     `json:"pending"` // left to send, or waiting for a retry
	Cancelled int     `json:"cancelled"`
	Rate      float64 `json:"rate"`          // messages a second over the last readings
	ETA       string  `json:"eta,omitempty"` // estimated end, in the editor's zone
	Done      bool    `json:"done"`
}

// editionEvents streams an edition's progress as Server-Sent Events, read
// from the database every admin.progress_interval, so it shows editions
// any process sends. The stream clears the server's write timeout (it
// lasts as long as the edition) and ends when the edition finishes, the
// browser goes away, or the session ends (logout, idle time, lifetime, a
// password change), checked at every reading.
func (h *Handler) editionEvents(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := pathID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	ctx := r.Context()
	rc := http.NewResponseController(w)
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		h.log.Debug("progress stream: write deadline not cleared", "err", err)
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Accel-Buffering", "no")
	loc := zone(rq.ed)
	var (
		total   int
		last    progressEvent
		history []reading // the last readings, for the rate
		sentAny bool
	)
	tick := time.NewTicker(h.tick)
	defer tick.Stop()
	keepAlive := time.Now()
	for {
		status, c, n, err := h.opt.Editions.EditionProgress(ctx, id, total)
		if err != nil {
			if ctx.Err() == nil {
				if model.ErrorCode(err) == model.ENOTFOUND {
					http.NotFound(w, r)
				} else {
					h.log.Warn("progress stream failed", "edition", id, "err", err)
				}
			}
			return
		}
		total = n
		all := 0
		for _, k := range c {
			all += k
		}
		ev := progressEvent{Status: status, Total: all, Sent: c[model.DeliverySent], Skipped: c[model.DeliverySkipped],
			Failed: c[model.DeliveryFailed], Pending: c[model.DeliveryPending], Cancelled: c[model.DeliveryCancelled],
			Done: status == model.EditionDone || status == model.EditionCancelled}
		now := h.now()
		history = append(history, reading{at: now, done: ev.Sent + ev.Failed})
		if len(history) > 10 {
			history = history[1:]
		}
		ev.Rate = rate(history)
		if ev.Rate > 0 && ev.Pending > 0 && !ev.Done {
			ev.ETA = now.Add(time.Duration(float64(ev.Pending) / ev.Rate * float64(time.Second))).In(loc).Format("15:04:05 MST")
		}
		if ev != last || !sentAny || time.Since(keepAlive) > 15*time.Second {
			b, _ := json.Marshal(ev)
			if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			last, sentAny, keepAlive = ev, true, time.Now()
		}
		if ev.Done {
			fmt.Fprint(w, "event: done\ndata: {}\n\n")
			_ = rc.Flush()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-h.stopping:
			return // the server is shutting down: let it
		case <-tick.C:
		}
		if !h.stillSignedIn(r, rq) { // logged out, expired or password changed meanwhile
			fmt.Fprint(w, "event: ended\ndata: {}\n\n")
			_ = rc.Flush()
			return
		}
	}
}

type reading struct {
	at   time.Time
	done int
}

// rate is messages a second between the oldest and newest readings.
func rate(hs []reading) float64 {
	if len(hs) < 2 {
		return 0
	}
	first, last := hs[0], hs[len(hs)-1]
	secs := last.at.Sub(first.at).Seconds()
	if secs <= 0 || last.done <= first.done {
		return 0
	}
	return float64(last.done-first.done) / secs
}
