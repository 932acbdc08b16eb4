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

// Compact tokens survive a change of case, refuse another purpose, another
// key, any other spelling and expiry, and verify with a previous key.
func TestCompact(t *testing.T) {
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, _ := NewSigner([]byte("current-key"), clock, []byte("old-key"), nil)
	old, _ := NewSigner([]byte("old-key"), clock)
	for _, id := range []int64{0, 1, 42, 1 << 40, maxCompactID} {
		tok := s.MakeCompact(Bounce, id, 400*24*time.Hour)
		if len(tok) > CompactMaxLen || tok != strings.ToLower(tok) {
			t.Fatalf("token %q: %d characters (max %d) or not lower case", tok, len(tok), CompactMaxLen)
		}
		for _, spelling := range []string{tok, strings.ToUpper(tok)} {
			if got, err := s.VerifyCompact(spelling, Bounce); err != nil || got != id {
				t.Errorf("VerifyCompact(%q) = %d, %v; want %d", spelling, got, err, id)
			}
		}
		if _, err := s.VerifyCompact(tok, Unsubscribe); !errors.Is(err, ErrSignature) {
			t.Errorf("other purpose: %v", err)
		}
		if _, err := s.VerifyCompact(tok+"a", Bounce); err == nil {
			t.Error("a longer spelling verified")
		}
	}
	byOld := old.MakeCompact(Bounce, 7, time.Hour)
	if id, err := s.VerifyCompact(byOld, Bounce); err != nil || id != 7 {
		t.Errorf("a token signed with the previous key: %d, %v", id, err)
	}
	if _, err := old.VerifyCompact(s.MakeCompact(Bounce, 7, time.Hour), Bounce); !errors.Is(err, ErrSignature) {
		t.Errorf("the previous key alone verified a new token: %v", err)
	}
	link := old.Make(Manage, 9, time.Hour)
	if id, err := s.Verify(link, Manage); err != nil || id != 9 {
		t.Errorf("a link signed with the previous key: %d, %v", id, err)
	}
	tok := s.MakeCompact(Bounce, 5, 24*time.Hour)
	now = now.Add(49 * time.Hour)
	if _, err := s.VerifyCompact(tok, Bounce); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	for _, bad := range []string{"", "!", strings.Repeat("a", CompactMaxLen+1), "aaaaaaaa"} {
		if _, err := s.VerifyCompact(bad, Bounce); err == nil {
			t.Errorf("VerifyCompact(%q) accepted", bad)
		}
	}
}

func FuzzVerifyCompact(f *testing.F) {
	s, _ := NewSigner([]byte("fuzz"), func() time.Time { return time.Unix(1e9, 0) })
	f.Add(s.MakeCompact(Bounce, 1, time.Hour))
	f.Add("abc")
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := s.VerifyCompact(tok, Bounce)
		if err == nil && s.MakeCompact(Bounce, id, time.Hour) != strings.ToLower(tok) {
			t.Errorf("accepted a token we did not make: %q", tok)
		}
	})
}
