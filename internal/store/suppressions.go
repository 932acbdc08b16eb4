package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// The suppression list is the suppressions table (operator entries and
// erased addresses' hashes) together with every subscriber whose status is
// bounced or complained. Entries are compared in SQLite's lower case
// (ASCII), so addresses are stored that way.

// addressEntry is an address's entry: lower-cased as SQLite's lower() does.
func addressEntry(a model.Address) string { return asciiLower(string(a)) }

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// notSuppressedSQL is true for a subscriber row sb whose address no entry
// of the suppressions table matches (as itself or by its domain); planning
// and sending both add it. Erased addresses' hashes ('#…') sort before
// every address and domain ('$' is the next byte), so the first test —
// uncorrelated, computed once per statement — spares every row the lookup
// while the table holds no operator entry.
const notSuppressedSQL = `(NOT EXISTS (SELECT 1 FROM suppressions WHERE entry >= '$')
	OR NOT EXISTS (SELECT 1 FROM suppressions sp WHERE sp.entry IN (lower(sb.email), substr(lower(sb.email), instr(sb.email, '@')))))`

// SuppressionKey returns the key of the suppression list's hashes, made
// and stored on first use. It is not the token secret: rotating that must
// not let erased addresses back in.
func (s *Store) SuppressionKey(ctx context.Context) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("store: generate suppression key: %w", err)
	}
	if _, err := s.W.ExecContext(ctx, `INSERT OR IGNORE INTO herald_settings (key, value) VALUES ('suppression_key', ?)`,
		hex.EncodeToString(b)); err != nil {
		return nil, fmt.Errorf("store: store suppression key: %w", err)
	}
	v, err := s.Setting(ctx, "suppression_key")
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

// SuppressionsOf returns every entry of the suppression list that matches
// address: its own entry, its domain's, its erased hash (key is
// SuppressionKey's; nil reads the stored key without making one, for a
// page that must change nothing: with none stored, no address has left a
// hash), and its subscriber's bounced or complained status.
func (s *Store) SuppressionsOf(ctx context.Context, key []byte, address model.Address) ([]model.Suppression, error) {
	hash := "" // matches no entry
	if key == nil {
		v, err := s.Setting(ctx, "suppression_key")
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if key, err = hex.DecodeString(v); err != nil {
			return nil, fmt.Errorf("store: suppression key: %w", err)
		}
	}
	if len(key) > 0 {
		hash = "#" + model.AddressHash(key, address)
	}
	out, err := queryRows(ctx, s.W, `SELECT entry, reason, note, created_at FROM suppressions WHERE entry IN (?, ?, ?)
		UNION ALL
		SELECT lower(email), status, '', updated_at FROM subscribers WHERE email = ? AND status IN ('bounced', 'complained')`,
		scanSuppression, addressEntry(address), "@"+address.Domain(), hash, address)
	if err != nil {
		return nil, fmt.Errorf("store: suppressions of %s: %w", address, err)
	}
	return out, nil
}

func scanSuppression(sc scanner) (model.Suppression, error) {
	var (
		sp      model.Suppression
		created int64
	)
	err := sc.Scan(&sp.Entry, &sp.Reason, &sp.Note, &created)
	sp.CreatedAt = time.Unix(created, 0).UTC()
	return sp, err
}

// Suppressions lists the whole suppression list: the table's entries,
// then bounced and complained subscribers, each group oldest first.
func (s *Store) Suppressions(ctx context.Context) ([]model.Suppression, error) {
	out, err := queryRows(ctx, s.R, `SELECT entry, reason, note, created_at FROM
		(SELECT entry, reason, note, created_at, 0 AS grp FROM suppressions
		 UNION ALL
		 SELECT lower(email), status, '', updated_at, 1 FROM subscribers WHERE status IN ('bounced', 'complained'))
		ORDER BY grp, created_at, entry`, scanSuppression)
	if err != nil {
		return nil, fmt.Errorf("store: suppressions: %w", err)
	}
	return out, nil
}

// Suppress adds an operator entry for an address or a domain
// ("@example.com"), replacing the note of an existing one.
func (s *Store) Suppress(ctx context.Context, entry, note string) error {
	if _, err := s.W.ExecContext(ctx, `INSERT INTO suppressions (entry, reason, note, created_at) VALUES (?, 'operator', ?, ?)
		ON CONFLICT (entry) DO UPDATE SET reason = 'operator', note = excluded.note`, asciiLower(entry), note, s.Now().Unix()); err != nil {
		return fmt.Errorf("store: suppress %s: %w", entry, err)
	}
	return nil
}

