// Package lifecycle is what happens to a subscriber after the relay said
// 250: bounces and complaints that arrive later, the suppression list, and
// the housekeeping that keeps a list clean and personal data short-lived.
//
// Mail leaves with a VERP envelope sender naming its delivery or
// transactional mail (VERP, wired into package digest and package
// subscription). What comes back enters three ways, through one handler:
// raw messages (Service.HandleRaw) from `herald bounces process` (an MTA's
// pipe), from the SMTP listener on bounces.listen (Service.Accept decides
// each recipient) and from an IMAP mailbox (bounces.imap); and provider
// events (Service.HandleEvents) from the webhooks that
// internal/server/webhooks verifies. Package bounce parses and classifies;
// this package matches each report to what herald sent — by the VERP
// token, else by the original Message-ID, else by the failed recipient's
// address among those herald mailed — and applies the policy:
//
//	hard        the subscriber becomes bounced (suppressed)
//	soft        counted: bounces.soft_limit soft bounces from distinct
//	            editions within bounces.soft_window make it bounced
//	sender      recorded on the delivery, nothing against the address
//	complaint   the subscriber becomes complained: every subscription
//	            ends and the address is suppressed
//	none        (auto-replies, delay notices, a reader's reply) nothing
//
// A mail to the List-Unsubscribe mailto (unsubscribe+TOKEN@…) ends the
// subscription its token names. Each event is recorded on its delivery
// (herald editions show lists them). Data leaves as rows through the
// stores declared here (internal/store implements them) and as counts
// through Options.OnReport (metrics).
//
// Run is the service's loop: the SMTP listener, the mailbox poll and the
// housekeeping (pending subscribers older than subscribers.pending_ttl are
// deleted; delivery rows older than subscribers.delivery_retention are
// pruned, keeping the received-article records a digest's lookback still
// needs).
package lifecycle
