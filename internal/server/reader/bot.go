package reader

import (
	"crypto/rand"
	"crypto/sha256"
	_ "embed" // the proof-of-work script
	"encoding/binary"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/server/web"
)

// Sign-up that bots cannot fill (issue 14): layers, each optional to a
// poster but each closing a door. A post caught by any of them creates
// nothing and sends nothing, and gets the same answer as a real one.
//
//   - website: a field hidden from people; filled means a bot.
//   - ts: the signed time herald's own form was rendered; present and
//     younger than http.subscribe_min_seconds means a bot. Absent, forged
//     or expired counts as absent, so publishers' own forms keep working.
//   - pow, nonce (http.subscribe_pow): a challenge herald signed and a
//     nonce such that SHA-256(pow ":" nonce) starts with powBits zero bits;
//     when enabled every post must carry one, used once. herald's form
//     solves it with /subscribe/pow.js, which a publisher's form can
//     include.
//
// The per-client and per-network limits come first (Handler.allow).

// Token purposes of the subscribe form (the form's own, not mail links').
const (
	purposeForm = "form" // id: the render time, unix seconds
	purposePoW  = "pow"  // id: a random challenge number
)

// powBits is the proof of work's difficulty: about 2^17 hashes, a fifth of
// a second in a desktop browser, a second or two on a slow phone.
const powBits = 17

// formTTL bounds how long a rendered form's ts counts; powTTL a challenge.
const (
	formTTL = 24 * time.Hour
	powTTL  = 10 * time.Minute
)

//go:embed static/pow.js
var powScript []byte

// formStamp is the ts a freshly rendered form carries.
func (h *Handler) formStamp() string {
	return h.tokens.Make(purposeForm, h.opt.Now().Unix(), formTTL)
}

// challenge returns a new proof-of-work challenge.
func (h *Handler) challenge() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return h.tokens.Make(purposePoW, int64(binary.BigEndian.Uint64(b[:])>>2), powTTL)
}

// botCheck is what a subscribe post carries for the bot checks.
type botCheck struct {
	Website, TS, PoW, Nonce string
}

// caught reports whether a post is a bot's, and why (for the log); full
// reports that the used-challenge table is full (the caller answers 429).
func (h *Handler) caught(b botCheck) (why string, full bool) {
	if b.Website != "" {
		return "honeypot", false
	}
	if b.TS != "" {
		if at, err := h.tokens.Verify(b.TS, purposeForm); err == nil && h.opt.Now().Unix()-at < int64(h.opt.Config.HTTP.SubscribeMinSeconds) {
			return "too fast", false
		}
	}
	if !h.opt.Config.HTTP.SubscribePoW {
		return "", false
	}
	id, err := h.tokens.Verify(b.PoW, purposePoW)
	if err != nil || len(b.Nonce) > 20 || !powSolved(b.PoW, b.Nonce, powBits) {
		return "no proof of work", false
	}
	switch h.spent.use(id, h.opt.Now()) {
	case useFull:
		return "", true
	case useAgain:
		return "proof of work used twice", false
	}
	return "", false
}

// powSolved reports whether SHA-256(challenge ":" nonce) starts with bits
// zero bits.
func powSolved(challenge, nonce string, bits int) bool {
	if nonce == "" {
		return false
	}
	sum := sha256.Sum256([]byte(challenge + ":" + nonce))
	for i := 0; bits > 0; i++ {
		mask := byte(0xff)
		if bits < 8 {
			mask = ^byte(0xff >> bits)
		}
		if sum[i]&mask != 0 {
			return false
		}
		bits -= 8
	}
	return true
}

// powChallenge answers GET /subscribe/challenge: a fresh challenge and its
// difficulty, for publishers' forms (any origin may ask).
func (h *Handler) powChallenge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	web.JSON(w, http.StatusOK, map[string]any{"challenge": h.challenge(), "bits": powBits})
}

// powJS serves the proof-of-work script.
func (h *Handler) powJS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(powScript)))
	_, _ = w.Write(powScript)
}

// spentChallenges remembers the challenges already used, until they
// expire, so a solved one cannot be posted twice. Bounded like the rate
// limiter: entries expire by time, and a full table refuses newcomers.
type spentChallenges struct {
	mu    sync.Mutex
	seen  map[int64]time.Time // challenge id -> when it expires
	max   int
	swept time.Time
}

type useResult int

const (
	useFirst useResult = iota
	useAgain
	useFull
)

func (s *spentChallenges) use(id int64, now time.Time) useResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.seen[id]; ok && now.Before(exp) {
		return useAgain
	}
	if len(s.seen) >= s.max {
		if now.Sub(s.swept) >= time.Second {
			s.swept = now
			for k, exp := range s.seen {
				if !now.Before(exp) {
					delete(s.seen, k)
				}
			}
		}
		if len(s.seen) >= s.max {
			return useFull
		}
	}
	s.seen[id] = now.Add(powTTL)
	return useFirst
}
