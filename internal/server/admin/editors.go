package admin

import (
	"net/http"

	"github.com/heraldnews/herald/internal/editor"
	"github.com/heraldnews/herald/internal/model"
)

type editorRow struct {
	Email, Name, Role, LastLogin string
	Self                         bool
}

type editorsPage struct {
	Page
	Rows    []editorRow
	Roles   []choice
	Problem string
	Added   string
}

// editors lists the accounts, with a form to add one (admins only).
func (h *Handler) editors(w http.ResponseWriter, r *http.Request, rq *request) {
	h.showEditors(w, r, rq, http.StatusOK, "", "")
}

func (h *Handler) showEditors(w http.ResponseWriter, r *http.Request, rq *request, status int, problem, added string) {
	eds, err := h.opt.Accounts.List(r.Context())
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	data := editorsPage{Page: h.pageOf(rq, "Editors", "editors"), Problem: problem, Added: added,
		Roles: []choice{{Value: model.RoleEditor, Label: "editor: preview, send, cancel, resume", Checked: true},
			{Value: model.RoleAdmin, Label: "admin: also subscribers and editor accounts"}}}
	loc := zone(rq.ed)
	for _, e := range eds {
		data.Rows = append(data.Rows, editorRow{Email: string(e.Email), Name: e.Name, Role: e.Role,
			LastLogin: when(e.LastLoginAt, loc), Self: e.ID == rq.ed.ID})
	}
	h.render(w, r, rq, status, "admin/editors", data)
}

// addEditor creates an account from the form.
func (h *Handler) addEditor(w http.ResponseWriter, r *http.Request, rq *request) {
	e, err := h.opt.Accounts.Add(r.Context(), editor.NewAccount{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"),
		Role: r.PostFormValue("role"), Password: r.PostFormValue("password")}, rq.actor())
	if err != nil {
		if code := model.ErrorCode(err); code == model.EINVALID || code == model.ECONFLICT {
			h.showEditors(w, r, rq, http.StatusBadRequest, model.ErrorMessage(err), "")
			return
		}
		h.fail(w, r, rq, err)
		return
	}
	h.showEditors(w, r, rq, http.StatusOK, "", string(e.Email))
}

// removeEditor deletes an account (never one's own, never the last admin).
func (h *Handler) removeEditor(w http.ResponseWriter, r *http.Request, rq *request) {
	email := r.PostFormValue("email")
	if addr, err := model.ParseAddress(email); err == nil && addr == rq.ed.Email {
		h.showEditors(w, r, rq, http.StatusBadRequest, "You cannot remove your own account here; use herald editors remove.", "")
		return
	}
	if err := h.opt.Accounts.Remove(r.Context(), email, rq.actor()); err != nil {
		if code := model.ErrorCode(err); code != model.EINTERNAL {
			h.showEditors(w, r, rq, http.StatusBadRequest, model.ErrorMessage(err), "")
			return
		}
		h.fail(w, r, rq, err)
		return
	}
	http.Redirect(w, r, "/admin/editors", http.StatusSeeOther)
}
