// Package server is herald serve's HTTP server: it mounts every route on
// one stdlib ServeMux with method patterns — the feed handler (package
// feeds, reached ahead of the mux on the hot path), the reader pages
// (internal/server/reader), the JSON API (internal/server/api), the
// relays' webhooks (internal/server/webhooks), /healthz and /metrics — and
// adds request logging, timeouts and graceful shutdown. The mux records
// every pattern mounted (Server.Routes), so a test can send every method
// to every route. It owns herald's Prometheus metrics.
//
// All HTTP lives under this directory except the feed handler: one page
// template set, one set of security headers and one mapping from domain
// error codes to statuses, in internal/server/web. The route groups come in
// through Options as Registrars, so this package imports neither the store
// nor the mailer.
package server
