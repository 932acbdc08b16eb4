package feeds

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// pinger tells WebSub hubs which feed URLs changed (hub.mode=publish), in
// the background: a refresh queues URLs and never waits for a hub. One
// ping is in flight at a time, and the queue holds each URL once, so it is
// bounded by the number of feed URLs however slow a hub is.
type pinger struct {
	hubs   []string
	client *http.Client
	log    *slog.Logger

	mu     sync.Mutex
	queued []string
	seen   map[string]bool
	wake   chan struct{} // one pending wake-up at most
}

func newPinger(hubs []string, client *http.Client, log *slog.Logger) *pinger {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &pinger{hubs: hubs, client: client, log: log, seen: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// queue adds urls to the next ping.
func (p *pinger) queue(urls []string) {
	if len(urls) == 0 {
		return
	}
	p.mu.Lock()
	for _, u := range urls {
		if !p.seen[u] {
			p.seen[u] = true
			p.queued = append(p.queued, u)
		}
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take returns and forgets the queued URLs.
func (p *pinger) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	urls := p.queued
	p.queued = nil
	clear(p.seen)
	return urls
}

// run pings whatever is queued until ctx is done. A ping under way when
// ctx ends still goes to every hub (each request bounded by the client's
// timeout); what is queued after that is dropped.
func (p *pinger) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		if urls := p.take(); len(urls) > 0 {
			p.ping(context.WithoutCancel(ctx), urls)
		}
	}
}

// ping posts urls to every hub.
func (p *pinger) ping(ctx context.Context, urls []string) {
	body := url.Values{"hub.mode": {"publish"}, "hub.url": urls}.Encode()
	for _, hub := range p.hubs {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(body))
		if err != nil {
			p.log.Warn("websub ping failed", "hub", hub, "err", err)
			continue
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := p.client.Do(req)
		if err != nil {
			p.log.Warn("websub ping failed", "hub", hub, "err", err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			p.log.Warn("websub ping refused", "hub", hub, "status", resp.StatusCode)
		}
	}
}
