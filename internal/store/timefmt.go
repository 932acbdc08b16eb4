package store

import (
	"errors"
	"strings"
	"time"
)

// errBadTime is returned by ParseTime for text in neither accepted form.
var errBadTime = errors.New("not an RFC 3339 or SQLite timestamp")

// timeLayouts are the forms design.md accepts: RFC 3339 with any offset, and
// SQLite's own "YYYY-MM-DD HH:MM:SS" (UTC), each with optional fractional
// seconds. SQLite also reads a "T" without an offset as UTC; so do we, so
// that SQL ordering (unixepoch) and Go parsing agree.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
}

// ParseTime reads a content-table timestamp. Text without an offset is UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errBadTime
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	// Lower-case 'z' / 't' are valid RFC 3339 too.
	if u := strings.ToUpper(s); u != s {
		return ParseTime(u)
	}
	return time.Time{}, errBadTime
}

// FormatTime writes t as RFC 3339 in UTC, the form herald writes.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
