package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldnews/herald/bounce"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
)

// ErrTemporary wraps a failure to record a report now (the database): the
// caller answers so that the sender tries again later (exit 75, SMTP 451,
// HTTP 5xx).
var ErrTemporary = errors.New("lifecycle: could not record the report now")

// Outcome says what one inbound message or one provider batch did.
type Outcome struct {
	Recorded int      // reports recorded against what herald sent
	Ignored  []string // why the others changed nothing
}

func (o *Outcome) ignore(format string, args ...any) {
	o.Ignored = append(o.Ignored, fmt.Sprintf(format, args...))
}

// HandleRaw parses one inbound message (an MTA's pipe, the SMTP listener,
// the mailbox) and handles it; rcpts are its envelope recipients when
// known. Input that is not a message at all is ignored, not an error: an
// MTA would otherwise offer it forever.
func (s *Service) HandleRaw(ctx context.Context, source string, rcpts []string, raw []byte) (Outcome, error) {
	msg, err := bounce.Parse(bytes.NewReader(raw))
	if errors.Is(err, bounce.ErrNotMessage) {
		s.log.Info("inbound mail ignored: not a mail message", "source", source)
		return Outcome{Ignored: []string{"not a mail message"}}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	return s.HandleMessage(ctx, source, rcpts, msg)
}

// HandleMessage handles one parsed inbound message: a mail to a
// subscription's unsubscribe address ends it; each report is matched —
// VERP token, original Message-ID, failed recipient — and the policy
// applied. A message that is not a bounce changes nothing.
func (s *Service) HandleMessage(ctx context.Context, source string, rcpts []string, msg bounce.Message) (Outcome, error) {
	var (
		out  Outcome
		verp Target
	)
	for _, a := range append(append([]string(nil), rcpts...), msg.Recipients()...) {
		t := s.opt.VERP.Parse(a)
		switch t.Kind {
		case ToUnsubscribe:
			return s.unsubscribeByMail(ctx, source, t.ID)
		case ToDelivery, ToMail:
			if verp.Kind == NotOurs {
				verp = t
			}
		}
	}
	if len(msg.Reports) == 0 {
		out.ignore("not a bounce or complaint (%s)", orWord(msg.Reason, "unrecognised"))
		s.log.Info("inbound mail ignored", "source", source, "reason", out.Ignored[0])
		return out, nil
	}
	for _, r := range msg.Reports {
		if r.Kind == bounce.None {
			out.ignore("%s: %s", orWord(r.Recipient, "a recipient"), orWord(msg.Reason, orWord(r.Action, "not a failure")))
			continue
		}
		// The VERP token names the one message this bounce is about; with
		// several reports, only the one for that message's address uses it.
		if err := s.report(ctx, &out, source, verp, len(msg.Reports) == 1, r, time.Time{}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// HandleEvents handles a provider's verified reports (webhooks): matched
// by the original Message-ID, else by recipient among the messages sent
// up to the report's time.
func (s *Service) HandleEvents(ctx context.Context, source string, reports []bounce.Report) (Outcome, error) {
	var out Outcome
	for _, r := range reports {
		if r.Kind == bounce.None {
			out.ignore("%s: not a failure", orWord(r.Recipient, "a recipient"))
			continue
		}
		if err := s.report(ctx, &out, source, Target{}, false, r, r.At); err != nil {
			return out, err
		}
	}
	return out, nil
}

// report matches one report and applies the policy.
func (s *Service) report(ctx context.Context, out *Outcome, source string, verp Target, useVERP bool, r bounce.Report, at time.Time) error {
	sent, err := s.match(ctx, verp, useVERP, r, at)
	if model.ErrorCode(err) == model.ENOTFOUND {
		out.ignore("%s: no message of ours matches (%s)", orWord(r.Recipient, "a recipient"), r.Kind)
		s.log.Info("bounce report matches nothing sent", "source", source, "kind", r.Kind)
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	if err := s.apply(ctx, source, sent, r); err != nil {
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	out.Recorded++
	return nil
}

// match finds what herald sent that a report is about.
func (s *Service) match(ctx context.Context, verp Target, useVERP bool, r bounce.Report, at time.Time) (model.SentMessage, error) {
	rs := s.opt.Reports
	if verp.Kind == ToDelivery || verp.Kind == ToMail {
		var sent model.SentMessage
		var err error
		if verp.Kind == ToDelivery {
			sent, err = rs.SentByDelivery(ctx, verp.ID)
		} else {
			sent, err = rs.SentByMail(ctx, verp.ID)
		}
		if err != nil && model.ErrorCode(err) != model.ENOTFOUND {
			return sent, err
		}
		if err == nil && (useVERP || r.Recipient == "" || strings.EqualFold(r.Recipient, string(sent.Email))) {
			return sent, nil
		}
	}
	if r.MessageID != "" {
		sent, err := rs.SentByMessageID(ctx, r.MessageID)
		if err == nil || model.ErrorCode(err) != model.ENOTFOUND {
			return sent, err
		}
	}
	if at.IsZero() {
		at = s.now()
	}
	for _, rcpt := range []string{r.Recipient, r.OriginalRecipient} {
		a, err := model.ParseAddress(rcpt)
		if err != nil {
			continue
		}
		sent, err := rs.LastSentTo(ctx, a, at.Add(time.Minute))
		if err == nil || model.ErrorCode(err) != model.ENOTFOUND {
			return sent, err
		}
	}
	return model.SentMessage{}, &model.Error{Code: model.ENOTFOUND, Message: "no message of ours matches"}
}

// apply records one matched report and does what the policy says.
func (s *Service) apply(ctx context.Context, source string, sent model.SentMessage, r bounce.Report) error {
	ev := model.BounceEvent{DeliveryID: sent.DeliveryID, MailID: sent.MailID, EditionID: sent.EditionID,
		SubscriberID: sent.SubscriberID, Kind: string(r.Kind), Status: r.Status,
		Diagnostic: sanitize.Line(r.Diagnostic), Source: source}
	if len(ev.Diagnostic) > 500 {
		ev.Diagnostic = ev.Diagnostic[:500]
	}
	effect := model.EffectNone
	switch r.Kind {
	case bounce.Hard:
		effect = model.EffectBounced
	case bounce.Complaint:
		effect = model.EffectComplained
	}
	changed, err := s.opt.Reports.RecordReport(ctx, ev, effect)
	if err != nil {
		return err
	}
	if r.Kind == bounce.Soft {
		since := s.now().Add(-s.cfg.Bounces.SoftWindow.D())
		n, err := s.opt.Reports.SoftBounces(ctx, sent.SubscriberID, since)
		if err != nil {
			return err
		}
		if n >= s.cfg.Bounces.SoftLimit {
			// The same event again (stored once), now with its effect.
			if changed, err = s.opt.Reports.RecordReport(ctx, ev, model.EffectBounced); err != nil {
				return err
			}
			effect = model.EffectBounced
		}
	}
	s.opt.OnReport(string(r.Kind))
	s.log.Info("bounce report recorded", "source", source, "kind", r.Kind, "status", r.Status,
		"subscriber", sent.SubscriberID, "delivery", sent.DeliveryID, "mail", sent.MailID, "effect", effect, "changed", changed)
	return nil
}

// unsubscribeByMail ends the subscription a List-Unsubscribe mailto named.
func (s *Service) unsubscribeByMail(ctx context.Context, source string, subscriptionID int64) (Outcome, error) {
	su, err := s.opt.Reports.SubscriptionByID(ctx, subscriptionID)
	if model.ErrorCode(err) == model.ENOTFOUND {
		return Outcome{Ignored: []string{"unsubscribe: the subscription is gone"}}, nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	ev := model.BounceEvent{SubscriberID: su.SubscriberID, SubscriptionID: su.ID, Kind: model.ReportUnsubscribe, Source: source}
	if _, err := s.opt.Reports.RecordReport(ctx, ev, model.EffectUnsubscribe); err != nil {
		return Outcome{}, fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	s.opt.OnReport(model.ReportUnsubscribe)
	s.log.Info("unsubscribed", "subscription", su.ID, "by", "mail")
	return Outcome{Recorded: 1}, nil
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
