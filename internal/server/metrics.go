package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/feeds"
	"github.com/heraldnews/herald/internal/model"
)

// Metrics are herald's Prometheus metrics, on a registry of their own.
type Metrics struct {
	Registry *prometheus.Registry

	FeedRequests     *prometheus.CounterVec // by status code; counted through FeedServed
	FeedNotModified  prometheus.Counter
	FeedBuildSeconds prometheus.Histogram
	FeedsRebuilt     prometheus.Counter
	Deliveries       *prometheus.CounterVec // by status: sent, failed, skipped, retry
	SMTPErrors       *prometheus.CounterVec // by class: temporary, permanent, ambiguous
	RelayUp          *prometheus.GaugeVec   // by relay: 1 up, 0 benched
	RelayAttempts    *prometheus.CounterVec // by relay and outcome: accepted, temporary, permanent, rerouted, throttled, retried
	EditionSeconds   prometheus.Histogram
	Subscribes       *prometheus.CounterVec // by result: accepted, invalid, limited, caught
	HTTPRequests     *prometheus.CounterVec // non-feed routes by route and code
	Bounces          *prometheus.CounterVec // by kind: hard, soft, sender
	Complaints       prometheus.Counter

	// Feed counters resolved once: FeedServed is on the hot path.
	feedByCode map[int]prometheus.Counter
	feedOther  prometheus.Counter
}

// feedCodes are the statuses the feed handler answers with.
var feedCodes = []int{200, 304, 404, 405, 500}

// FeedServed counts one feed response with its status. It is the feed
// handler's OnServe hook: no allocation, no label hashing per request.
func (m *Metrics) FeedServed(status int) {
	c, ok := m.feedByCode[status]
	if !ok {
		c = m.feedOther
	}
	c.Inc()
	if status == 304 {
		m.FeedNotModified.Inc()
	}
}

// NewMetrics registers herald's metrics and the Go/process collectors.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry:   r,
		feedByCode: map[int]prometheus.Counter{},
		FeedRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_feed_requests_total", Help: "Feed requests by HTTP status.",
		}, []string{"code"}),
		FeedNotModified: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_feed_not_modified_total", Help: "Feed requests answered 304 Not Modified.",
		}),
		FeedBuildSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "herald_feed_build_seconds", Help: "Time to rebuild the feeds a change touched.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		FeedsRebuilt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_feed_refreshes_total", Help: "Feed cache refreshes that found changes.",
		}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deliveries_total", Help: "Delivery outcomes by status.",
		}, []string{"status"}),
		SMTPErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_smtp_errors_total", Help: "SMTP send errors by class.",
		}, []string{"class"}),
		RelayUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "herald_smtp_relay_up", Help: "1 while an SMTP relay takes messages, 0 while it is benched after failing.",
		}, []string{"relay"}),
		RelayAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_smtp_relay_attempts_total", Help: "Tries of a message on an SMTP relay by outcome (rerouted, throttled, retried: the message was tried again).",
		}, []string{"relay", "outcome"}),
		EditionSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "herald_edition_duration_seconds", Help: "Wall time to plan and send one edition.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 10),
		}),
		Subscribes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_subscribe_requests_total", Help: "POST /subscribe by result.",
		}, []string{"result"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_http_requests_total", Help: "Non-feed HTTP requests by route and status.",
		}, []string{"route", "code"}),
		Bounces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_bounces_total", Help: "Bounces recorded after sending, by kind (hard, soft, sender).",
		}, []string{"kind"}),
		Complaints: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_complaints_total", Help: "Spam complaints recorded.",
		}),
	}
	for _, code := range feedCodes {
		m.feedByCode[code] = m.FeedRequests.WithLabelValues(strconv.Itoa(code))
	}
	m.feedOther = m.FeedRequests.WithLabelValues("other")
	r.MustRegister(m.FeedRequests, m.FeedNotModified, m.FeedBuildSeconds, m.FeedsRebuilt, m.Deliveries,
		m.SMTPErrors, m.RelayUp, m.RelayAttempts, m.EditionSeconds, m.Subscribes, m.HTTPRequests, m.Bounces, m.Complaints,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// EditionRun records what one edition run did (digest's Observe hook).
func (m *Metrics) EditionRun(res digest.SendNowResult, took time.Duration) {
	m.EditionSeconds.Observe(took.Seconds())
	m.Deliveries.WithLabelValues("sent").Add(float64(res.Sent))
	m.Deliveries.WithLabelValues("failed").Add(float64(res.Failed))
	m.Deliveries.WithLabelValues("skipped").Add(float64(res.Skipped))
}

// SMTPResult counts one send's failure class (the mailer's Result hook).
func (m *Metrics) SMTPResult(res model.SendResult, _ time.Duration) {
	switch {
	case res.Ambiguous:
		m.SMTPErrors.WithLabelValues("ambiguous").Inc()
	case res.Outcome == model.Temporary:
		m.SMTPErrors.WithLabelValues("temporary").Inc()
	case res.Outcome == model.Permanent:
		m.SMTPErrors.WithLabelValues("permanent").Inc()
	}
}

// SMTPRelayUp sets a relay's up gauge (the mailer's RelayUp hook).
func (m *Metrics) SMTPRelayUp(relay string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.RelayUp.WithLabelValues(relay).Set(v)
}

// SMTPRelayAttempt counts one try on a relay (the mailer's RelayAttempt hook).
func (m *Metrics) SMTPRelayAttempt(relay, outcome string) {
	m.RelayAttempts.WithLabelValues(relay, outcome).Inc()
}

// FeedBuilt records one feed build's time (the feed handler's OnBuild hook).
func (m *Metrics) FeedBuilt(_ feeds.FeedID, took time.Duration, err error) {
	if err == nil {
		m.FeedBuildSeconds.Observe(took.Seconds())
	}
}

// Subscribe counts one POST /subscribe by result (the reader pages' hook).
func (m *Metrics) Subscribe(result string) {
	m.Subscribes.WithLabelValues(result).Inc()
}

// FeedsRefreshed counts a feed refresh that rebuilt something (the feeds
// refresher's OnRefresh hook).
func (m *Metrics) FeedsRefreshed(res feeds.RefreshResult, _ time.Duration, err error) {
	if err == nil && res.Rebuilt > 0 {
		m.FeedsRebuilt.Inc()
	}
}

// Report counts one bounce or complaint recorded (the lifecycle's
// OnReport hook).
func (m *Metrics) Report(kind string) {
	switch kind {
	case model.ReportComplaint:
		m.Complaints.Inc()
	case model.ReportHard, model.ReportSoft, model.ReportSender:
		m.Bounces.WithLabelValues(kind).Inc()
	}
}
