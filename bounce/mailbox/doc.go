// Package mailbox polls an ordinary IMAP mailbox for bounce mail, for
// publishers whose bounce address is a mailbox at their mail host rather
// than a pipe or herald's own SMTP receiver. It uses
// github.com/emersion/go-imap/v2's client.
//
// Data enters from the IMAP server: each pass ([Poller.Poll]) logs in,
// selects the mailbox and fetches, one at a time and without setting
// \Seen, the messages that are neither \Seen nor \Deleted. Each raw
// message leaves through [Options.Handle]. Only when Handle returns nil is
// the message marked \Seen, moved to another mailbox, or deleted and
// expunged ([Options.After]); a Handle error leaves it untouched and ends
// the pass, so the next pass offers it (and the ones after it) again. Handle should therefore return nil for a
// message it deliberately ignores and an error only for a failure worth
// retrying (the store is down). [Poller.Run] polls every
// [Options.Interval] until its context ends.
//
// The connection uses TLS from the first byte (port 993) by default,
// STARTTLS, or (only for tests on loopback) no TLS; [Options.TLSConfig]
// sets the roots and server name.
package mailbox
