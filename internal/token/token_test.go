package token

import (
	"encoding/base64"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
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

// The tokens' bytes are fixed: mail already sent carries them. These were
// made before signing reused its HMAC states.
func TestTokensKeepTheirBytes(t *testing.T) {
	s, err := NewSigner([]byte("golden-key"), func() time.Time { return time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{s.Make(Unsubscribe, 42, time.Hour), "dW5zdWJzY3JpYmUuMTYudHAzbmsw.Tmv5fdbFrzfBvZX2yszNy7DZnX-mmssq2P1-V8seu_k"},
		{s.Make(Manage, 1<<40, 365*24*time.Hour), "bWFuYWdlLmUxM3d1MW9nLnU3dmk0MA.LeOYjFbIq2tq_kSBLlwT0q_2PVd3khsYURELRRGyDfI"},
		{s.MakeCompact(Bounce, 123456789, 30*24*time.Hour), "swno6ownuiaygtjnh26kipgpbc3q"},
	} {
		if c.got != c.want {
			t.Errorf("token %q, want %q", c.got, c.want)
		}
	}
}

// Signing from many goroutines at once (every SMTP connection makes
// tokens) gives each the token a fresh HMAC would, and a long purpose
// encodes as one base64 run.
func TestMakeConcurrentlyMatchesAFreshMAC(t *testing.T) {
	now := time.Unix(1.8e9, 0)
	s, _ := NewSigner([]byte("k"), func() time.Time { return now })
	want := func(purpose string, id int64) string {
		exp := now.Add(time.Hour).Unix()
		payload := purpose + "." + strconv.FormatInt(id, 36) + "." + strconv.FormatInt(exp, 36)
		return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac([]byte("k"), payload))
	}
	purposes := []string{Unsubscribe, Manage, strings.Repeat("p", 100)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				p, id := purposes[i%len(purposes)], int64(g*1e6+i)
				if got := s.Make(p, id, time.Hour); got != want(p, id) {
					t.Errorf("Make(%s, %d) = %q, want %q", p, id, got, want(p, id))
					return
				}
				if _, err := s.VerifyCompact(s.MakeCompact(p, id, time.Hour), p); err != nil {
					t.Errorf("compact %s %d: %v", p, id, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Signing allocates the token and its payload, not an HMAC, also when
// collections run between tokens (they emptied the sync.Pool signing
// used to keep its states in).
func TestMakeAllocatesLittle(t *testing.T) {
	s, _ := NewSigner([]byte("k"), nil)
	s.Make(Unsubscribe, 1, time.Hour)
	if n := testing.AllocsPerRun(200, func() { s.Make(Unsubscribe, 123456, time.Hour) }); n > 3 {
		t.Errorf("Make: %.0f allocations, want at most 3", n)
	}
	if n := testing.AllocsPerRun(20, func() {
		runtime.GC()
		runtime.GC()
		s.Make(Unsubscribe, 123456, time.Hour)
	}); n > 3 {
		t.Errorf("Make after two collections: %.0f allocations, want at most 3", n)
	}
}
