package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"time"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
)

// sendNowBody is POST /api/send-now's JSON body: the CLI's flags.
type sendNowBody struct {
	Digest   string   `json:"digest"`
	Sections []string `json:"sections"`
	Authors  []string `json:"authors"`
	Since    string   `json:"since"` // a duration such as "6h"; empty: the digest's lookback
	DryRun   bool     `json:"dry_run"`
	// Section and Author are the CLI's flag names (--section, --author),
	// accepted too and merged into Sections and Authors.
	Section []string `json:"section"`
	Author  []string `json:"author"`
}

// sendNowAnswer answers POST /api/send-now.
type sendNowAnswer struct {
	EditionID int64          `json:"edition_id"`
	Digest    string         `json:"digest"`
	Status    string         `json:"status"`
	Counts    map[string]int `json:"counts"`
}

// sendNow starts an edition (202), or says why not: 400 bad input, 409 an
// edition of that digest is in progress.
func (h *Handler) sendNow(w http.ResponseWriter, r *http.Request) {
	var body sendNowBody
	if r.ContentLength != 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			web.JSONMessage(w, http.StatusUnsupportedMediaType, "send a JSON body (Content-Type: application/json)")
			return
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, web.MaxFormBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			web.JSONMessage(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
			return
		}
	}
	if body.DryRun {
		web.JSONMessage(w, http.StatusBadRequest, "dry_run is available from the CLI (herald send-now --dry-run)")
		return
	}
	req := digest.SendNowRequest{Digest: body.Digest, Sections: append(body.Sections, body.Section...),
		Authors: append(body.Authors, body.Author...), Wait: 10 * time.Minute}
	if body.Since != "" {
		d, err := time.ParseDuration(body.Since)
		if err != nil || d <= 0 {
			web.JSONMessage(w, http.StatusBadRequest, "since must be a positive duration such as 6h")
			return
		}
		req.Since = d
	}
	id, _, err := h.opt.Editions.StartSendNow(r.Context(), req)
	if err != nil {
		web.JSONError(w, h.opt.Log, err)
		return
	}
	if h.opt.Audit != nil {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		h.opt.Audit(r.Context(), "send_now", fmt.Sprintf("edition %d", id), req.Describe(), host)
	}
	out := sendNowAnswer{EditionID: id, Status: model.EditionSending, Digest: req.Digest, Counts: map[string]int{}}
	if e, err := h.opt.Store.Edition(r.Context(), id); err == nil {
		out.Digest, out.Status = e.Digest, e.Status
		if e.Counts != nil {
			out.Counts = e.Counts
		}
	}
	web.JSON(w, http.StatusAccepted, out)
}
