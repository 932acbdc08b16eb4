package digest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/token"
)

// Message-IDs are stored with deliveries and matched against bounces: the
// appending code that reuses MAC states makes the bytes the fmt and
// hmac.New code before it made, from any number of goroutines at once.
func TestMessageIDsKeepTheirBytes(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s := &Service{msgKey: key, msgMACs: token.NewMACs(key), domain: "news.example.com"}
	old := func(editionID, subscriberID int64) string {
		m := hmac.New(sha256.New, key)
		fmt.Fprintf(m, "%d/%d", editionID, subscriberID)
		return hex.EncodeToString(m.Sum(nil)[:12])
	}
	at := time.UnixMilli(1_780_000_000_123)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 3000 {
				ed, sub := int64(g+1), int64(i*7919)-100
				if i == 0 {
					ed, sub = 9_223_372_036_854_775_807, -9_223_372_036_854_775_808
				}
				if got, want := s.plannedMessageID(ed, sub, at), fmt.Sprintf("<%d.%s.%s@%s>", ed, strconv.FormatInt(at.UnixMilli(), 36), old(ed, sub), s.domain); got != want {
					t.Errorf("plannedMessageID(%d, %d) = %q, want %q", ed, sub, got, want)
					return
				}
				if got, want := s.messageID(ed, sub), fmt.Sprintf("<%d.%s@%s>", ed, old(ed, sub), s.domain); got != want {
					t.Errorf("messageID(%d, %d) = %q, want %q", ed, sub, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := testing.AllocsPerRun(100, func() { s.plannedMessageID(12, 345678, at) }); n > 3 {
		t.Errorf("plannedMessageID: %.0f allocations, want at most 3 (the MAC's input and sum, the id)", n)
	}
}
