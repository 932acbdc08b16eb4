package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// AddIntake records one POST /subscribe for the subscription worker and
// returns its id. It is the request path's only write: one insert,
// whatever the address's state.
func (s *Store) AddIntake(ctx context.Context, in model.Intake) (int64, error) {
	res, err := s.W.ExecContext(ctx, `INSERT INTO subscribe_intake (email, name, digest, sections, authors, timezone, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, in.Email, in.Name, in.Digest, jsonList(in.Sections), jsonList(in.Authors), in.Timezone, s.Now().Unix())
	if err != nil {
		return 0, fmt.Errorf("store: record subscribe request: %w", err)
	}
	return res.LastInsertId()
}

// Intakes returns up to limit recorded subscribe requests, oldest first.
func (s *Store) Intakes(ctx context.Context, limit int) ([]model.Intake, error) {
	out, err := queryRows(ctx, s.W, `SELECT id, email, name, digest, sections, authors, timezone, created_at
		FROM subscribe_intake ORDER BY id LIMIT ?`, func(sc scanner) (model.Intake, error) {
		var (
			in         model.Intake
			secs, auts string
			created    int64
		)
		if err := sc.Scan(&in.ID, &in.Email, &in.Name, &in.Digest, &secs, &auts, &in.Timezone, &created); err != nil {
			return in, err
		}
		in.CreatedAt = time.Unix(created, 0).UTC()
		if err := json.Unmarshal([]byte(secs), &in.Sections); err != nil {
			return in, err
		}
		return in, json.Unmarshal([]byte(auts), &in.Authors)
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("store: subscribe requests: %w", err)
	}
	return out, nil
}

// DeleteIntake removes a handled subscribe request.
func (s *Store) DeleteIntake(ctx context.Context, id int64) error {
	if _, err := s.W.ExecContext(ctx, `DELETE FROM subscribe_intake WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete subscribe request %d: %w", id, err)
	}
	return nil
}
