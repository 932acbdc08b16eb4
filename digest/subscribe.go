package digest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// ParseEmail validates an address typed by a person (net/mail, no display
// name, a domain with at least two sane labels) and returns it normalised:
// trimmed, domain lower-cased.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n\t <>,;\"") {
		return "", fmt.Errorf("%w: %q", ErrInvalidEmail, s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", fmt.Errorf("%w: %q", ErrInvalidEmail, s)
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if local == "" || len(local) > 64 || !saneDomain(domain) {
		return "", fmt.Errorf("%w: %q has no valid domain", ErrInvalidEmail, s)
	}
	return local + "@" + domain, nil
}

func saneDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return len(tld) >= 2 && strings.Trim(tld, "0123456789") != ""
}

// SubscribeRequest is one subscriber to add: the CLI's `subscribers add`
// and the daemon's POST /subscribe.
type SubscribeRequest struct {
	Email     string
	Name      string
	Digest    string   // "" for the first digest
	Sections  []string // follows; none means everything
	Authors   []string
	Confirmed bool // add as active, without the confirmation email
	// Async sends the confirmation email in the background (the daemon's
	// POST /subscribe): the answer then takes the same time whether or not
	// the address is new, and an SMTP hiccup is logged rather than shown.
	// Service.Wait waits for such sends.
	Async bool
}

// ConfirmEvery is the least time between two confirmation emails to one
// address: repeated subscribe requests for a pending address (from any
// number of clients) cannot turn into a mail storm.
const ConfirmEvery = 10 * time.Minute

// confirmDue records that address is about to get a confirmation email,
// reporting false when it got one less than ConfirmEvery ago.
func (s *Service) confirmDue(address string) bool {
	s.confirmAtMu.Lock()
	defer s.confirmAtMu.Unlock()
	now := s.now()
	if s.confirmAt == nil || len(s.confirmAt) > 100_000 {
		s.confirmAt = map[string]time.Time{}
	}
	if last, ok := s.confirmAt[address]; ok && now.Sub(last) < ConfirmEvery {
		return false
	}
	s.confirmAt[address] = now
	return true
}

// Wait waits for confirmation emails sent in the background.
func (s *Service) Wait() { s.bg.Wait() }

// Subscribe creates or updates a subscriber and their subscription to one
// digest. Unless req.Confirmed, a new or still pending subscriber stays
// pending and is sent a confirmation email (double opt-in); an active one
// keeps its status. A bounced or erased address is made pending again and
// must confirm. An unconfirmed request for an address that is already
// active changes nothing (a stranger must not alter someone's
// subscriptions; the subscriber uses the preferences page linked from every
// digest). It returns the subscriber and whether a confirmation email went
// out.
func (s *Service) Subscribe(ctx context.Context, req SubscribeRequest) (model.Subscriber, bool, error) {
	email, err := ParseEmail(req.Email)
	if err != nil {
		return model.Subscriber{}, false, err
	}
	d, err := s.digest(req.Digest)
	if err != nil {
		return model.Subscriber{}, false, err
	}
	if err := s.checkSlugs(ctx, req.Sections, req.Authors); err != nil {
		return model.Subscriber{}, false, err
	}
	name := sanitize.Line(req.Name)
	if len([]rune(name)) > 200 {
		name = string([]rune(name)[:200])
	}
	status := ""
	if req.Confirmed {
		status = model.SubscriberActive
	} else if cur, ok, err := s.store.FindSubscriber(ctx, email); err != nil {
		return model.Subscriber{}, false, err
	} else if ok && (cur.Status == model.SubscriberBounced || cur.Status == model.SubscriberErased) {
		status = model.SubscriberPending
	} else if ok && cur.Status == model.SubscriberActive {
		s.log.Info("subscribe request for an active address ignored", "subscriber", cur.ID)
		return cur, false, nil
	}
	sub, _, err := s.store.UpsertSubscriber(ctx, email, name, status)
	if err != nil {
		return sub, false, err
	}
	if _, err := s.store.UpsertSubscription(ctx, sub.ID, d.Name, req.Sections, req.Authors, model.SubscriptionActive); err != nil {
		return sub, false, err
	}
	if sub.Status != model.SubscriberPending {
		return sub, false, nil
	}
	if !s.confirmDue(sub.Email) {
		s.log.Info("confirmation not resent: one went out recently", "subscriber", sub.ID)
		return sub, false, nil
	}
	if req.Async {
		bctx := context.WithoutCancel(ctx)
		s.bg.Go(func() {
			if err := s.SendConfirmation(bctx, sub); err != nil {
				s.log.Warn("confirmation email failed", "subscriber", sub.ID, "err", err)
				s.forgetConfirm(sub.Email) // let the next request try again
			}
		})
		return sub, true, nil
	}
	if err := s.SendConfirmation(ctx, sub); err != nil {
		s.forgetConfirm(sub.Email)
		return sub, false, err
	}
	return sub, true, nil
}

