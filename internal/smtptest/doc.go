// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) in
// the test process, on 127.0.0.1 with a kernel-chosen port, for tests of
// code that sends mail.
//
// Data enters through SMTP: every message the server accepts is recorded
// with its envelope, raw bytes and arrival time. It leaves through
// [Server.Messages] and [Server.CountFor], so a test can assert that each
// recipient got a message exactly once. A test scripts the server's replies
// with a hook ([Options.Hook], [Server.SetHook]) that sees each MAIL, RCPT
// and DATA step and answers with an [Action]: accept, an SMTP error reply,
// drop the connection, or stall. The server can offer STARTTLS or implicit
// TLS with a self-signed certificate made in-process, and require AUTH
// PLAIN. [Server.Violations] lists commands go-smtp tolerates but strict
// servers refuse (a MAIL FROM without angle brackets), and
// [Options.Latency] delays every reply like a network round trip.
//
// Import it from _test.go files only.
package smtptest
