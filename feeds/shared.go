package feeds

import (
	"slices"
	"sync"

	"github.com/heraldnews/herald/internal/model"
)

// What a run shares among the feeds it builds besides prepared items:
// sections and authors cleaned once, the plan's use counts, and the
// buffers documents are encoded into.

// people holds one run's cleaned sections and authors, by id, with the
// rows they were cleaned from (a row that differs is cleaned again).
type people struct {
	mu    sync.Mutex
	secs  map[int64][2]model.Section
	auths map[int64][2]model.Author
}

func (p *people) section(b *Builder, raw model.Section) model.Section {
	p.mu.Lock()
	c, ok := p.secs[raw.ID]
	p.mu.Unlock()
	if ok && c[0] == raw {
		return c[1]
	}
	clean := b.clean.Section(raw)
	p.mu.Lock()
	if p.secs == nil {
		p.secs = map[int64][2]model.Section{}
	}
	p.secs[raw.ID] = [2]model.Section{raw, clean}
	p.mu.Unlock()
	return clean
}

func (p *people) author(b *Builder, raw model.Author) model.Author {
	p.mu.Lock()
	c, ok := p.auths[raw.ID]
	p.mu.Unlock()
	if ok && c[0] == raw {
		return c[1]
	}
	clean := b.cleanAuthor(raw)
	p.mu.Lock()
	if p.auths == nil {
		p.auths = map[int64][2]model.Author{}
	}
	p.auths[raw.ID] = [2]model.Author{raw, clean}
	p.mu.Unlock()
	return clean
}

// useCounts counts, per article id, the feeds still to build that hold
// it: ids sorted, a count beside each (a map would take four times the
// memory at a million articles).
type useCounts struct {
	ids    []int64
	counts []int16
}

func newUseCounts(all []int64) *useCounts {
	slices.Sort(all)
	u := &useCounts{}
	for i, id := range all {
		if i > 0 && id == all[i-1] {
			u.counts[len(u.counts)-1]++
			continue
		}
		u.ids = append(u.ids, id)
		u.counts = append(u.counts, 1)
	}
	u.ids = slices.Clip(u.ids)
	return u
}

// use counts one use of id and returns the uses left; false for an id no
// planned feed holds.
func (u *useCounts) use(id int64) (int16, bool) {
	i, ok := slices.BinarySearch(u.ids, id)
	if !ok {
		return 0, false
	}
	u.counts[i]--
	return u.counts[i], true
}

// left returns the uses left of id; false for an id no planned feed holds.
func (u *useCounts) left(id int64) (int16, bool) {
	i, ok := slices.BinarySearch(u.ids, id)
	if !ok {
		return 0, false
	}
	return u.counts[i], true
}

// buffer returns an empty buffer of capacity n or more.
func (r *run) buffer(n int) []byte {
	if bp, ok := r.bufs.Get().(*[]byte); ok && cap(*bp) >= n {
		return (*bp)[:0]
	}
	return make([]byte, 0, n+n/8)
}

// release hands a written Set's buffers back for the next documents.
func (r *run) release(s Set) {
	if !r.recycle {
		return
	}
	for _, b := range s {
		if cap(b) > 0 {
			r.bufs.Put(&b)
		}
	}
}
