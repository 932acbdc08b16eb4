package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/heraldnews/herald/internal/server/web"
)

// edition is one edition in GET /api/editions.
type edition struct {
	ID         int64          `json:"id"`
	Digest     string         `json:"digest"`
	Kind       string         `json:"kind"`
	Slot       string         `json:"slot,omitempty"`
	Status     string         `json:"status"`
	Cutoff     time.Time      `json:"cutoff"`
	Since      time.Time      `json:"since"`
	CreatedAt  time.Time      `json:"created_at"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	Counts     map[string]int `json:"counts"`
}

// editions lists recent editions, newest first (?limit=1..1000, default 20).
func (h *Handler) editions(w http.ResponseWriter, r *http.Request) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			web.JSONMessage(w, http.StatusBadRequest, "limit must be between 1 and 1000")
			return
		}
		limit = n
	}
	eds, err := h.opt.Store.Editions(r.Context(), "", limit)
	if err != nil {
		web.JSONError(w, h.opt.Log, err)
		return
	}
	out := make([]edition, 0, len(eds))
	for _, e := range eds {
		ed := edition{ID: e.ID, Digest: e.Digest, Kind: e.Kind, Slot: e.Slot, Status: e.Status,
			Cutoff: e.Cutoff.UTC(), Since: e.Since.UTC(), CreatedAt: e.CreatedAt.UTC(), Counts: e.Counts}
		if !e.FinishedAt.IsZero() {
			f := e.FinishedAt.UTC()
			ed.FinishedAt = &f
		}
		if ed.Counts == nil {
			ed.Counts = map[string]int{}
		}
		out = append(out, ed)
	}
	web.JSON(w, http.StatusOK, map[string]any{"editions": out})
}
