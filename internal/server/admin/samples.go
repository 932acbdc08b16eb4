package admin

import (
	"sync"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/server/web"
)

// sampleCache keeps the HTML of recently checked samples for their preview
// frame, which the browser loads by a random id: the check ran the plan
// once, the frame must not run it again. Bounded in count and age.
type sampleCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	items map[string]sample
}

type sample struct {
	html string
	at   time.Time
}

func newSampleCache(max int, ttl time.Duration, now func() time.Time) *sampleCache {
	return &sampleCache{max: max, ttl: ttl, now: now, items: map[string]sample{}}
}

// put stores html and returns its id.
func (c *sampleCache) put(html string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, s := range c.items {
		if now.Sub(s.at) > c.ttl {
			delete(c.items, k)
		}
	}
	for len(c.items) >= c.max {
		var oldest string
		for k, s := range c.items {
			if oldest == "" || s.at.Before(c.items[oldest].at) {
				oldest = k
			}
		}
		delete(c.items, oldest)
	}
	id := randomToken()
	c.items[id] = sample{html: html, at: now}
	return id
}

// get returns the HTML stored under id.
func (c *sampleCache) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.items[id]
	if !ok || c.now().Sub(s.at) > c.ttl {
		return "", false
	}
	return s.html, true
}

// problemText is what an error says to an editor.
func problemText(err error) string {
	if model.ErrorCode(err) == model.EINTERNAL {
		return web.ProblemOf(err).Message
	}
	return model.ErrorMessage(err)
}
