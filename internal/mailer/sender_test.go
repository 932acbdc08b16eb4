package mailer_test

import (
	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/mailer"
)

// The mailer is the outbox's Sender. The assertion lives in a test file so
// package mailer does not import package digest.
var _ digest.Sender = (*mailer.Mailer)(nil)
