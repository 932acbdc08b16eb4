package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRoundTripAndRefusals(t *testing.T) {
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := NewSigner([]byte("k1"), clock)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Make(Unsubscribe, 42, time.Hour)
	if id, err := s.Verify(tok, Unsubscribe); err != nil || id != 42 {
		t.Fatalf("Verify = %d, %v", id, err)
	}
	if _, err := s.Verify(tok, Confirm); !errors.Is(err, ErrPurpose) {
		t.Errorf("other purpose: %v", err)
	}
	other, _ := NewSigner([]byte("k2"), clock)
	if _, err := other.Verify(tok, Unsubscribe); !errors.Is(err, ErrSignature) {
		t.Errorf("other key: %v", err)
	}
	// Tamper with the id inside the payload, keeping the signature.
	p, m, _ := strings.Cut(tok, ".")
	forged := s.Make(Unsubscribe, 43, time.Hour)
	fp, _, _ := strings.Cut(forged, ".")
	if _, err := s.Verify(fp+"."+m, Unsubscribe); !errors.Is(err, ErrSignature) {
		t.Errorf("swapped payload: %v", err)
	}
	for _, bad := range []string{"", ".", p, p + ".", "!!." + m, p + ".!!", strings.Repeat("a", MaxLen+1)} {
		if _, err := s.Verify(bad, Unsubscribe); err == nil {
			t.Errorf("Verify(%q) accepted", bad)
		}
	}
	now = now.Add(2 * time.Hour)
	if _, err := s.Verify(tok, Unsubscribe); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	if _, err := NewSigner(nil, nil); err == nil {
		t.Error("empty key accepted")
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := NewSigner([]byte("fuzz"), func() time.Time { return time.Unix(1e9, 0) })
	f.Add(s.Make(Confirm, 1, time.Hour))
	f.Add("abc.def")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := s.Verify(tok, Confirm)
		if err == nil && s.Make(Confirm, id, time.Hour) != tok {
			// Only tokens we made verify; a different encoding of the same
			// payload would be a forgery.
			t.Errorf("accepted a token we did not make: %q", tok)
		}
	})
}
