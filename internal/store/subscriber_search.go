package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

// SearchSubscribers returns a page of subscribers, newest first, matching
// q: an address prefix (the unique address index, case-insensitive), a
// status (index subscribers_status) and a digest with an active
// subscription (index subscriptions_digest). Keyset paging on the id
// (q.Before) keeps every page as cheap as the first, whatever the list's
// size: no OFFSET, no count.
func (s *Store) SearchSubscribers(ctx context.Context, q model.SubscriberQuery) ([]model.Subscriber, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	before := q.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	var (
		from  = `subscribers sb`
		where = []string{`sb.id < ?`}
		args  = []any{before}
		order = `sb.id DESC`
	)
	if q.Digest != "" {
		// Walk the digest's subscriptions in subscriber order and join.
		from = `subscriptions su JOIN subscribers sb ON sb.id = su.subscriber_id`
		where = []string{`su.digest = ?`, `su.status = 'active'`, `su.subscriber_id < ?`}
		args = []any{q.Digest, before}
		order = `su.subscriber_id DESC`
	}
	if e := strings.TrimSpace(q.Email); e != "" {
		where = append(where, `sb.email LIKE ? ESCAPE '\'`)
		args = append(args, likePrefix(e))
	}
	if q.Status != "" {
		where = append(where, `sb.status = ?`)
		args = append(args, q.Status)
		if q.Digest == "" && strings.TrimSpace(q.Email) == "" {
			// Walk (status, id) down from the cursor: a rare status must
			// not cost a walk through every subscriber above its rows.
			from = `subscribers sb INDEXED BY subscribers_status`
		}
	}
	args = append(args, q.Limit)
	out, err := queryRows(ctx, s.R, `SELECT sb.id, sb.email, sb.name, sb.status, sb.timezone, sb.created_at, sb.confirmed_at FROM `+from+`
		WHERE `+strings.Join(where, ` AND `)+` ORDER BY `+order+` LIMIT ?`, scanSubscriber, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search subscribers: %w", err)
	}
	return out, nil
}

// likePrefix makes a LIKE pattern matching text as a literal prefix.
func likePrefix(text string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(text) + "%"
}
