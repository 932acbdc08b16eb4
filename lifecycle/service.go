package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
)

// ReportStore matches reports to what herald sent and records them
// (internal/store).
type ReportStore interface {
	SentByDelivery(ctx context.Context, id int64) (model.SentMessage, error)
	SentByMail(ctx context.Context, id int64) (model.SentMessage, error)
	SentByMessageID(ctx context.Context, msgID string) (model.SentMessage, error)
	// LastSentTo is the latest message sent to address at or before before.
	LastSentTo(ctx context.Context, address model.Address, before time.Time) (model.SentMessage, error)
	SubscriptionByID(ctx context.Context, id int64) (model.Subscription, error)
	// SoftBounces counts the distinct messages that soft-bounced since since.
	SoftBounces(ctx context.Context, subscriberID int64, since time.Time) (int, error)
	// RecordReport stores an event and applies effect (model.Effect*).
	RecordReport(ctx context.Context, ev model.BounceEvent, effect string) (bool, error)
}

// SuppressionStore keeps the suppression list's operator entries.
type SuppressionStore interface {
	Suppressions(ctx context.Context) ([]model.Suppression, error)
	SuppressionPage(ctx context.Context, q model.SuppressionQuery) ([]model.Suppression, error)
	Suppress(ctx context.Context, entry, note string) error
	Unsuppress(ctx context.Context, entry string) (bool, error)
}

// HousekeepingStore prunes what is kept too long.
type HousekeepingStore interface {
	PrunePending(ctx context.Context, before time.Time) (int64, error)
	PruneDeliveries(ctx context.Context, before, keepArticles time.Time) (int64, error)
}

// Options configure a Service.
type Options struct {
	Config       *config.Config // required, validated
	Reports      ReportStore    // required
	Suppressions SuppressionStore
	Housekeeping HousekeepingStore
	// VERP reads the addresses mail left with; nil when bounces.address
	// is empty (matching then goes by Message-ID and address).
	VERP *VERP
	// OnReport is told each applied report's kind (hard, soft, sender,
	// complaint, unsubscribe), for metrics.
	OnReport func(kind string)
	Log      *slog.Logger
	Now      func() time.Time
}

// Service handles what comes back after mail left, keeps the suppression
// list and does the housekeeping.
type Service struct {
	opt Options
	cfg *config.Config
	log *slog.Logger
	now func() time.Time
}

// New returns a Service.
func New(opt Options) (*Service, error) {
	if opt.Config == nil || opt.Reports == nil {
		return nil, errors.New("lifecycle: New needs a config and a report store")
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.OnReport == nil {
		opt.OnReport = func(string) {}
	}
	return &Service{opt: opt, cfg: opt.Config, log: opt.Log, now: opt.Now}, nil
}
