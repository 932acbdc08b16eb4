package subscription

import (
	"context"
	"errors"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// UndoStore keeps what a reader's subscriptions were before an
// unsubscribe, for the undo link (internal/store).
type UndoStore interface {
	// SaveUndo keeps subs until expires and returns the snapshot's id.
	SaveUndo(ctx context.Context, subscriberID int64, subs []model.Subscription, expires time.Time) (int64, error)
	// Undo returns a snapshot: whose it is and what it kept (ENOTFOUND once gone).
	Undo(ctx context.Context, id int64) (int64, []model.Subscription, error)
	// ClaimUndo removes a snapshot for its one restore (false: gone already).
	ClaimUndo(ctx context.Context, id int64) (bool, error)
	// DropUndos removes every snapshot of a subscriber.
	DropUndos(ctx context.Context, subscriberID int64) error
}

// UndoTTL is how long an undo link works.
const UndoTTL = 30 * 24 * time.Hour

// ErrUndoGone: the snapshot an undo link names is gone (expired, or the
// reader erased).
var ErrUndoGone = &model.Error{Code: model.ENOTFOUND, Message: "This undo link no longer applies. You can choose your newsletters on the preferences page."}

// Restoration is what an undo link names: whose subscriptions it restores
// and the titles of the digests that were active.
type Restoration struct {
	Subscriber   model.Subscriber
	DigestTitles []string
	subs         []model.Subscription
	id           int64 // the snapshot
}

// snapshot keeps sub's subscriptions as they are and returns the undo
// link's token ("" without an UndoStore).
func (s *Service) snapshot(ctx context.Context, subscriberID int64, subs []model.Subscription) (string, error) {
	if s.opt.Undo == nil {
		return "", nil
	}
	id, err := s.opt.Undo.SaveUndo(ctx, subscriberID, subs, s.now().Add(UndoTTL))
	if err != nil {
		return "", err
	}
	return s.tokens.Make(token.Undo, id, UndoTTL), nil
}

// UndoTarget returns what an undo link (tok) restores, changing nothing.
func (s *Service) UndoTarget(ctx context.Context, tok string) (Restoration, error) {
	var r Restoration
	id, err := s.verify(tok, token.Undo)
	r.id = id
	if errors.Is(err, ErrExpiredLink) {
		// Past its 30 days the snapshot is gone too. The link was shown
		// on a page, never mailed: "use the link in a more recent email"
		// would send the reader looking for one that does not exist.
		return r, ErrUndoGone
	}
	if err != nil {
		return r, err
	}
	if s.opt.Undo == nil {
		return r, ErrUndoGone
	}
	subID, subs, err := s.opt.Undo.Undo(ctx, id)
	if model.ErrorCode(err) == model.ENOTFOUND {
		return r, ErrUndoGone
	}
	if err != nil {
		return r, err
	}
	if r.Subscriber, err = s.subscriberByID(ctx, subID); err != nil {
		return r, err
	}
	r.subs = subs
	for _, su := range subs {
		if su.Status != model.SubscriptionActive {
			continue
		}
		title := su.Digest
		if d, err := s.digest(su.Digest); err == nil {
			title = sanitize.Line(d.Title)
		}
		r.DigestTitles = append(r.DigestTitles, title)
	}
	return r, nil
}

// Undo restores exactly the subscriptions an undo link's snapshot kept:
// each digest's status and follows as they were (digests configured
// since are left alone), once: the snapshot goes with it. A reader no longer active — bounced, complained,
// suppressed — gets nothing back: that is not theirs to undo.
func (s *Service) Undo(ctx context.Context, tok string) (Restoration, error) {
	r, err := s.UndoTarget(ctx, tok)
	if err != nil {
		return r, err
	}
	if r.Subscriber.Status != model.SubscriberActive {
		return r, ErrSuppressed
	}
	if _, blocked, err := s.suppressions(ctx, r.Subscriber.Email); err != nil {
		return r, err
	} else if blocked {
		return r, ErrSuppressed
	}
	// An undo link restores once: claimed before the restore, so of two
	// at once one restores and the other says the link no longer applies.
	if ok, err := s.opt.Undo.ClaimUndo(ctx, r.id); err != nil {
		return r, err
	} else if !ok {
		return r, ErrUndoGone
	}
	for _, su := range r.subs {
		if _, err := s.digest(su.Digest); err != nil {
			continue
		}
		if _, err := s.store.UpsertSubscription(ctx, r.Subscriber.ID, su.Digest, su.Sections, su.Authors, su.Status); err != nil {
			return r, err
		}
	}
	s.log.Info("unsubscribe undone", "subscriber", r.Subscriber.ID)
	return r, nil
}

// dropUndos ends a reader's undo links after a change an old link must not
// revert (a one-click unsubscribe, saved preferences that made no link).
func (s *Service) dropUndos(ctx context.Context, subscriberID int64) error {
	if s.opt.Undo == nil {
		return nil
	}
	return s.opt.Undo.DropUndos(ctx, subscriberID)
}
