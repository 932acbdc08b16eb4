package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/heraldnews/herald/internal/model"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = &model.Error{Code: model.ENOTFOUND, Message: "not found"}

//go:embed migrations/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a connection waits for SQLite's write lock.
const BusyTimeout = 10 * time.Second

// Store is an open herald database.
type Store struct {
	// W is the writer pool: one connection, IMMEDIATE transactions.
	W *sql.DB
	// R is the reader pool: query_only connections for concurrent reads.
	R *sql.DB
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Log receives warnings about bad rows.
	Log *slog.Logger

	path          string
	upd, updID    onceStmt // RecordDeliveries' statements (markSQL, deliveries.go)
	editionStatus onceStmt // EditionStatus' statement
}

// onceStmt is a statement prepared on first use and kept, for a query
// asked often enough that parsing it each time shows (docs/benchmarks.md):
// RecordDeliveries' two, which the outbox runs for every result in small
// groups (parsing them per transaction was a tenth of send-now's CPU), and
// EditionStatus, which it asks every 64 messages whether an editor
// cancelled the edition (1.6 %). A failed prepare is tried again on the
// next use.
type onceStmt struct {
	mu sync.Mutex
	st *sql.Stmt
}

// get returns the statement for q on db, preparing it the first time.
// Every call for one onceStmt must pass the same q and db.
func (o *onceStmt) get(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.st == nil {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, err
		}
		o.st = st
	}
	return o.st, nil
}

// Options tune Open.
type Options struct {
	// Readers caps the reader pool (default 8).
	Readers int
	// CacheKiB is each connection's SQLite page cache in KiB (0: SQLite's
	// default, 2,000). A command that streams through the database once
	// (send-now) needs little: the operating system caches the file.
	CacheKiB int
	// Logger receives warnings about bad rows (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DSN returns the modernc DSN for path with herald's pragmas. readOnly adds
// query_only(1).
func DSN(path string, readOnly bool) string { return dsn(path, readOnly, 0) }

func dsn(path string, readOnly bool, cacheKiB int) string {
	q := url.Values{}
	if cacheKiB > 0 {
		q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
	}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if opt.Readers <= 0 {
		opt.Readers = 8
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	w, err := sql.Open("sqlite", dsn(path, false, opt.CacheKiB))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{W: w, Now: opt.Now, Log: opt.Logger, path: path}
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := s.Migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true, opt.CacheKiB))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	s.R = r
	return s, nil
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes both pools.
func (s *Store) Close() error {
	var errR error
	if s.R != nil {
		errR = s.R.Close()
	}
	return errors.Join(errR, s.W.Close())
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %q has no numeric prefix", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// Migrate applies every embedded migration not yet recorded, each in its own
// transaction. It is safe to run again: applied migrations are skipped.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.W.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS herald_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := s.apply(ctx, m); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return nil
}

// schemaEdits are changes a migration's SQL cannot make, run in its
// transaction before the SQL, by version.
var schemaEdits = map[int]func(ctx context.Context, tx *sql.Tx) error{
	6: widenSubscriberStatus,
}

func (s *Store) apply(ctx context.Context, m migration) error {
	tx, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM herald_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if edit, ok := schemaEdits[m.version]; ok {
		if err := edit(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}

	if _, err := tx.ExecContext(ctx, `INSERT INTO herald_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, s.Now().Unix()); err != nil {
		return err
	}
	return tx.Commit()
}

// Version is the highest applied migration.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.W.QueryRowContext(ctx, `SELECT max(version) FROM herald_migrations`).Scan(&v)
	return int(v.Int64), err
}

// scanner is what reads one row: *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// eachRow runs query on db (either pool) and calls fn once per row. It
// closes the rows on every path and checks rows.Err, so a read cut short (a
// cancelled context, an I/O error) is an error rather than a short result.
// Errors come back as they are: the caller adds its context.
func eachRow(ctx context.Context, db *sql.DB, query string, fn func(scanner) error, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryRows runs query on db and returns one T per row, built by scan (nil
// when there is none). It is eachRow for the queries that keep every row.
func queryRows[T any](ctx context.Context, db *sql.DB, query string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	return queryRowsInto[T](ctx, db, nil, query, scan, args...)
}

// queryRowsInto is queryRows appending to out, so a caller that knows
// about how many rows come (a page) sizes the slice once.
func queryRowsInto[T any](ctx context.Context, db *sql.DB, out []T, query string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	err := eachRow(ctx, db, query, func(sc scanner) error {
		v, err := scan(sc)
		if err != nil {
			return err
		}
		out = append(out, v)
		return nil
	}, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// widenSubscriberStatus lets subscribers.status take 'complained' (0006).
// It edits the table's CREATE statement in sqlite_schema, SQLite's
// documented procedure for loosening a constraint
// (https://sqlite.org/lang_altertable.html#otheralter): no row can break
// the wider check, and every column, index and trigger the table has —
// whatever migrations ran before — stays. The schema version moves on, so
// every connection reads the new schema.
func widenSubscriberStatus(ctx context.Context, tx *sql.Tx) error {
	const (
		narrow = "CHECK (status IN ('pending', 'active', 'bounced', 'erased'))"
		wide   = "CHECK (status IN ('pending', 'active', 'bounced', 'complained', 'erased'))"
	)
	var create string
	if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'subscribers'`).Scan(&create); err != nil {
		return err
	}
	if strings.Contains(create, wide) {
		return nil
	}
	if strings.Count(create, narrow) != 1 {
		return errors.New("subscribers: the status check is not the one migration 0003 wrote")
	}
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&version); err != nil {
		return err
	}
	for _, q := range []string{`PRAGMA writable_schema = ON`,
		`UPDATE sqlite_schema SET sql = '` + strings.ReplaceAll(strings.Replace(create, narrow, wide, 1), "'", "''") +
			`' WHERE type = 'table' AND name = 'subscribers'`,
		fmt.Sprintf(`PRAGMA schema_version = %d`, version+1),
		`PRAGMA writable_schema = OFF`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("widen the subscribers status check: %w", err)
		}
	}
	return nil
}

// Tx runs fn in a writer transaction (IMMEDIATE: it holds the write lock
// from the start), committing when fn returns nil.
func (s *Store) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}
