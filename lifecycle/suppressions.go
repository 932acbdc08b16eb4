package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldnews/herald/internal/model"
)

// Suppressions lists the suppression list.
func (s *Service) Suppressions(ctx context.Context) ([]model.Suppression, error) {
	if s.opt.Suppressions == nil {
		return nil, errNoSuppressions
	}
	return s.opt.Suppressions.Suppressions(ctx)
}

// SuppressionPage lists a page of the suppression list's entries of one
// reason (model.SuppressionQuery), for a list too long to show at once.
func (s *Service) SuppressionPage(ctx context.Context, q model.SuppressionQuery) ([]model.Suppression, error) {
	switch q.Reason {
	case model.SuppressedOperator, model.SuppressedErased, model.SuppressedBounced, model.SuppressedComplained:
	default:
		return nil, &model.Error{Code: model.EINVALID, Message: fmt.Sprintf("%q is not a suppression reason", q.Reason)}
	}
	if s.opt.Suppressions == nil {
		return nil, errNoSuppressions
	}
	return s.opt.Suppressions.SuppressionPage(ctx, q)
}

var errNoSuppressions = errors.New("lifecycle: no suppression store configured")

// Suppress adds an address or a domain ("@example.com") to the suppression
// list, with an operator's note.
func (s *Service) Suppress(ctx context.Context, entry, note string) error {
	e, err := suppressionEntry(entry)
	if err != nil {
		return err
	}
	if s.opt.Suppressions == nil {
		return errNoSuppressions
	}
	return s.opt.Suppressions.Suppress(ctx, e, note)
}

// Unsuppress removes an address or a domain from the suppression list
// (for an address, also its bounced or complained status). It reports
// whether there was anything to remove.
func (s *Service) Unsuppress(ctx context.Context, entry string) (bool, error) {
	e, err := suppressionEntry(entry)
	if err != nil {
		return false, err
	}
	if s.opt.Suppressions == nil {
		return false, errNoSuppressions
	}
	return s.opt.Suppressions.Unsuppress(ctx, e)
}

// suppressionEntry checks an address or "@domain".
func suppressionEntry(s string) (string, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutPrefix(s, "@"); ok {
		if _, err := model.ParseAddress("x@" + d); err != nil || d == "" {
			return "", &model.Error{Code: model.EINVALID, Message: fmt.Sprintf("%q is not a domain such as @example.com", s)}
		}
		return "@" + strings.ToLower(d), nil
	}
	a, err := model.ParseAddress(s)
	return string(a), err
}
