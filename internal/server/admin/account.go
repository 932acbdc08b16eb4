package admin

import (
	"net/http"

	"github.com/heraldnews/herald/internal/model"
)

type accountPage struct {
	Page
	Done    bool
	Problem string
}

// account shows the editor's own account and the change-password form.
func (h *Handler) account(w http.ResponseWriter, r *http.Request, rq *request) {
	h.render(w, r, rq, http.StatusOK, "admin/account", accountPage{Page: h.pageOf(rq, "Your account", "account")})
}

// changePassword changes the editor's own password. Every session of
// theirs ends (the account's session generation moves on); this one
// carries on under a new token.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, rq *request) {
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("repeat") {
		h.render(w, r, rq, http.StatusBadRequest, "admin/account", accountPage{Page: h.pageOf(rq, "Your account", "account"),
			Problem: "The two new passwords differ."})
		return
	}
	ed, err := h.opt.Accounts.ChangePassword(r.Context(), rq.ed.ID, r.PostFormValue("current"), pw, rq.actor())
	if err != nil {
		if model.ErrorCode(err) == model.EINVALID {
			h.render(w, r, rq, http.StatusBadRequest, "admin/account", accountPage{Page: h.pageOf(rq, "Your account", "account"),
				Problem: model.ErrorMessage(err)})
			return
		}
		h.fail(w, r, rq, err)
		return
	}
	if err := h.startSession(r, ed); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	rq = &request{ed: ed, csrf: h.sm.GetString(r.Context(), keyCSRF), client: rq.client}
	h.render(w, r, rq, http.StatusOK, "admin/account", accountPage{Page: h.pageOf(rq, "Your account", "account"), Done: true})
}

// setTimezone sets the zone the editor's pages show times in.
func (h *Handler) setTimezone(w http.ResponseWriter, r *http.Request, rq *request) {
	if err := h.opt.Accounts.SetTimezone(r.Context(), rq.ed.ID, r.PostFormValue("timezone")); err != nil {
		if model.ErrorCode(err) == model.EINVALID {
			h.render(w, r, rq, http.StatusBadRequest, "admin/account", accountPage{Page: h.pageOf(rq, "Your account", "account"),
				Problem: model.ErrorMessage(err)})
			return
		}
		h.fail(w, r, rq, err)
		return
	}
	http.Redirect(w, r, "/admin/account", http.StatusSeeOther)
}
