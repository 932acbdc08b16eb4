// Package digest plans and sends email digests: editions, per-subscriber
// article selection, rendering, the outbox and its send loop.
//
// Data enters as articles and subscriptions through the Store interface this
// package declares (implemented by internal/store) and leaves as composed
// model.Message values handed to a Sender (implemented by internal/mailer).
package digest
