package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// build encodes feed f and works out each representation's Last-Modified
// from the recorded state: unchanged bytes keep their time; changed bytes
// get now (or one second past the recorded time, never earlier). changed
// lists the formats whose bytes differ from the recorded ones; first those
// never recorded before.
func (h *Handler) build(ctx context.Context, s *slot, r *run) (_ Set, _ *entry, changed, first [numFormats]bool, _ error) {
	f := s.feed
	start := time.Now()
	var set Set
	var err error
	cacheControl := h.opt.CacheControl
	if s.page > 0 {
		set, err = r.buildPage(ctx, f, s.page)
		if arc, _ := r.archive(ctx, f); err == nil && arc.frozen(s.page) {
			cacheControl = frozenCacheControl
		}
	} else {
		set, err = r.build(ctx, f)
		if arc, _ := r.archive(ctx, f); err == nil && arc != nil {
			s.arc.Store(arc)
		}
	}
	h.builds.Add(1)
	if err != nil {
		h.buildErrors.Add(1)
	}
	if h.opt.OnBuild != nil {
		h.opt.OnBuild(f.ID, time.Since(start), err)
	}
	if err != nil {
		return Set{}, nil, changed, first, err
	}
	e := &entry{}
	now := h.b.now().UTC().Truncate(time.Second)
	for _, ft := range Formats {
		body := set[ft]
		sum := sha256.Sum256(body)
		sumHex := hex.EncodeToString(sum[:])
		p := f.ID.Path(ft)
		if s.page > 0 {
			p = f.ID.ArchivePath(s.page, ft)
		}
		old, mod, err := h.state.FeedState(ctx, p)
		if err != nil {
			return Set{}, nil, changed, first, fmt.Errorf("feeds: %s: %w", p, err)
		}
		if old != sumHex {
			changed[ft] = true
			if old == "" {
				first[ft] = true
			}
			nm := now
			if !nm.After(mod) {
				nm = mod.Add(time.Second)
			}
			if mod, err = h.state.SaveFeedState(ctx, p, sumHex, nm); err != nil {
				return Set{}, nil, changed, first, fmt.Errorf("feeds: %s: %w", p, err)
			}
		}
		gz, err := gzipBytes(body)
		if err != nil {
			return Set{}, nil, changed, first, err
		}
		e.reps[ft] = h.newRep(ft, body, gz, sumHex, mod, cacheControl)
		e.size += int64(len(body) + len(gz) + 512)
	}
	return set, e, changed, first, nil
}

func (h *Handler) newRep(ft Format, body, gz []byte, sumHex string, mod time.Time, cacheControl string) rep {
	etag := `"` + sumHex[:32] + `"`
	gzETag := `"` + sumHex[:32] + `-gz"`
	r := rep{
		body: body, gz: gz, mod: mod.UTC().Truncate(time.Second),
		etag: etag, gzETag: gzETag,
		hETag: []string{etag}, hGzETag: []string{gzETag},
		hLen: []string{strconv.Itoa(len(body))}, hGzLen: []string{strconv.Itoa(len(gz))},
		hLastModified: []string{mod.UTC().Format(http.TimeFormat)},
		hContentType:  []string{ft.ContentType()},
	}
	if cacheControl != "" {
		r.hCacheControl = []string{cacheControl}
	}
	return r
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b)/4 + 64)
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// memState is a StateStore in memory, for a handler without a database.
type memState struct {
	mu sync.Mutex
	m  map[string]memEntry
}

type memEntry struct {
	sum string
	mod time.Time
}

func (m *memState) FeedState(_ context.Context, path string) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.m[path]
	return e.sum, e.mod, nil
}

func (m *memState) SaveFeedState(_ context.Context, path, sum string, mod time.Time) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.m[path]; old.mod.After(mod) {
		mod = old.mod
	}
	m.m[path] = memEntry{sum, mod}
	return mod, nil
}