// Unsuppress removes an address or domain from the suppression list: its
// entry, and for an address its subscriber's bounced or complained status
// (the subscriber becomes active; a complaint ended every subscription, so
// a complainer gets nothing until they subscribe again). It reports
// whether anything was removed.
func (s *Store) Unsuppress(ctx context.Context, entry string) (bool, error) {
	entry = asciiLower(entry)
	var n int64
	err := s.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE entry = ?`, entry)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if strings.HasPrefix(entry, "@") {
			return nil
		}
		res, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = 'active', updated_at = ?
			WHERE email = ? AND status IN ('bounced', 'complained')`, s.Now().Unix(), entry)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n += m
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: unsuppress %s: %w", entry, err)
	}
	return n > 0, nil
}

// SuppressErased puts the keyed hash of an erased address on the
// suppression list (an import says the address asked to be forgotten).
func (s *Store) SuppressErased(ctx context.Context, key []byte, address model.Address) error {
	if _, err := s.W.ExecContext(ctx, `INSERT INTO suppressions (entry, reason, created_at) VALUES (?, 'erased', ?)
		ON CONFLICT (entry) DO NOTHING`, "#"+model.AddressHash(key, address), s.Now().Unix()); err != nil {
		return fmt.Errorf("store: suppress erased %s: %w", address, err)
	}
	return nil
}

// LiftErased removes the hash an erased address left on the suppression
// list: the address has completed a double opt-in again.
func (s *Store) LiftErased(ctx context.Context, key []byte, address model.Address) error {
	if _, err := s.W.ExecContext(ctx, `DELETE FROM suppressions WHERE entry = ?`, "#"+model.AddressHash(key, address)); err != nil {
		return fmt.Errorf("store: lift erased %s: %w", address, err)
	}
	return nil
}

// SuppressionPage returns up to q.Limit entries of the suppression list
// with reason q.Reason, after the cursor q.After (model.Suppression's
// Cursor), so that every page costs the same however long the list is.
// Operator entries (addresses and domains) and erased addresses' hashes
// ('#…', which sort between them, see notSuppressedSQL) walk the table's
// key in entry order, each skipping the other's range; bounced and
// complained subscribers walk subscribers_status_updated down from the
// most recent change, ties by id.
func (s *Store) SuppressionPage(ctx context.Context, q model.SuppressionQuery) ([]model.Suppression, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	const cols = `entry, reason, note, created_at, 0`
	var (
		query string
		args  []any
	)
	switch q.Reason {
	case model.SuppressedOperator:
		// Addresses starting with '!' sort before the hashes, the rest after.
		query = `SELECT * FROM (SELECT ` + cols + ` FROM suppressions WHERE entry > ?1 AND entry < '#' AND reason = 'operator' ORDER BY entry LIMIT ?2)
			UNION ALL
			SELECT * FROM (SELECT ` + cols + ` FROM suppressions WHERE entry > max(?1, '$') AND reason = 'operator' ORDER BY entry LIMIT ?2)
			ORDER BY entry LIMIT ?2`
		args = []any{q.After, q.Limit}
	case model.SuppressedErased:
		query = `SELECT ` + cols + ` FROM suppressions WHERE entry > max(?1, '#') AND entry < '$' ORDER BY entry LIMIT ?2`
		args = []any{q.After, q.Limit}
	case model.SuppressedBounced, model.SuppressedComplained:
		at, id := int64(1<<62), int64(1<<62)
		if q.After != "" {
			a, b, ok := strings.Cut(q.After, ".")
			x, err1 := strconv.ParseInt(a, 10, 64)
			y, err2 := strconv.ParseInt(b, 10, 64)
			if !ok || err1 != nil || err2 != nil {
				return nil, fmt.Errorf("store: suppressions after %q: %w", q.After, ErrNotFound)
			}
			at, id = x, y
		}
		// Two seeks, the rest of the cursor's second by id and the seconds
		// before it: a row value would walk every row of that second.
		const sub = `SELECT lower(email) AS entry, status, '', updated_at, id FROM subscribers INDEXED BY subscribers_status_updated`
		query = `SELECT * FROM (` + sub + ` WHERE status = ?1 AND updated_at = ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4)
			UNION ALL
			SELECT * FROM (` + sub + ` WHERE status = ?1 AND updated_at < ?2 ORDER BY updated_at DESC, id DESC LIMIT ?4)
			ORDER BY updated_at DESC, id DESC LIMIT ?4`
		args = []any{q.Reason, at, id, q.Limit}
	default:
		return nil, fmt.Errorf("store: suppressions: no reason %q: %w", q.Reason, ErrNotFound)
	}
	out, err := queryRows(ctx, s.R, query, func(sc scanner) (model.Suppression, error) {
		var (
			sp      model.Suppression
			created int64
		)
		err := sc.Scan(&sp.Entry, &sp.Reason, &sp.Note, &created, &sp.SubscriberID)
		sp.CreatedAt = time.Unix(created, 0).UTC()
		return sp, err
	}, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s suppressions: %w", q.Reason, err)
	}
	return out, nil
}
