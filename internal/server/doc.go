// Package server is herald serve's HTTP side: the stdlib ServeMux with
// method patterns for the feed routes, the subscribe form, the
// confirm/unsubscribe/preferences pages, the admin API, /healthz and
// /metrics, plus request logging, per-client rate limiting and timeouts.
//
// The handlers that do the work come in through Options: the feed handler
// from package feeds, the pages from package digest, and small interfaces for
// subscribing and starting editions, so this package imports neither the
// store nor the mailer.
package server