func (s *Service) forgetConfirm(address string) {
	s.confirmAtMu.Lock()
	delete(s.confirmAt, address)
	s.confirmAtMu.Unlock()
}

// ErrUnknownSlug: a section or author slug that does not exist.
var ErrUnknownSlug = errors.New("digest: unknown slug")

// checkSlugs refuses section and author slugs that do not exist.
func (s *Service) checkSlugs(ctx context.Context, sections, authors []string) error {
	if len(sections) > 0 {
		all, err := s.store.Sections(ctx)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, sec := range all {
			have[sec.Slug] = true
		}
		for _, slug := range sections {
			if !have[slug] {
				return fmt.Errorf("%w: no section with slug %q", ErrUnknownSlug, slug)
			}
		}
	}
	if len(authors) > 0 {
		all, err := s.store.Authors(ctx)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, au := range all {
			have[au.Slug] = true
		}
		for _, slug := range authors {
			if !have[slug] {
				return fmt.Errorf("%w: no author with slug %q", ErrUnknownSlug, slug)
			}
		}
	}
	return nil
}

// confirmData is what the confirmation email's templates receive.
type confirmData struct {
	Site       SiteView
	Subscriber SubscriberView
	Digests    string // "Daily and Weekly"
	ConfirmURL string
}

func (s *Service) renderConfirm(sub model.Subscriber, digestTitles []string, tok string) (text, html string, err error) {
	titles := "our newsletter"
	switch n := len(digestTitles); {
	case n == 1:
		titles = digestTitles[0]
	case n > 1:
		titles = strings.Join(digestTitles[:n-1], ", ") + " and " + digestTitles[n-1]
	}
	data := confirmData{
		Site: s.siteView(), Subscriber: SubscriberView{Name: sanitize.Line(sub.Name), Email: sub.Email},
		Digests: titles, ConfirmURL: s.cfg.HTTP.BaseURL + "/confirm?token=" + tok,
	}
	var tb, hb bytes.Buffer
	if err := s.tmpl.confirmText.Execute(&tb, data); err != nil {
		return "", "", fmt.Errorf("confirmation text: %w", err)
	}
	if err := s.tmpl.confirmHTML.Execute(&hb, data); err != nil {
		return "", "", fmt.Errorf("confirmation HTML: %w", err)
	}
	html, err = inlineCSS(hb.String())
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
	text, html, err := s.renderConfirm(sub, titles, tok)
	if err != nil {
		return nil, err
	}
	return &model.Message{
		MessageID: fmt.Sprintf("<confirm.%d.%d@%s>", sub.ID, s.now().UnixNano(), s.domain),
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

// SendConfirmation sends sub the double opt-in email, on the Sender's
// worker 0 (shared safely with a running send loop).
func (s *Service) SendConfirmation(ctx context.Context, sub model.Subscriber) error {
	if s.sender == nil {
		return fmt.Errorf("digest: no sender configured to confirm %s", sub.Email)
	}
	msg, err := s.ConfirmationMessage(ctx, sub)
	if err != nil {
		return err
	}
	res := s.send(ctx, 0, msg)
	if res.Outcome != model.Accepted {
		return fmt.Errorf("digest: confirmation email to %s: %s (%s)", sub.Email, res.Outcome, sanitize.Line(res.Reply))
	}
	s.log.Info("confirmation sent", "subscriber", sub.ID)
	return nil
}
