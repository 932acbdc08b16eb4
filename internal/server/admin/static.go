package admin

import (
	"embed"
	"mime"
	"net/http"
	"path"
)

// staticFS holds the admin's stylesheet and script: files, since the
// policy allows no inline style or script.
//
//go:embed static
var staticFS embed.FS

// static serves /admin/static/{file}; no session is needed (the login page
// uses the stylesheet).
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || path.Base(name) != name {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
