// Package provider verifies and reads the bounce and complaint webhooks of
// the relays that accept mail with 250 and report failures later: Amazon
// SES (through SNS), Postmark, Mailgun and SendGrid, one file each.
//
// Data enters as the provider's HTTP request (*http.Request): each type's
// Parse reads the body (at most [MaxBody] bytes), checks the provider's
// signature scheme first and only then decodes the payload. Data leaves as
// [Event] values: a bounce.Report (kind, recipient, status code,
// diagnostic, the original Message-ID where the provider reports it, time)
// plus the provider's own ids and metadata. A request whose signature or
// credentials are wrong or missing is [ErrSignature] (the HTTP layer
// answers 401 and changes nothing); a well-signed request that cannot be
// read is [ErrPayload] (400). Events the package does not act on
// (deliveries, opens, a delay) come back with Kind bounce.None or are left
// out.
//
// Signature schemes:
//
//   - SES through SNS ([SNS]): the SNS message signature (SignatureVersion
//     1, RSA SHA-1; 2, RSA SHA-256) over the canonical string of the
//     message's fields, checked against the signing certificate fetched
//     from SigningCertURL, which must be https on an SNS host
//     (sns.<region>.amazonaws.com) and ending in .pem; the TopicArn must be
//     in the allow-list (any AWS account can sign an SNS message). A
//     SubscriptionConfirmation returns its SubscribeURL for the caller to
//     GET ([SNS.Confirm] does it through the same client).
//   - Postmark ([Postmark]): HTTP basic auth credentials put in the
//     webhook URL, compared in constant time.
//   - Mailgun ([Mailgun]): HMAC-SHA256 of timestamp+token with the webhook
//     signing key; the timestamp must be within a window of now, and a
//     token seen before is refused (a replay cache of bounded size).
//   - SendGrid ([SendGrid]): the ECDSA P-256 signature in
//     X-Twilio-Email-Event-Webhook-Signature over the
//     X-Twilio-Email-Event-Webhook-Timestamp value followed by the raw
//     body, checked with the configured public key.
//
// Kinds follow package bounce's policy: a provider's own verdict
// (permanent, hard) gives way to the status code it reports, so a
// permanent failure for a spam block is soft, and only a bad address is
// hard.
package provider
