package model

import (
	"strconv"
	"strings"
	"time"
)

// ArchivePage is one page of a digest's public archive: the editions sent
// under one slug (one edition, or every zone group's edition of one day of
// a `delivery: local` digest).
type ArchivePage struct {
	Digest    string
	Day       string // YYYY-MM-DD, the slot's date in the digest's time zone
	Seq       int    // 1 for the day's first page, 2 for its second...
	Editions  []int64
	Published time.Time // when its first edition was planned
	Updated   time.Time // when its last edition finished (or was planned)
}

// Slug is the page's permanent path segment: the day, then -2, -3 for the
// day's later pages.
func (p ArchivePage) Slug() string { return ArchiveSlug(p.Day, p.Seq) }

// ArchiveSlug is the slug of the seq-th page of day.
func ArchiveSlug(day string, seq int) string {
	if seq <= 1 {
		return day
	}
	return day + "-" + strconv.Itoa(seq)
}

// ParseArchiveSlug reads a slug back into its day and seq; ok is false for
// anything else (2026-11-28-1 included: the first page has no suffix).
func ParseArchiveSlug(s string) (day string, seq int, ok bool) {
	if len(s) < 10 {
		return "", 0, false
	}
	day, rest := s[:10], s[10:]
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return "", 0, false
	}
	if rest == "" {
		return day, 1, true
	}
	n, found := strings.CutPrefix(rest, "-")
	if !found || n == "" || n[0] == '0' || len(n) > 6 || strings.Trim(n, "0123456789") != "" {
		return "", 0, false
	}
	seq, err := strconv.Atoi(n)
	if err != nil || seq < 2 {
		return "", 0, false
	}
	return day, seq, true
}
