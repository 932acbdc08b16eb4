package store

import (
	"context"
	"errors"
	"testing"
)

// TestQueryRows: every row comes back in order, none gives nil, and a scan
// error or a read cut short is an error with the connection returned to the
// pool, never a short list.
func TestQueryRows(t *testing.T) {
	s, _ := MustOpen(t)
	ctx := context.Background()
	const count = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n`
	scanInt := func(sc scanner) (int, error) {
		var i int
		err := sc.Scan(&i)
		return i, err
	}

	got, err := queryRows(ctx, s.R, count, scanInt, 3)
	if err != nil || len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("three rows: %v %v", got, err)
	}
	if got, err := queryRows(ctx, s.R, count+` WHERE i > 5`, scanInt, 3); err != nil || got != nil {
		t.Fatalf("no rows: %v %v; want nil, nil", got, err)
	}

	bad := errors.New("bad row")
	got, err = queryRows(ctx, s.R, count, func(sc scanner) (int, error) {
		i, err := scanInt(sc)
		if i == 2 {
			return 0, bad
		}
		return i, err
	}, 3)
	if !errors.Is(err, bad) || got != nil {
		t.Fatalf("scan error: %v %v", got, err)
	}

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err = eachRow(cctx, s.R, count, func(sc scanner) error {
		cancel()
		_, err := scanInt(sc)
		return err
	}, 100000)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled mid-read: %v; want context.Canceled", err)
	}
	if n := s.R.Stats().InUse; n != 0 {
		t.Fatalf("%d reader connections still in use", n)
	}
}
