// Package receiver is an SMTP server for bounce mail: it accepts messages
// for the recipients its caller accepts and hands each one, whole, to its
// caller. It is built on github.com/emersion/go-smtp's server side.
//
// Data enters over SMTP on a listener the caller opens ([Server.Serve]).
// Each RCPT TO is put to [Options.Accept]: nil accepts, an error wrapping
// [ErrTemporary] answers 451 so the sender retries, any other error
// answers 550. There is no AUTH and no relaying: a recipient the caller
// does not accept is refused, and an accepted message never leaves the
// process. A message over [Options.MaxBytes] is refused with 552. Data
// leaves through [Options.Deliver] with the accepted recipients and the
// raw message bytes; its error answers 451, so the sending MTA keeps the
// message and tries again later, and its success answers 250.
//
// Serve stops when its context ends: it closes the listener, lets the
// messages in flight finish for up to [Options.ShutdownGrace], then closes
// what is left.
package receiver
