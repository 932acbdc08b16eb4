package digest

import (
	"context"

	"github.com/heraldnews/herald/internal/model"
)

// Sender delivers composed messages. The outbox runs Workers() goroutines,
// each calling Send with its own worker index, so an implementation can keep
// one connection per worker and reuse it across messages. Send never retries:
// it classifies the result (accepted, temporary, permanent) and the outbox
// decides what happens next. internal/mailer implements it for SMTP and for
// the file transport.
type Sender interface {
	Workers() int
	Send(ctx context.Context, worker int, msg *model.Message) model.SendResult
	Close() error
}
