package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

const subscriberCols = `id, email, name, status, timezone, created_at, confirmed_at`

func scanSubscriber(sc scanner) (model.Subscriber, error) {
	var (
		sub       model.Subscriber
		created   int64
		confirmed sql.NullInt64
	)
	if err := sc.Scan(&sub.ID, &sub.Email, &sub.Name, &sub.Status, &sub.Timezone, &created, &confirmed); err != nil {
		return sub, err
	}
	sub.CreatedAt = time.Unix(created, 0).UTC()
	if confirmed.Valid {
		sub.ConfirmedAt = time.Unix(confirmed.Int64, 0).UTC()
	}
	return sub, nil
}

// UpsertSubscriber creates the subscriber with email, or
// updates the existing one: a non-empty name replaces the stored name, and
// a non-empty status replaces the stored status (an activation records the
// confirmation time). A new subscriber without a status is pending. It
// reports whether the row was created.
func (s *Store) UpsertSubscriber(ctx context.Context, email model.Address, name, status string) (model.Subscriber, bool, error) {
	var (
		sub     model.Subscriber
		created bool
	)
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		sub, created, err = upsertSubscriber(ctx, tx, email, name, status, s.Now().Unix())
		return err
	})
	if err != nil {
		return sub, false, fmt.Errorf("store: upsert subscriber %s: %w", email, err)
	}
	return sub, created, nil
}

func upsertSubscriber(ctx context.Context, tx *sql.Tx, email model.Address, name, status string, now int64) (model.Subscriber, bool, error) {
	existing, err := scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE email = ?`, email))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if status == "" {
			status = model.SubscriberPending
		}
		var confirmed any
		if status == model.SubscriberActive {
			confirmed = now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO subscribers (email, name, status, created_at, confirmed_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, email, name, status, now, confirmed, now)
		if err != nil {
			return model.Subscriber{}, false, err
		}
		id, _ := res.LastInsertId()
		sub := model.Subscriber{ID: id, Email: email, Name: name, Status: status, CreatedAt: time.Unix(now, 0).UTC()}
		if confirmed != nil {
			sub.ConfirmedAt = sub.CreatedAt
		}
		return sub, true, nil
	case err != nil:
		return model.Subscriber{}, false, err
	}
	if name != "" {
		existing.Name = name
	}
	if status != "" && status != existing.Status {
		existing.Status = status
		if status == model.SubscriberActive {
			existing.ConfirmedAt = time.Unix(now, 0).UTC()
		}
	}
	var confirmed any
	if !existing.ConfirmedAt.IsZero() {
		confirmed = existing.ConfirmedAt.Unix()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ?, status = ?, confirmed_at = ?, updated_at = ? WHERE id = ?`,
		existing.Name, existing.Status, confirmed, now, existing.ID); err != nil {
		return existing, false, err
	}
	return existing, false, nil
}

// UpsertSubscription creates or updates the subscription of subscriberID to
// digest: its status ("" keeps it, active for a new one) and its follows,
// replaced by sections and authors.
func (s *Store) UpsertSubscription(ctx context.Context, subscriberID int64, digest string, sections, authors []string, status string) (model.Subscription, error) {
	var out model.Subscription
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = upsertSubscription(ctx, tx, subscriberID, digest, sections, authors, status, s.Now().Unix())
		return err
	})
	if err != nil {
		return out, fmt.Errorf("store: upsert subscription of %d to %s: %w", subscriberID, digest, err)
	}
	return out, nil
}

func upsertSubscription(ctx context.Context, tx *sql.Tx, subscriberID int64, digest string, sections, authors []string, status string, now int64) (model.Subscription, error) {
	sub := model.Subscription{SubscriberID: subscriberID, Digest: digest}
	var cur string
	err := tx.QueryRowContext(ctx, `SELECT id, status FROM subscriptions WHERE subscriber_id = ? AND digest = ?`,
		subscriberID, digest).Scan(&sub.ID, &cur)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if status == "" {
			status = model.SubscriptionActive
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (subscriber_id, digest, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`, subscriberID, digest, status, now, now)
		if err != nil {
			return sub, err
		}
		sub.ID, _ = res.LastInsertId()
	case err != nil:
		return sub, err
	default:
		if status == "" {
			status = cur
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET status = ?, updated_at = ? WHERE id = ?`, status, now, sub.ID); err != nil {
			return sub, err
		}
	}
	sub.Status = status
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscription_follows WHERE subscription_id = ?`, sub.ID); err != nil {
		return sub, err
	}
	for _, f := range []struct {
		kind  string
		slugs []string
	}{{"section", sections}, {"author", authors}} {
		for _, slug := range f.slugs {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO subscription_follows (subscription_id, kind, slug) VALUES (?, ?, ?)`,
				sub.ID, f.kind, slug); err != nil {
				return sub, err
			}
		}
	}
	sub.Sections, sub.Authors = dedupe(sections), dedupe(authors)
	return sub, nil
}

