package model

import (
	"errors"
	"fmt"
)

// Error codes: what kind of failure an error is, whatever package raised
// it. internal/server maps each to an HTTP status and page in one place;
// the command line prints the error as it is.
const (
	EINVALID  = "invalid"   // the input is wrong: a bad address, an unknown slug or digest
	ENOTFOUND = "not_found" // the thing asked for does not exist (any more)
	EEXPIRED  = "expired"   // a link or token that was once good is no longer
	ECONFLICT = "conflict"  // the request clashes with work in progress (a held lease)
	EFINISHED = "finished"  // the edition is already done or cancelled
	EINTERNAL = "internal"  // anything else: a bug or a failing dependency
)

// Error is a domain error with a code and a message that is safe to show
// to whoever made the request. Err, when set, is a sentinel the error also
// matches with errors.Is, so callers test for a specific kind without
// reading text. A sentinel can itself be an *Error
// (var ErrLeaseHeld = &model.Error{Code: ECONFLICT, ...}), wrapped with
// fmt.Errorf("%w: ...") for context: the code and the client message are
// those of the first *Error in the chain.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Message == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the sentinel, if any.
func (e *Error) Unwrap() error { return e.Err }

// With returns an error of e's kind with a more specific message: it has
// e's code, matches e with errors.Is, and shows message to clients.
//
//	return ErrUnknownSlug.With("no section with slug %q", slug)
func (e *Error) With(format string, args ...any) *Error {
	return &Error{Code: e.Code, Message: fmt.Sprintf(format, args...), Err: e}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// when there is none and "" for a nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain that
// has one (the outermost, most specific message), or a generic sentence for
// any other error, so internal details never reach a client.
func ErrorMessage(err error) string {
	for err != nil {
		if e, ok := err.(*Error); ok && e.Message != "" {
			return e.Message
		}
		err = errors.Unwrap(err)
	}
	return "An internal error occurred."
}
