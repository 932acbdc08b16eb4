package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ZoneSource lists the timezones readers have, "" (unknown) included; a
// superset of any one digest's is fine. *store.Store implements it.
type ZoneSource interface {
	SubscriberZones(ctx context.Context) ([]string, error)
}

// WithZones gives the scheduler the zones readers live in: a `delivery:
// local` digest runs one zone group per zone in use, and needs it.
func WithZones(z ZoneSource) Option {
	return func(s *Scheduler) error {
		if z == nil {
			return errors.New("scheduler: nil zone source")
		}
		s.zones = z
		return nil
	}
}

// zoneRefresh is how often a running scheduler looks for zones readers
// newly live in.
const zoneRefresh = time.Minute

// localDigest is a `delivery: local` digest: its own unit (the digest's
// timezone, which readers of unknown zone follow too) as a template, and
// the zones that have a unit.
type localDigest struct {
	unit
	zones map[string]bool
}

// refreshZones reads the zones in use and adds a unit for each new one of
// each local digest, without scheduling it.
func (s *Scheduler) refreshZones(ctx context.Context, now time.Time) error {
	names, err := s.zones.SubscriberZones(ctx)
	if err != nil {
		return fmt.Errorf("scheduler: zones in use: %w", err)
	}
	s.zonesAt = now
	slices.Sort(names)
	for _, name := range names {
		if name == "" || name == "Local" {
			continue // unknown: the digest's own zone group has these readers
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue // not a zone this machine knows: treated as unknown too
		}
		for _, l := range s.locals {
			if l.zones[name] {
				continue
			}
			l.zones[name] = true
			u := l.unit // a copy: same digest, schedule and catch-up
			u.zone, u.loc, u.record = name, loc, l.name+"@"+name
			s.unitsMu.Lock()
			s.units = append(s.units, &u)
			s.unitsMu.Unlock()
		}
	}
	return nil
}

// addZones, while running, adds the units of zones readers newly live in.
// A new zone group starts with its next slot: its readers are new to it
// (newly subscribed, or moved from another zone), so no slot of it was
// missed.
func (s *Scheduler) addZones(ctx context.Context, now time.Time) {
	before := len(s.units)
	if err := s.refreshZones(ctx, now); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("zones in use not read", "err", err)
		}
		return
	}
	for _, u := range s.units[before:] {
		s.log.Info("new zone group", "digest", u.name, "zone", u.zone)
		s.schedule(u, now)
	}
}
