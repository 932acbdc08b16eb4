package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The one-active-edition leases (package lease keeps them alive), one row
// per key in edition_leases.

// AcquireLease takes the lease on key for holder until now+ttl, naming
// editionID (0 while none is chosen yet). A key is a digest's name, or
// "digest@zone" for one zone group of a local digest: the whole digest and
// its groups exclude each other, while groups run side by side. It
// succeeds when neither key nor an overlapping one has a live holder other
// than holder (an expired lease's holder died). The holder renews by
// acquiring again.
func (s *Store) AcquireLease(ctx context.Context, key, holder string, editionID int64, ttl time.Duration) (bool, error) {
	now := s.Now()
	res, err := s.W.ExecContext(ctx, `INSERT INTO edition_leases (digest, edition_id, holder, expires_at)
		SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM edition_leases o
			WHERE o.digest <> ?1 AND o.holder <> ?3 AND o.expires_at > ?5
			  AND (substr(o.digest, 1, length(?1) + 1) = ?1 || '@' OR substr(?1, 1, length(o.digest) + 1) = o.digest || '@'))
		ON CONFLICT (digest) DO UPDATE SET edition_id = excluded.edition_id, holder = excluded.holder, expires_at = excluded.expires_at
		WHERE edition_leases.holder = excluded.holder OR edition_leases.expires_at <= ?5`,
		key, nullID(editionID), holder, now.Add(ttl).Unix(), now.Unix())
	if err != nil {
		return false, fmt.Errorf("store: lease %s: %w", key, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// LeaseHolder returns who holds the digest's lease and until when, or
// ErrNotFound.
func (s *Store) LeaseHolder(ctx context.Context, digest string) (string, time.Time, error) {
	var (
		holder string
		exp    int64
	)
	err := s.W.QueryRowContext(ctx, `SELECT holder, expires_at FROM edition_leases WHERE digest = ?`, digest).Scan(&holder, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, fmt.Errorf("store: lease %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: lease %s: %w", digest, err)
	}
	return holder, time.Unix(exp, 0).UTC(), nil
}

// ReleaseLease gives the lease up if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, digest, holder string) error {
	if _, err := s.W.ExecContext(ctx, `DELETE FROM edition_leases WHERE digest = ? AND holder = ?`, digest, holder); err != nil {
		return fmt.Errorf("store: release lease %s: %w", digest, err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// TakeOverLease hands the digest's lease from a holder known to be dead to
// holder, if from still has it. It reports whether it did.
func (s *Store) TakeOverLease(ctx context.Context, digest, from, holder string, ttl time.Duration) (bool, error) {
	res, err := s.W.ExecContext(ctx, `UPDATE edition_leases SET holder = ?, expires_at = ? WHERE digest = ? AND holder = ?`,
		holder, s.Now().Add(ttl).Unix(), digest, from)
	if err != nil {
		return false, fmt.Errorf("store: take over lease %s: %w", digest, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
