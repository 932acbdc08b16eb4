// Package bounce reads one inbound message — a bounce, a complaint, or
// something else that reached the bounce address — and says what it
// reports: which recipient failed or complained, with what status code and
// reason, and which kind of event that is for the address.
//
// Data enters as raw RFC 5322 bytes through [Parse] (from a pipe, an SMTP
// receiver, an IMAP mailbox). MIME is read with github.com/emersion/go-message
// (charsets included); nothing is parsed by hand but the human-readable
// bounce texts. Data leaves as a [Message]: one [Report] per recipient,
// the message's own envelope hints (Delivered-To, X-Original-To,
// Envelope-To, To, Return-Path) for finding a VERP token, and the returned
// message's headers (Message-ID, To, X-* and List-*). The package keeps no
// state, touches no store and sends nothing: matching a report to a
// delivery and acting on it is the caller's job.
//
// # What it reads
//
//   - RFC 3464 delivery status notifications (multipart/report;
//     report-type=delivery-status, and the RFC 6533 global variants): per
//     recipient Action, Status, Final-Recipient, Original-Recipient,
//     Diagnostic-Code, Remote-MTA, with the Reporting-MTA, and the returned
//     message (message/rfc822) or its headers (text/rfc822-headers).
//   - RFC 5965 ARF feedback reports (report-type=feedback-report):
//     Feedback-Type, Original-Rcpt-To (or the returned message's To when a
//     provider redacts it), and Microsoft's JMRP (a forwarded message with
//     X-HmXmrOriginalRecipient).
//   - Bounce texts without a status part, as qmail, Exim (with
//     X-Failed-Recipients), Sendmail, OpenSMTPD, Exchange and Office 365,
//     Gmail, Yahoo and others write them: the failed recipients from the
//     lines that name them (bouncePhrases and findRecipients in text.go),
//     the enhanced status code and the SMTP reply in the text, and the
//     message quoted after "--- Below this line is a copy of the message."
//     and its kin.
//   - Messages that are not bounces: auto-replies (Auto-Submitted,
//     X-Autoreply, X-Autorespond, Precedence, X-Auto-Response-Suppress,
//     subjects such as "Automatic reply:" or "Out of Office"),
//     challenge-response requests, a reader's reply, and delay notices
//     (Action: delayed, "THIS IS A WARNING MESSAGE ONLY"). They come back
//     with Kind None and a Reason.
//
// # Policy
//
// A failure is classified by [Classify]: first [StatusRules] on its RFC
// 3463 enhanced status code, then [TextRules] on its text when the code is
// missing, X.0.0 or says too little (5.1.0 and the other 5.1.x codes
// without a row); no match is Soft. Both tables are exported so the README
// can quote them and a deployment's reading can be checked.
//
//	hard       the mailbox or domain does not exist or has moved:
//	           5.1.1, 5.1.2, 5.1.3, 5.1.6, 5.1.10; 5.4.1 "Recipient address
//	           rejected: Access denied" (Exchange Online's directory
//	           check); 5.4.4 with "Host or domain name not found";
//	           texts: "user unknown", "no such user", "no mailbox here by
//	           that name", "Unrouteable address", "address not found",
//	           "does not exist", "no such domain" ...
//	soft       everything else, even with a 5xx: mailbox full (X.2.x),
//	           too large (X.3.4), expired (X.4.7), greylisting, blocked,
//	           spam or policy (X.7.x), system errors; counted, never
//	           suppressing on its own
//	sender     blames the sender or the relay, never the address:
//	           X.1.7, X.1.8, relay access denied, authentication required
//	           (X.7.8), sender authentication (X.7.20-X.7.27: DKIM, SPF,
//	           DMARC, reverse DNS), X.3.x, X.4.x, X.5.x
//	none       Action delayed, delivered, relayed or expanded; 2.x.x;
//	           anything that is not a bounce
//	complaint  an ARF report whose Feedback-Type is in [FeedbackKinds] as a
//	           complaint (abuse, fraud); not-spam and other are none,
//	           virus and auth-failure are sender
//
// The table puts specific rows before their ranges: X.4.7 (expired) is
// soft although X.4.x is sender, X.3.4 (too big) is soft although X.3.x is
// sender, and 5.7.1 with "Relay access denied" is sender although X.7.x is
// soft. X.7.9 is deliberately absent: Yahoo answers 5.7.9 for policy
// rejections, which are soft.
//
// # Limits
//
// Parse reads at most [MaxRead] bytes and drains the rest; it visits at
// most 64 MIME parts 8 levels deep, keeps 64 KiB of text and returns at
// most 100 reports. A message whose header cannot be read is
// [ErrNotMessage]; anything else is a Message, possibly with no reports.
//
// Files: bounce.go (types, Parse), parts.go (the MIME walk), report.go
// (DSN and ARF fields), text.go (bounce texts), notbounce.go (auto-replies
// and the rest), classify.go (the tables), address.go (addresses and
// status codes in text).
package bounce
