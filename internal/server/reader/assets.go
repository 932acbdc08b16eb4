package reader

import (
	_ "embed"
	"net/http"
	"strconv"
)

// zoneJS sets the time zone field from the browser's zone (Intl).
//
//go:embed static/zone.js
var zoneJS []byte

// asset serves /assets/{file}: the pages' stylesheet (templates' reader.css,
// or templates_dir's) and the zone script. The pages' policy allows no
// inline style or script, so these are files.
func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	var (
		b     []byte
		ctype string
	)
	switch r.PathValue("file") {
	case "reader.css":
		b, ctype = h.css, "text/css; charset=utf-8"
	case "zone.js":
		b, ctype = zoneJS, "text/javascript; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("Cache-Control", "public, max-age=3600")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
