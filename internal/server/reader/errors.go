package reader

import (
	"errors"
	"net/http"

	"github.com/heraldnews/herald/archive"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
	"github.com/heraldnews/herald/subscription"
)

// errorKeys are the catalogue keys of the domain errors a reader can meet:
// each is shown in the site's language, whatever more specific English
// message the error carries (the log and the CLI keep that).
var errorKeys = []struct {
	err error
	key string
}{
	{subscription.ErrBadLink, "error.bad_link"},
	{subscription.ErrExpiredLink, "error.expired_link"},
	{subscription.ErrNoSubscription, "error.no_subscription"},
	{subscription.ErrNoSubscriber, "error.no_subscriber"},
	{subscription.ErrSuppressed, "error.suppressed"},
	{subscription.ErrUnknownDigest, "error.unknown_digest"},
	{subscription.ErrUnknownSlug, "error.unknown_slug"},
	{subscription.ErrUnknownTimezone, "error.unknown_timezone"},
	{subscription.ErrUndoGone, "error.undo_gone"},
	{model.ErrInvalidAddress, "subscribe.bad_email"},
	{archive.ErrNotFound, "archive.not_found"},
	{archive.ErrNoArchive, "archive.no_archive"},
}

// problem is web's mapping of err in the site's language: the heading by
// its code, the message by its sentinel. A domain error without a
// sentinel here keeps its own message (the page's own checks, already in
// the catalogue's words).
func (h *Handler) problem(err error) web.Problem {
	p := h.opt.Pages.Problem(err)
	if p.Status == http.StatusInternalServerError {
		return p
	}
	for _, k := range errorKeys {
		if errors.Is(err, k.err) {
			p.Message = h.t(k.key)
			return p
		}
	}
	return p
}
