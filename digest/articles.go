package digest

import (
	"context"
	"sync"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// articleSource loads articles by id (the outbox's store).
type articleSource interface {
	ArticlesByID(ctx context.Context, ids []int64) ([]model.Article, error)
}

// articleCache holds an edition's cleaned articles by id, loading those a
// page of deliveries needs and does not have yet.
type articleCache struct {
	src   articleSource
	clean *sanitize.Cleaner
	mu    sync.RWMutex
	byID  map[int64]*ArticleView
	miss  map[int64]bool // ids that are gone (retracted, deleted)
}

func newArticleCache(src articleSource, clean *sanitize.Cleaner) *articleCache {
	return &articleCache{src: src, clean: clean, byID: map[int64]*ArticleView{}, miss: map[int64]bool{}}
}

func (c *articleCache) add(arts []*ArticleView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range arts {
		c.byID[a.ID] = a
	}
}

func (c *articleCache) load(ctx context.Context, page []model.Delivery) error {
	var want []int64
	seen := map[int64]bool{}
	c.mu.RLock()
	for _, d := range page {
		for _, id := range d.ArticleIDs {
			if c.byID[id] == nil && !c.miss[id] && !seen[id] {
				seen[id] = true
				want = append(want, id)
			}
		}
	}
	c.mu.RUnlock()
	if len(want) == 0 {
		return nil
	}
	arts, err := c.src.ArticlesByID(ctx, want)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range arts {
		if cl, ok := c.clean.Article(a); ok {
			c.byID[a.ID] = newArticleView(cl)
		}
	}
	for _, id := range want {
		if c.byID[id] == nil {
			c.miss[id] = true
		}
	}
	return nil
}

// views returns the cached articles for ids, in order, leaving out missing ones.
func (c *articleCache) views(ids []int64) []*ArticleView {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*ArticleView, 0, len(ids))
	for _, id := range ids {
		if a := c.byID[id]; a != nil {
			out = append(out, a)
		}
	}
	return out
}
