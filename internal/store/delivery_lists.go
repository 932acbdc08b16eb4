package store

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// SubscriberDeliveries returns a subscriber's most recent deliveries,
// newest first, with their editions' digest and kind.
func (s *Store) SubscriberDeliveries(ctx context.Context, subscriberID int64, limit int) ([]model.DeliveryRecord, error) {
	if limit <= 0 {
		limit = 50
	}
	out, err := queryRows(ctx, s.R, `SELECT `+deliveryCols+`, e.digest, e.kind, e.created_at FROM deliveries d INDEXED BY deliveries_subscriber
		JOIN subscribers sb ON sb.id = d.subscriber_id
		JOIN editions e ON e.id = d.edition_id
		WHERE d.subscriber_id = ? ORDER BY d.id DESC LIMIT ?`, func(sc scanner) (model.DeliveryRecord, error) {
		var (
			r       model.DeliveryRecord
			created int64
		)
		d, err := scanDelivery(extraScanner{sc, []any{&r.Digest, &r.Kind, &created}})
		r.Delivery = d
		r.CreatedAt = time.Unix(created, 0).UTC()
		return r, err
	}, subscriberID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of subscriber %d: %w", subscriberID, err)
	}
	return out, nil
}

// DeliveriesWithStatus returns up to limit deliveries of an edition with
// ids above afterID, in id order, only those with status when it is set;
// the index (edition_id, status) keeps a filtered page cheap.
func (s *Store) DeliveriesWithStatus(ctx context.Context, editionID int64, status string, afterID int64, limit int) ([]model.Delivery, error) {
	if status == "" {
		return s.Deliveries(ctx, editionID, afterID, limit)
	}
	out, err := queryRows(ctx, s.R, `SELECT `+deliveryCols+` FROM deliveries d INDEXED BY deliveries_edition_status_id
		JOIN subscribers sb ON sb.id = d.subscriber_id
		WHERE d.edition_id = ? AND d.status = ? AND d.id > ? ORDER BY d.id LIMIT ?`, scanDelivery, editionID, status, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %s deliveries of edition %d: %w", status, editionID, err)
	}
	return out, nil
}

// extraScanner scans a row whose first columns scanDelivery reads and
// whose last ones go to extra.
type extraScanner struct {
	sc    scanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.sc.Scan(append(dest, e.extra...)...) }
