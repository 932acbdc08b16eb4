package feeds

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/heraldnews/herald/internal/model"
)

// runBudget bounds the prepared items a run keeps for the feeds still to
// come: about 100 articles of 5 KB in three formats. The feeds an article
// appears in are far apart in any order at a million articles (a 24 MB
// cache reused 1.5 % of them there, 13 % at 100k: docs/benchmarks.md),
// while peak memory must stay under 100 MB; archive pages and refreshes,
// whose feeds share more, reuse within it.
const runBudget = 2 << 20

// run is one pass over many feeds (a static build, a refresh): each
// article is cleaned and encoded once and the item handed to every feed
// that holds it, within runBudget bytes. When the run knows which
// articles each feed holds (a plan, from FeedMembers), it drops an item
// after its last feed and reads every article's row once; otherwise it
// keeps the most recently used items.
type run struct {
	b       *Builder
	members *model.FeedMembers // nil: each feed reads its own articles
	planned chan struct{}      // closed when a background plan is done (startPlan)

	mu    sync.Mutex
	items map[int64]*list.Element // of *item
	lru   list.List
	bytes int64
	uses  *useCounts // feeds still to build that hold each article (with a plan)

	people people

	arcMu    sync.Mutex
	archives map[FeedID]*archive // read once per run

	authMu  sync.Mutex
	authors map[int64]model.Author // every author, raw, by id: read once per run

	// recycle: the run's caller hands every Set back (release) once
	// written, and documents are encoded into reused buffers.
	recycle bool
	bufs    sync.Pool // of *[]byte

	prepared, reused atomic.Int64
}

func (b *Builder) newRun() *run {
	return &run{b: b, items: map[int64]*list.Element{}}
}

// plan reads which articles every feed holds, so the run reads each
// article's row once, in the feeds' order, and knows when an item is no
// longer needed.
//
// Only author feeds build from the plan: an author's own query reads the
// row of every article of the author (their published_at sits past the
// body), while the site's and a section's read an index and their 50
// rows, as cheap as the plan's.
func (r *run) plan(ctx context.Context, feeds []Feed) error {
	m, err := r.b.src.FeedMembers(ctx, r.b.opt.Items)
	if err != nil {
		return fmt.Errorf("feeds: plan: %w", err)
	}
	var all []int64
	for _, f := range feeds {
		if f.ID.Kind == KindAuthor {
			all = append(all, m.Authors[f.ID.ID]...)
		}
	}
	uses := newUseCounts(all)
	r.mu.Lock()
	r.members, r.uses = &m, uses
	r.mu.Unlock()
	return nil
}

// startPlan plans in the background: the site's and the sections' feeds
// build meanwhile, the authors' wait for it (usePlan). stop cancels a plan
// still running and waits for it.
func (r *run) startPlan(ctx context.Context, feeds []Feed) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	r.planned = make(chan struct{})
	go func() {
		defer close(r.planned)
		if err := r.plan(ctx, feeds); err != nil && ctx.Err() == nil {
			r.b.log.Warn("feed build plan failed: author feeds read one by one", "err", err)
		}
	}()
	return func() {
		cancel()
		<-r.planned
	}
}

