package subscription

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
	"github.com/heraldnews/herald/templates"
)

// confirmMail renders the double opt-in email.
type confirmMail struct {
	cfg  *config.Config
	html *htmltemplate.Template
	text *texttemplate.Template
}

// confirmData is what the confirmation email's templates receive.
type confirmData struct {
	Site       templates.Site
	Subscriber struct{ Name, Email string }
	Digests    string // "Daily and Weekly"
	ConfirmURL string
}

func newConfirmMail(cfg *config.Config) (*confirmMail, error) {
	c := &confirmMail{cfg: cfg}
	var err error
	if c.html, err = templates.ParseHTML(cfg.TemplatesDir, "confirm.html.tmpl"); err != nil {
		return nil, err
	}
	if c.text, err = templates.ParseText(cfg.TemplatesDir, "confirm.txt.tmpl"); err != nil {
		return nil, err
	}
	if _, _, err := c.render(model.Subscriber{Email: "reader@example.com"}, []string{"Sample"}, "t"); err != nil {
		return nil, fmt.Errorf("templates: confirmation email: %w", err)
	}
	return c, nil
}

func (c *confirmMail) render(sub model.Subscriber, digestTitles []string, tok string) (text, html string, err error) {
	titles := "our newsletter"
	switch n := len(digestTitles); {
	case n == 1:
		titles = digestTitles[0]
	case n > 1:
		titles = strings.Join(digestTitles[:n-1], ", ") + " and " + digestTitles[n-1]
	}
	data := confirmData{Site: templates.SiteOf(c.cfg.Site), Digests: titles, ConfirmURL: c.cfg.HTTP.BaseURL + "/confirm?token=" + tok}
	data.Subscriber.Name, data.Subscriber.Email = sanitize.Line(sub.Name), string(sub.Email)
	var tb, hb bytes.Buffer
	if err := c.text.Execute(&tb, data); err != nil {
		return "", "", fmt.Errorf("confirmation text: %w", err)
	}
	if err := c.html.Execute(&hb, data); err != nil {
		return "", "", fmt.Errorf("confirmation HTML: %w", err)
	}
	html, err = templates.InlineCSS(hb.String())
	return tb.String(), html, err
}

// ConfirmationMessage composes the double opt-in email for sub.
func (s *Service) ConfirmationMessage(ctx context.Context, sub model.Subscriber) (*model.Message, error) {
	subs, err := s.store.SubscriptionsOf(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	var titles []string
	for _, su := range subs {
		if su.Status != model.SubscriptionActive {
			continue
		}
		if d, err := s.digest(su.Digest); err == nil {
			titles = append(titles, sanitize.Line(d.Title))
		}
	}
	tok := s.tokens.Make(token.Confirm, sub.ID, ConfirmTTL)
	text, html, err := s.mail.render(sub, titles, tok)
	if err != nil {
		return nil, err
	}
	return &model.Message{
		MessageID: fmt.Sprintf("<confirm.%d.%d@%s>", sub.ID, s.now().UnixNano(), s.domain()),
		Date:      s.now(),
		From:      s.cfg.SMTP.From,
		ReplyTo:   s.cfg.SMTP.ReplyTo,
		ToAddr:    sub.Email,
		ToName:    sanitize.Line(sub.Name),
		Subject:   sanitize.Line("Confirm your subscription to " + s.cfg.Site.Name),
		Text:      text,
		HTML:      html,
		Headers:   []model.Header{{Name: "Auto-Submitted", Value: "auto-generated"}},
	}, nil
}

// SendConfirmation sends sub the double opt-in email.
func (s *Service) SendConfirmation(ctx context.Context, sub model.Subscriber) error {
	msg, err := s.ConfirmationMessage(ctx, sub)
	if err != nil {
		return err
	}
	if err := s.sendAndWait(ctx, msg); err != nil {
		return err
	}
	s.log.Info("confirmation sent", "subscriber", sub.ID)
	return nil
}

// ErrNoSubscriber: the address a confirm or preferences link names is no
// longer on the list.
var ErrNoSubscriber = &model.Error{Code: model.ENOTFOUND, Message: "This address is no longer on our list. You can subscribe again on our site."}

// ConfirmTarget returns the subscriber a confirm link (tok) names, changing
// nothing.
func (s *Service) ConfirmTarget(ctx context.Context, tok string) (model.Subscriber, error) {
	return s.subscriberFor(ctx, tok, token.Confirm)
}

// subscriberFor returns the subscriber a link's token (made for purpose)
// names; an erased one counts as gone.
func (s *Service) subscriberFor(ctx context.Context, tok, purpose string) (model.Subscriber, error) {
	id, err := s.verify(tok, purpose)
	if err != nil {
		return model.Subscriber{}, err
	}
	sub, err := s.store.SubscriberByID(ctx, id)
	if model.ErrorCode(err) == model.ENOTFOUND || err == nil && sub.Status == model.SubscriberErased {
		return model.Subscriber{}, ErrNoSubscriber
	}
	return sub, err
}

// Confirm completes the double opt-in of the subscriber tok names: the
// address becomes active (lifting bounced and erased, as design.md says).
func (s *Service) Confirm(ctx context.Context, tok string) (model.Subscriber, error) {
	sub, err := s.ConfirmTarget(ctx, tok)
	if err != nil {
		return sub, err
	}
	if sub.Status != model.SubscriberActive {
		if err := s.store.SetSubscriberStatus(ctx, sub.ID, model.SubscriberActive); err != nil {
			return sub, err
		}
		sub.Status = model.SubscriberActive
		s.log.Info("subscriber confirmed", "subscriber", sub.ID)
	}
	return sub, nil
}
