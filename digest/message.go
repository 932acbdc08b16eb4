package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/model"
	"github.com/heraldnews/herald/internal/sanitize"
	"github.com/heraldnews/herald/internal/token"
)

// compose builds one delivery's message. Every value a person wrote
// (names, titles, subjects) reaches headers only through sanitize.Line and
// the mailer's encoding; the List-* headers hold only URLs herald built.
// The message carries its parts as the article set's shared templates with
// this reader's values (Body), which the mailer encodes once per template,
// and filled (Text, HTML) for previews and any other Mailer.
func (s *Service) compose(d config.Digest, r *renderer, e model.Edition, del model.Delivery, arts []*ArticleView) (*model.Message, error) {
	return s.composeBody(d, r, e, del, arts, false)
}

// BodyMailer is a Mailer that composes a message from its Body (the
// shared templates and this reader's values) whenever Body is set, as
// internal/mailer does. For one the outbox leaves Text and HTML empty
// rather than filling a copy of both parts for every message, which was
// most of what sending allocated.
type BodyMailer interface {
	Mailer
	ComposesBody() bool
}

// composeBody is compose; bodyOnly leaves Text and HTML empty.
func (s *Service) composeBody(d config.Digest, r *renderer, e model.Edition, del model.Delivery, arts []*ArticleView, bodyOnly bool) (*model.Message, error) {
	unsub := s.tokens.Make(token.Unsubscribe, del.SubscriptionID, UnsubscribeTTL)
	mgmt := s.tokens.Make(token.Manage, del.SubscriberID, ManageTTL)
	name := sanitize.Line(del.Name)
	subject, body, err := r.renderBody(arts, part{name: name, email: string(del.Email), unsubTok: unsub, mgmtTok: mgmt})
	if err != nil {
		return nil, err
	}
	msg := &model.Message{
		MessageID: del.MessageID,
		Date:      s.now(),
		From:      s.cfg.SMTP.From,
		ReplyTo:   s.cfg.SMTP.ReplyTo,
		ToAddr:    del.Email,
		ToName:    name,
		Subject:   subject,
		Headers:   s.listHeaders(d, unsub, del.SubscriptionID),
		Body:      body,
	}
	if msg.MessageID == "" { // planned before planning stored ids
		msg.MessageID = s.messageID(e.ID, del.SubscriberID)
	}
	if !bodyOnly {
		msg.Text, msg.HTML = body.Text.Fill(body.TextValues), body.HTML.Fill(body.HTMLValues)
	}
	if s.opt.ReturnPath != nil {
		msg.ReturnPath = s.opt.ReturnPath(del.ID)
	}
	return msg, nil
}

// listHeaders are the RFC 2369/2919/8058 headers of a digest message.
func (s *Service) listHeaders(d config.Digest, unsubToken string, subscriptionID int64) []model.Header {
	lu := "<" + s.cfg.HTTP.BaseURL + "/unsubscribe?token=" + unsubToken + ">"
	to := s.cfg.SMTP.UnsubscribeTo
	if s.opt.UnsubscribeMailto != nil {
		if a := s.opt.UnsubscribeMailto(subscriptionID); a != "" {
			to = a
		}
	}
	if to := strings.TrimSpace(to); to != "" && !strings.ContainsAny(to, "<>\r\n ,") {
		lu += ", <mailto:" + to + "?subject=unsubscribe>"
	}
	return []model.Header{
		{Name: "List-Id", Value: s.listID(d)},
		{Name: "List-Unsubscribe", Value: lu},
		{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		{Name: "Precedence", Value: "bulk"},
	}
}

// listID is d's List-Id value, made once per digest name and title (it
// was a sanitize, a replace and five concatenations per message).
func (s *Service) listID(d config.Digest) string {
	key := listIDKey{d.Name, d.Title}
	if v, ok := s.listIDs.Load(key); ok {
		return v.(string)
	}
	v := strings.Trim(listIDStrip.Replace(sanitize.Line(d.Title))+" <"+listAtom(d.Name)+"."+s.domain+">", " ")
	s.listIDs.Store(key, v)
	return v
}

type listIDKey struct{ name, title string }

// listIDStrip removes what would end a List-Id phrase early.
var listIDStrip = strings.NewReplacer("<", "", ">", "", "\"", "")

// listAtom makes a digest name usable as the left part of a List-Id.
func listAtom(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "digest"
	}
	return b.String()
}

// messageID derives a delivery's Message-ID from its edition and
// subscriber, so a resumed or retried delivery reuses it. Deliveries are
// planned with plannedMessageID's form now; this one is for those planned
// by an older herald without a stored id, whose earlier attempts used it.
func (s *Service) messageID(editionID, subscriberID int64) string {
	b := make([]byte, 0, 64+len(s.domain))
	b = append(strconv.AppendInt(append(b, '<'), editionID, 10), '.')
	b = append(append(append(s.messageMAC(b, editionID, subscriberID), '@'), s.domain...), '>')
	return string(b)
}

// plannedMessageID is the Message-ID stored with a delivery when it is
// planned at at: the edition, the planning time (milliseconds, base 36)
// and the MAC of edition and subscriber, which keeps it unique and
// unguessable. The time makes ids grow in planning order, so the store's
// Message-ID index (bounce matching) grows at its end, one page touched
// per planned page, rather than taking one random write per message;
// the time tells a reader nothing the Date header does not.
func (s *Service) plannedMessageID(editionID, subscriberID int64, at time.Time) string {
	var buf [96]byte
	b := append(strconv.AppendInt(append(buf[:0], '<'), editionID, 10), '.')
	b = append(strconv.AppendInt(b, at.UnixMilli(), 36), '.')
	b = append(append(append(s.messageMAC(b, editionID, subscriberID), '@'), s.domain...), '>')
	return string(b)
}

// messageMAC appends to dst, in hex, the first 12 bytes of the MAC of
// "edition/subscriber" under msgKey, with a reused state (token.MACs:
// planning makes one per delivery, and a fresh hmac.New was a twentieth
// of what a send allocated).
func (s *Service) messageMAC(dst []byte, editionID, subscriberID int64) []byte {
	m := s.msgMACs.Get()
	var in [42]byte
	b := append(strconv.AppendInt(in[:0], editionID, 10), '/')
	m.Write(strconv.AppendInt(b, subscriberID, 10))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	s.msgMACs.Put(m)
	return hex.AppendEncode(dst, sum[:12])
}