func dedupe(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// SubscriberByEmail returns the subscriber with that address (compared
// case-insensitively), or ErrNotFound.
func (s *Store) SubscriberByEmail(ctx context.Context, email model.Address) (model.Subscriber, error) {
	sub, err := scanSubscriber(s.R.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE email = ?`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("store: subscriber %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return sub, fmt.Errorf("store: subscriber %s: %w", email, err)
	}
	return sub, nil
}

// FindSubscriber is SubscriberByEmail reporting a missing address as false.
func (s *Store) FindSubscriber(ctx context.Context, email model.Address) (model.Subscriber, bool, error) {
	sub, err := s.SubscriberByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return sub, false, nil
	}
	return sub, err == nil, err
}

// SubscriberByID returns the subscriber with that id, or ErrNotFound.
func (s *Store) SubscriberByID(ctx context.Context, id int64) (model.Subscriber, error) {
	sub, err := scanSubscriber(s.R.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("store: subscriber %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return sub, fmt.Errorf("store: subscriber %d: %w", id, err)
	}
	return sub, nil
}

// SetSubscriberStatus changes a subscriber's status; activating records the
// confirmation time.
func (s *Store) SetSubscriberStatus(ctx context.Context, id int64, status string) error {
	now := s.Now().Unix()
	res, err := s.W.ExecContext(ctx, `UPDATE subscribers SET status = ?, updated_at = ?,
		confirmed_at = CASE WHEN ? = 'active' THEN coalesce(confirmed_at, ?) ELSE confirmed_at END
		WHERE id = ?`, status, now, status, now, id)
	if err != nil {
		return fmt.Errorf("store: set subscriber %d %s: %w", id, status, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: subscriber %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetSubscriberTimezone sets a subscriber's IANA timezone ("" for
// unknown: each digest's own timezone then applies).
func (s *Store) SetSubscriberTimezone(ctx context.Context, id int64, tz string) error {
	res, err := s.W.ExecContext(ctx, `UPDATE subscribers SET timezone = ?, updated_at = ? WHERE id = ?`, tz, s.Now().Unix(), id)
	if err != nil {
		return fmt.Errorf("store: set timezone of subscriber %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: subscriber %d: %w", id, ErrNotFound)
	}
	return nil
}

// RemoveSubscriber erases the subscriber with that address: its status
// becomes erased, its name is cleared and every subscription ends. The row
// stays, because deliveries refer to it.
func (s *Store) RemoveSubscriber(ctx context.Context, email model.Address) error {
	now := s.Now().Unix()
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM subscribers WHERE email = ?`, email).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'erased', name = '', updated_at = ? WHERE id = ?`, now, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET status = 'unsubscribed', updated_at = ? WHERE subscriber_id = ?`, now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: remove subscriber %s: %w", email, err)
	}
	return nil
}

