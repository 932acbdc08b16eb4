package admin

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/subscription"
)

type importPage struct {
	Page
	Done        bool
	File        string
	Resubscribe bool
	Report      subscription.ImportReport
	SkippedBy   []skipCount
	Skipped     []skipRow
}

type skipCount struct {
	Reason string
	Count  int
}

type skipRow struct {
	Line         int
	Reason, Hint string
}

// importForm shows the CSV upload form.
func (h *Handler) importForm(w http.ResponseWriter, r *http.Request, rq *request) {
	h.render(w, r, rq, http.StatusOK, "admin/import", importPage{Page: h.pageOf(rq, "Import subscribers", "subscribers")})
}

// importCSV imports an uploaded CSV exactly as herald subscribers import
// does (resubscribe is its --resubscribe), and shows the same report: rows
// added and updated, rows skipped to keep an opt-out by reason, and each
// skipped or bad row with its line and reason.
func (h *Handler) importCSV(w http.ResponseWriter, r *http.Request, rq *request) {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		h.fail(w, r, rq, &model.Error{Code: model.EINVALID, Message: "Choose a CSV file to import."})
		return
	}
	defer f.Close()
	opt := subscription.ImportOptions{Resubscribe: r.PostFormValue("resubscribe") == "yes"}
	rep, err := h.opt.Lists.ImportWith(r.Context(), f, opt)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	detail := "imported " + strconv.Itoa(rep.Imported) + ", bad " + strconv.Itoa(len(rep.Bad)) + ", skipped " + strconv.Itoa(len(rep.Skipped))
	if opt.Resubscribe {
		detail += ", resubscribe"
	}
	h.opt.Accounts.Record(r.Context(), rq.actor(), "import", hdr.Filename, detail)
	data := importPage{Page: h.pageOf(rq, "Import report", "subscribers"), Done: true, File: hdr.Filename,
		Resubscribe: opt.Resubscribe, Report: rep}
	for reason, n := range rep.SkippedBy() {
		data.SkippedBy = append(data.SkippedBy, skipCount{Reason: reason, Count: n})
	}
	slices.SortFunc(data.SkippedBy, func(a, b skipCount) int { return strings.Compare(a.Reason, b.Reason) })
	for _, sk := range rep.Skipped {
		data.Skipped = append(data.Skipped, skipRow{Line: sk.Line, Reason: sk.Reason, Hint: skipHint(sk.Reason, opt.Resubscribe)})
	}
	h.render(w, r, rq, http.StatusOK, "admin/import", data)
}

// skipHint says how to undo a skip, when there is a way (the CLI's hints,
// in the page's words).
func skipHint(reason string, resubscribe bool) string {
	switch reason {
	case model.SubscriptionUnsubscribed:
		if !resubscribe {
			return "The reader unsubscribed; import again with \"reactivate unsubscribed\" ticked only if they asked to come back."
		}
	case model.SubscriberBounced, model.SubscriberComplained, model.SuppressedOperator:
		return "On the suppression list: see Suppressions."
	case model.SubscriberErased:
		return "The reader asked to be forgotten; only their own double opt-in brings them back."
	}
	return ""
}