// usePlan reports whether feed f builds from the plan, waiting for a plan
// in progress.
func (r *run) usePlan(f Feed) bool {
	if f.ID.Kind != KindAuthor {
		return false
	}
	if r.planned != nil {
		<-r.planned
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.members != nil
}

func (r *run) memberIDs(id FeedID) []int64 {
	switch id.Kind {
	case KindSection:
		return r.members.Sections[id.ID]
	case KindAuthor:
		return r.members.Authors[id.ID]
	}
	return r.members.All
}

// build reads feed f's articles (or takes them prepared) and encodes its
// subscription document.
func (r *run) build(ctx context.Context, f Feed) (Set, error) {
	items, err := r.feedItems(ctx, f)
	if err != nil {
		return Set{}, err
	}
	arc, err := r.archive(ctx, f)
	if err != nil {
		return Set{}, err
	}
	d := r.b.doc(f, items)
	if arc != nil {
		d.pages = arc.pages()
	}
	return d.encode(r.getter()), nil
}

func (r *run) getter() func(int) []byte {
	if r.recycle {
		return r.buffer
	}
	return nil
}

// archive returns feed f's archive, read (and its full pages frozen) once
// per run; nil without archives.
func (r *run) archive(ctx context.Context, f Feed) (*archive, error) {
	r.arcMu.Lock()
	defer r.arcMu.Unlock()
	if a, ok := r.archives[f.ID]; ok {
		return a, nil
	}
	a, err := r.b.readArchive(ctx, f)
	if err != nil {
		return nil, err
	}
	if r.archives == nil {
		r.archives = map[FeedID]*archive{}
	}
	r.archives[f.ID] = a
	return a, nil
}

// errNoPage is a request for an archive page the feed does not have.
var errNoPage = errors.New("feeds: no such archive page")

// buildPage encodes archive page p of feed f: its entries newest first.
func (r *run) buildPage(ctx context.Context, f Feed, p int) (Set, error) {
	arc, err := r.archive(ctx, f)
	if err != nil {
		return Set{}, err
	}
	if arc == nil || p < 1 || p > arc.pages() {
		return Set{}, errNoPage
	}
	keys, err := r.b.pageKeys(ctx, f, arc, p)
	if err != nil {
		return Set{}, err
	}
	ids := make([]int64, len(keys))
	for i, k := range keys {
		ids[len(keys)-1-i] = k.ID
	}
	items, err := r.itemsByID(ctx, f, ids, false)
	if err != nil {
		return Set{}, err
	}
	d := r.b.doc(f, items)
	d.page, d.pages = p, arc.pages()
	return d.encode(r.getter()), nil
}

// feedItems returns the items of feed f in feed order.
func (r *run) feedItems(ctx context.Context, f Feed) ([]*item, error) {
	if !r.usePlan(f) {
		raw, err := r.b.src.Articles(ctx, r.b.query(f))
		if err != nil {
			return nil, fmt.Errorf("feeds: articles of %s: %w", f.ID, err)
		}
		items := make([]*item, 0, len(raw))
		for i := range raw {
			if it := r.take(raw[i].ID, false); it != nil {
				items = append(items, it)
			} else if it := r.prepare(&raw[i]); it != nil {
				items = append(items, it)
			}
		}
		sortItems(items)
		return items, nil
	}
	items, err := r.itemsByID(ctx, f, r.memberIDs(f.ID), true)
	if err != nil {
		return nil, err
	}
	sortItems(items)
	return items, nil
}

// itemsByID returns the items of the articles ids (in that order; those no
// longer published are left out), taken prepared or read and prepared.
// planned: ids come from the run's plan, whose use counts they consume.
func (r *run) itemsByID(ctx context.Context, f Feed, ids []int64, planned bool) ([]*item, error) {
	got := make(map[int64]*item, len(ids))
	var missing []int64
	for _, id := range ids {
		if it := r.take(id, planned); it != nil {
			got[id] = it
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		raw, err := r.readByID(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("feeds: articles of %s: %w", f.ID, err)
		}
		for i := range raw {
			if it := r.prepare(&raw[i]); it != nil {
				got[raw[i].ID] = it
			}
		}
	}
	items := make([]*item, 0, len(ids))
	for _, id := range ids {
		if it := got[id]; it != nil {
			items = append(items, it) // an id missing here was retracted meanwhile
		}
	}
	return items, nil
}

// sortItems puts items in feed order: newest first, ties by id.
func sortItems(items []*item) {
	slices.SortStableFunc(items, func(a, b *item) int {
		if c := b.published.Compare(a.published); c != 0 {
			return c
		}
		return -compareID(a.id, b.id)
	})
}

func compareID(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// take returns the prepared item of article id, or nil; planned counts
// one of the plan's uses.
func (r *run) take(id int64, planned bool) *item {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.items[id]
	counted := planned && r.uses != nil // r.mu is held
	if e == nil {
		if counted {
			r.uses.use(id)
		}
		return nil
	}
	it := e.Value.(*item)
	r.reused.Add(1)
	if counted {
		if n, _ := r.uses.use(id); n <= 0 {
			r.drop(e)
			return it
		}
	}
	r.lru.MoveToFront(e)
	return it
}

// prepare cleans and encodes raw and keeps the item for the feeds still
// to come. It returns nil for an article that cannot be used.
func (r *run) prepare(raw *model.Article) *item {
	a, ok := r.b.cleanArticle(*raw, &r.people)
	if !ok {
		return nil
	}
	x := r.b.derive(&a, raw.GUID)
	r.prepared.Add(1)
	r.mu.Lock() // the plan may land meanwhile (startPlan)
	var n int16
	planned := false
	if r.uses != nil {
		n, planned = r.uses.left(a.ID)
	}
	r.mu.Unlock()
	if planned && n <= 0 {
		return inlineItem(x) // no other feed holds it: encode it in place
	}
	it := r.b.newItem(x)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.items[it.id]; old != nil {
		r.drop(old)
	}
	r.items[it.id] = r.lru.PushFront(it)
	r.bytes += int64(it.size())
	for r.bytes > runBudget && r.lru.Len() > 1 {
		r.drop(r.lru.Back())
	}
	return it
}

func (r *run) drop(e *list.Element) {
	it := e.Value.(*item)
	r.lru.Remove(e)
	delete(r.items, it.id)
	r.bytes -= int64(it.size())
}

// readByID reads the articles ids with their bylines. The run reads every
// author once (ArticleRows gives bylines as author ids); an author it has
// not seen (added meanwhile) makes it read those articles whole.
func (r *run) readByID(ctx context.Context, ids []int64) ([]model.Article, error) {
	r.authMu.Lock()
	if r.authors == nil {
		auths, err := r.b.src.Authors(ctx)
		if err != nil {
			r.authMu.Unlock()
			return nil, err
		}
		r.authors = make(map[int64]model.Author, len(auths))
		for _, a := range auths {
			r.authors[a.ID] = a
		}
	}
	r.authMu.Unlock()
	arts, err := r.b.src.ArticleRows(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range arts {
		for j, ref := range arts[i].Authors {
			au, ok := r.authors[ref.ID]
			if !ok {
				return r.b.src.ArticlesByID(ctx, ids)
			}
			arts[i].Authors[j] = au
		}
	}
	return arts, nil
}
