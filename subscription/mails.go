package subscription

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/i18n"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
	"github.com/heraldnews/herald/templates"
)

// mails renders the transactional mails: the double opt-in (confirm.*)
// and the link to the preferences page (manage.*).
type mails struct {
	cfg                     *config.Config
	cat                     *i18n.Catalog
	confirmHTML, manageHTML *htmltemplate.Template
	confirmText, manageText *texttemplate.Template
}

// mailData is what the transactional mails' templates receive.
type mailData struct {
	Site       templates.Site
	Subscriber struct{ Name, Email string }
	Name       string // the subscriber's, for the catalogue's messages
	Email      string
	Subject    string
	Digests    string // "Daily and Weekly"
	ConfirmURL string // confirm.*
	ManageURL  string // manage.*
}

func newMails(cfg *config.Config) (*mails, error) {
	cat, err := i18n.Load(cfg.TemplatesDir, cfg.Site.Language)
	if err != nil {
		return nil, err
	}
	m := &mails{cfg: cfg, cat: cat}
	f := cat.FuncMap()
	if m.confirmHTML, err = templates.ParseHTMLFuncs(cfg.TemplatesDir, f, "confirm.html.tmpl"); err != nil {
		return nil, err
	}
	if m.confirmText, err = templates.ParseTextFuncs(cfg.TemplatesDir, f, "confirm.txt.tmpl"); err != nil {
		return nil, err
	}
	if m.manageHTML, err = templates.ParseHTMLFuncs(cfg.TemplatesDir, f, "manage.html.tmpl"); err != nil {
		return nil, err
	}
	if m.manageText, err = templates.ParseTextFuncs(cfg.TemplatesDir, f, "manage.txt.tmpl"); err != nil {
		return nil, err
	}
	sample := model.Subscriber{Email: "reader@example.com"}
	if _, _, err := m.render(model.MailConfirm, sample, []string{"Sample"}, "t"); err != nil {
		return nil, fmt.Errorf("templates: confirmation email: %w", err)
	}
	if _, _, err := m.render(model.MailManage, sample, []string{"Sample"}, "t"); err != nil {
		return nil, fmt.Errorf("templates: manage email: %w", err)
	}
	return m, nil
}

// render renders the mail of kind for sub about the digests titled
// digestTitles, whose link carries tok.
func (m *mails) render(kind string, sub model.Subscriber, digestTitles []string, tok string) (text, html string, err error) {
	titles := m.cat.List(digestTitles)
	if titles == "" {
		titles = m.cat.T("mail.newsletter_any")
	}
	data := mailData{Site: templates.SiteOf(m.cfg.Site), Digests: titles, Subject: m.subject(kind)}
	data.Site.Language = m.cat.Lang()
	data.Subscriber.Name, data.Subscriber.Email = sanitize.Line(sub.Name), string(sub.Email)
	data.Name, data.Email = data.Subscriber.Name, data.Subscriber.Email
	ht, tt := m.confirmHTML, m.confirmText
	if kind == model.MailManage {
		ht, tt = m.manageHTML, m.manageText
		data.ManageURL = m.cfg.HTTP.BaseURL + "/preferences?token=" + tok
	} else {
		data.ConfirmURL = m.cfg.HTTP.BaseURL + "/confirm?token=" + tok
	}
	var tb, hb bytes.Buffer
	if err := tt.Execute(&tb, data); err != nil {
		return "", "", fmt.Errorf("%s text: %w", kind, err)
	}
	if err := ht.Execute(&hb, data); err != nil {
		return "", "", fmt.Errorf("%s HTML: %w", kind, err)
	}
	html, err = templates.InlineCSS(hb.String())
	return tb.String(), html, err
}

// subject is the subject line of mail of kind.
func (m *mails) subject(kind string) string {
	key := "mail.confirm.subject"
	if kind == model.MailManage {
		key = "mail.manage.subject"
	}
	return sanitize.Line(m.cat.T(key, map[string]string{"Site": m.cfg.Site.Name}))
}

// ConfirmationMessage composes the double opt-in email for sub, naming its
// active subscriptions.
func (s *Service) ConfirmationMessage(ctx context.Context, sub model.Subscriber) (*model.Message, error) {
	return s.message(ctx, model.Mail{Kind: model.MailConfirm, SubscriberID: sub.ID, To: sub.Email}, sub,
		fmt.Sprintf("<confirm.%d.%d@%s>", sub.ID, s.now().UnixNano(), s.domain()))
}

// message composes transactional mail m to sub with Message-ID msgID.
func (s *Service) message(ctx context.Context, m model.Mail, sub model.Subscriber, msgID string) (*model.Message, error) {
	var (
		titles []string
		tok    string
	)
	title := func(digest string) string {
		if d, err := s.digest(digest); err == nil {
			return sanitize.Line(d.Title)
		}
		return digest
	}
	switch m.Kind {
	case model.MailConfirm, model.MailManage:
		subs, err := s.store.SubscriptionsOf(ctx, sub.ID)
		if err != nil {
			return nil, err
		}
		for _, su := range subs {
			if su.Status == model.SubscriptionActive {
				titles = append(titles, title(su.Digest))
			}
		}
		tok = s.tokens.Make(token.Confirm, sub.ID, ConfirmTTL)
		if m.Kind == model.MailManage {
			tok = s.tokens.Make(token.Manage, sub.ID, ConfirmTTL)
		}
	case model.MailResubscribe:
		su, err := s.store.SubscriptionByID(ctx, m.SubscriptionID)
		if err != nil {
			return nil, err
		}
		titles = []string{title(su.Digest)}
		tok = s.tokens.Make(token.Resubscribe, su.ID, ConfirmTTL)
	default:
		return nil, fmt.Errorf("subscription: no mail of kind %q", m.Kind)
	}
	text, html, err := s.mail.render(m.Kind, sub, titles, tok)
	if err != nil {
		return nil, err
	}
	msg := &model.Message{
		MessageID: msgID,
		Date:      s.now(),
		From:      s.cfg.SMTP.From,
		ReplyTo:   s.cfg.SMTP.ReplyTo,
		ToAddr:    sub.Email,
		ToName:    sanitize.Line(sub.Name),
		Subject:   s.mail.subject(m.Kind),
		Text:      text,
		HTML:      html,
		Headers:   []model.Header{{Name: "Auto-Submitted", Value: "auto-generated"}},
	}
	if s.opt.ReturnPath != nil && m.ID != 0 {
		msg.ReturnPath = s.opt.ReturnPath(m.ID)
	}
	return msg, nil
}