// SubscriptionByID returns one subscription with its follows, or ErrNotFound.
func (s *Store) SubscriptionByID(ctx context.Context, id int64) (model.Subscription, error) {
	sub, err := scanSubscription(s.R.QueryRowContext(ctx, `SELECT id, subscriber_id, digest, status FROM subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, fmt.Errorf("store: subscription %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return sub, fmt.Errorf("store: subscription %d: %w", id, err)
	}
	subs := []model.Subscription{sub}
	if err := s.attachFollows(ctx, subs); err != nil {
		return sub, fmt.Errorf("store: subscription %d: %w", id, err)
	}
	return subs[0], nil
}

// SubscriptionsOf returns a subscriber's subscriptions (any status) with
// their follows, ordered by digest.
func (s *Store) SubscriptionsOf(ctx context.Context, subscriberID int64) ([]model.Subscription, error) {
	out, err := queryRows(ctx, s.R, `SELECT id, subscriber_id, digest, status FROM subscriptions
		WHERE subscriber_id = ? ORDER BY digest`, scanSubscription, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("store: subscriptions of %d: %w", subscriberID, err)
	}
	if err := s.attachFollows(ctx, out); err != nil {
		return nil, fmt.Errorf("store: subscriptions of %d: %w", subscriberID, err)
	}
	return out, nil
}

// scanSubscription reads a subscription's id, subscriber_id, digest and
// status (its follows come from attachFollows).
func scanSubscription(sc scanner) (model.Subscription, error) {
	var sub model.Subscription
	err := sc.Scan(&sub.ID, &sub.SubscriberID, &sub.Digest, &sub.Status)
	return sub, err
}

// SetSubscriptionStatus changes one subscription's status.
func (s *Store) SetSubscriptionStatus(ctx context.Context, id int64, status string) error {
	res, err := s.W.ExecContext(ctx, `UPDATE subscriptions SET status = ?, updated_at = ? WHERE id = ?`, status, s.Now().Unix(), id)
	if err != nil {
		return fmt.Errorf("store: set subscription %d %s: %w", id, status, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: subscription %d: %w", id, ErrNotFound)
	}
	return nil
}

// ActiveSubscriptions returns up to limit active subscriptions of digest
// whose subscriber is active, with ids above afterID, in id order, with
// their follows. Planning pages through them.
func (s *Store) ActiveSubscriptions(ctx context.Context, digest string, afterID int64, limit int) ([]model.Subscription, error) {
	out, err := queryRows(ctx, s.R, `SELECT su.id, su.subscriber_id FROM subscriptions su INDEXED BY subscriptions_digest_status_id
		JOIN subscribers sb ON sb.id = su.subscriber_id
		WHERE su.digest = ? AND su.status = 'active' AND su.id > ? AND sb.status = 'active'
		ORDER BY su.id LIMIT ?`, func(sc scanner) (model.Subscription, error) {
		sub := model.Subscription{Digest: digest, Status: model.SubscriptionActive}
		err := sc.Scan(&sub.ID, &sub.SubscriberID)
		return sub, err
	}, digest, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: active subscriptions of %s: %w", digest, err)
	}
	if err := s.attachFollows(ctx, out); err != nil {
		return nil, fmt.Errorf("store: active subscriptions of %s: %w", digest, err)
	}
	return out, nil
}

// attachFollows loads the follows of subs, 500 subscriptions per query.
func (s *Store) attachFollows(ctx context.Context, subs []model.Subscription) error {
	const chunk = 500
	idx := make(map[int64]int, len(subs))
	for i := range subs {
		idx[subs[i].ID] = i
	}
	for start := 0; start < len(subs); start += chunk {
		end := min(start+chunk, len(subs))
		args := make([]any, 0, end-start)
		for _, sub := range subs[start:end] {
			args = append(args, sub.ID)
		}
		err := eachRow(ctx, s.R, `SELECT subscription_id, kind, slug FROM subscription_follows
			WHERE subscription_id IN (`+placeholders(len(args))+`) ORDER BY subscription_id, kind, slug`, func(sc scanner) error {
			var (
				id         int64
				kind, slug string
			)
			if err := sc.Scan(&id, &kind, &slug); err != nil {
				return err
			}
			i := idx[id]
			if kind == "section" {
				subs[i].Sections = append(subs[i].Sections, slug)
			} else {
				subs[i].Authors = append(subs[i].Authors, slug)
			}
			return nil
		}, args...)
		if err != nil {
			return err
		}
	}
	return nil
}

// EachSubscriber calls fn for every subscriber in id order, with their
// subscriptions, reading 500 at a time so exports of any size stay small.
func (s *Store) EachSubscriber(ctx context.Context, fn func(model.Subscriber, []model.Subscription) error) error {
	var after int64
	for {
		page, err := s.subscriberPage(ctx, after, 500)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		after = page[len(page)-1].ID
		args := make([]any, 0, len(page))
		for _, sub := range page {
			args = append(args, sub.ID)
		}
		subsOf, err := s.subscriptionsFor(ctx, args)
		if err != nil {
			return err
		}
		for _, sub := range page {
			if err := fn(sub, subsOf[sub.ID]); err != nil {
				return err
			}
		}
	}
}

func (s *Store) subscriberPage(ctx context.Context, after int64, limit int) ([]model.Subscriber, error) {
	out, err := queryRows(ctx, s.R, `SELECT `+subscriberCols+` FROM subscribers WHERE id > ? ORDER BY id LIMIT ?`, scanSubscriber, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list subscribers: %w", err)
	}
	return out, nil
}

func (s *Store) subscriptionsFor(ctx context.Context, subscriberIDs []any) (map[int64][]model.Subscription, error) {
	all, err := queryRows(ctx, s.R, `SELECT id, subscriber_id, digest, status FROM subscriptions
		WHERE subscriber_id IN (`+placeholders(len(subscriberIDs))+`) ORDER BY subscriber_id, digest`, scanSubscription, subscriberIDs...)
	if err != nil {
		return nil, fmt.Errorf("store: list subscriptions: %w", err)
	}
	if err := s.attachFollows(ctx, all); err != nil {
		return nil, fmt.Errorf("store: list subscriptions: %w", err)
	}
	out := make(map[int64][]model.Subscription, len(subscriberIDs))
	for _, sub := range all {
		out[sub.SubscriberID] = append(out[sub.SubscriberID], sub)
	}
	return out, nil
}
