package subscription

import (
	"context"
	"errors"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/token"
)

// PrivacyStore reads and erases a subscriber's personal data.
type PrivacyStore interface {
	// SentTo lists what was sent or tried to a subscriber, oldest first.
	SentTo(ctx context.Context, subscriberID int64) ([]model.SentItem, error)
	ArticlesByID(ctx context.Context, ids []int64) ([]model.Article, error)
	// EraseSubscriber removes a subscriber's personal data and leaves the
	// keyed hash of the address (under key) on the suppression list.
	EraseSubscriber(ctx context.Context, id int64, key []byte) error
}

// MyData is everything herald keeps about one subscriber, as "download my
// data" gives it (JSON).
type MyData struct {
	Email         model.Address    `json:"email"`
	Name          string           `json:"name"`
	Status        string           `json:"status"`
	Timezone      string           `json:"timezone,omitempty"`
	CreatedAt     time.Time        `json:"created_at"`
	ConfirmedAt   *time.Time       `json:"confirmed_at,omitempty"`
	Subscriptions []MySubscription `json:"subscriptions"`
	Messages      []MyMessage      `json:"messages"`
}

// MySubscription is one digest a subscriber takes or took.
type MySubscription struct {
	Digest   string   `json:"digest"`
	Status   string   `json:"status"`
	Sections []string `json:"sections"`
	Authors  []string `json:"authors"`
}

// MyMessage is one message sent, or tried, to the subscriber.
type MyMessage struct {
	Kind      string      `json:"kind"` // a digest's name, or confirm, resubscribe, manage
	Status    string      `json:"status"`
	At        time.Time   `json:"at"`
	MessageID string      `json:"message_id,omitempty"`
	Articles  []MyArticle `json:"articles,omitempty"`
}

// MyArticle is an article a digest carried.
type MyArticle struct {
	ID    int64  `json:"id"`
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// errNoPrivacyStore: the service was built without a PrivacyStore.
var errNoPrivacyStore = errors.New("subscription: no privacy store configured")

// MyData returns everything kept about the subscriber a manage link (tok)
// names.
func (s *Service) MyData(ctx context.Context, tok string) (MyData, error) {
	sub, err := s.subscriberFor(ctx, tok, token.Manage)
	if err != nil {
		return MyData{}, err
	}
	if s.opt.Privacy == nil {
		return MyData{}, errNoPrivacyStore
	}
	d := MyData{Email: sub.Email, Name: sub.Name, Status: sub.Status, Timezone: sub.Timezone, CreatedAt: sub.CreatedAt,
		Subscriptions: []MySubscription{}, Messages: []MyMessage{}}
	if !sub.ConfirmedAt.IsZero() {
		d.ConfirmedAt = &sub.ConfirmedAt
	}
	subs, err := s.store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return d, err
	}
	for _, su := range subs {
		d.Subscriptions = append(d.Subscriptions, MySubscription{Digest: su.Digest, Status: su.Status,
			Sections: orEmpty(su.Sections), Authors: orEmpty(su.Authors)})
	}
	sent, err := s.opt.Privacy.SentTo(ctx, sub.ID)
	if err != nil {
		return d, err
	}
	var ids []int64
	for _, it := range sent {
		ids = append(ids, it.ArticleIDs...)
	}
	arts, err := s.opt.Privacy.ArticlesByID(ctx, ids)
	if err != nil {
		return d, err
	}
	byID := make(map[int64]model.Article, len(arts))
	for _, a := range arts {
		byID[a.ID] = a
	}
	for _, it := range sent {
		m := MyMessage{Kind: it.Kind, Status: it.Status, At: it.At, MessageID: it.MessageID}
		for _, id := range it.ArticleIDs {
			a := MyArticle{ID: id, Title: "(no longer published)"}
			if art, ok := byID[id]; ok {
				a.Title, a.URL = art.Title, art.URL
			}
			m.Articles = append(m.Articles, a)
		}
		d.Messages = append(d.Messages, m)
	}
	return d, nil
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// Erase removes the personal data of the subscriber a manage link (tok)
// names ("erase me"); see EraseSubscriber.
func (s *Service) Erase(ctx context.Context, tok string) error {
	sub, err := s.subscriberFor(ctx, tok, token.Manage)
	if err != nil {
		return err
	}
	return s.erase(ctx, sub)
}

// EraseAddress is Erase for an operator (`herald subscribers erase`).
func (s *Service) EraseAddress(ctx context.Context, address string) error {
	a, err := model.ParseAddress(address)
	if err != nil {
		return err
	}
	sub, found, err := s.store.FindSubscriber(ctx, a)
	if err != nil {
		return err
	}
	if !found {
		return ErrNoSubscriber.With("no subscriber %s", a)
	}
	return s.erase(ctx, sub)
}

func (s *Service) erase(ctx context.Context, sub model.Subscriber) error {
	if s.opt.Privacy == nil {
		return errNoPrivacyStore
	}
	key, err := s.suppressionKey(ctx)
	if err != nil {
		return err
	}
	if err := s.opt.Privacy.EraseSubscriber(ctx, sub.ID, key); err != nil {
		return err
	}
	s.log.Info("subscriber erased", "subscriber", sub.ID)
	return nil
}
