package store

import (
	"context"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

func TestScheduledEditionIsKeyedBySlot(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	e := model.Edition{Digest: "daily", Kind: model.EditionScheduled, Slot: "2026-11-26T07:00 UTC", Cutoff: fixedNow, Since: fixedNow.Add(-24 * time.Hour)}
	a, created, err := s.CreateEdition(ctx, e)
	if err != nil || !created || a.Status != model.EditionPlanning {
		t.Fatal(a, created, err)
	}
	b, created, err := s.CreateEdition(ctx, e)
	if err != nil || created || b.ID != a.ID {
		t.Fatalf("second fire: %+v %v %v", b, created, err)
	}
	m1, _, _ := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow, Since: fixedNow, Sections: []string{"world"}})
	m2, _, _ := s.CreateEdition(ctx, model.Edition{Digest: "daily", Kind: model.EditionManual, Cutoff: fixedNow, Since: fixedNow})
	if m1.ID == m2.ID || len(m1.Sections) != 1 {
		t.Fatalf("manual editions: %+v %+v", m1, m2)
	}
	un, ok, err := s.UnfinishedEdition(ctx, "daily")
	if err != nil || !ok || un.ID != a.ID {
		t.Fatalf("unfinished: %+v %v %v", un, ok, err)
	}
	eds, err := s.Editions(ctx, "", 10)
	if err != nil || len(eds) != 3 || eds[0].ID != m2.ID {
		t.Fatalf("list: %+v %v", eds, err)
	}
}

func TestLease(t *testing.T) {
	ctx := context.Background()
	s, _ := MustOpen(t)
	now := fixedNow
	s.Now = func() time.Time { return now }
	ok, err := s.AcquireLease(ctx, "daily", "a", 0, time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if ok, _ := s.AcquireLease(ctx, "daily", "b", 0, time.Minute); ok {
		t.Fatal("b took a live lease")
	}
	if ok, _ := s.AcquireLease(ctx, "daily", "a", 0, time.Minute); !ok {
		t.Fatal("holder could not renew")
	}
	if ok, _ := s.AcquireLease(ctx, "weekly", "b", 0, time.Minute); !ok {
		t.Fatal("another digest is independent")
	}
	now = now.Add(2 * time.Minute)
	if ok, _ := s.AcquireLease(ctx, "daily", "b", 0, time.Minute); !ok {
		t.Fatal("b could not take over an expired lease")
	}
	if ok, _ := s.AcquireLease(ctx, "daily", "a", 0, time.Minute); ok {
		t.Fatal("a renewed a lease it lost")
	}
	if err := s.ReleaseLease(ctx, "daily", "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.AcquireLease(ctx, "daily", "a", 0, time.Minute); !ok {
		t.Fatal("released lease not free")
	}
}
