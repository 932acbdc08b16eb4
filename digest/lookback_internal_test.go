package digest

import (
	"testing"
	"time"

	"github.com/heraldnews/herald/internal/config"
)

// The default lookback of a manual edition is the time between the
// digest's last two slots as the scheduler runs them, DST changes included:
// a daily 01:30 Europe/London slot falls in the spring gap (it runs at
// 02:00 BST, 23.5 hours after the day before's) and in the autumn's
// repeated hour (it runs once, at its first occurrence, 24 hours after the
// day before's). Walking cron's Next in the zone (the code before this
// test) got four of these wrong: it skipped the spring day (24h, then 47h)
// and fired twice in the autumn (1h, then 24h).
func TestLookbackAcrossDST(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	d := config.Digest{Name: "daily", Schedule: "30 1 * * *", Timezone: "Europe/London"}
	for _, tc := range []struct {
		name string
		now  time.Time
		want time.Duration
	}{
		{"ordinary day", time.Date(2026, 3, 20, 9, 0, 0, 0, london), 24 * time.Hour},
		{"spring gap: the slot runs at 02:00 BST", time.Date(2026, 3, 29, 9, 0, 0, 0, london), 23*time.Hour + 30*time.Minute},
		{"the day after spring", time.Date(2026, 3, 30, 9, 0, 0, 0, london), 23*time.Hour + 30*time.Minute},
		{"autumn: 01:30 runs once, at its first occurrence", time.Date(2026, 10, 25, 9, 0, 0, 0, london), 24 * time.Hour},
		{"the day after autumn", time.Date(2026, 10, 26, 9, 0, 0, 0, london), 25 * time.Hour},
		{"exactly at a slot counts that slot", time.Date(2026, 3, 20, 1, 30, 0, 0, london), 24 * time.Hour},
	} {
		if got := lookback(d, tc.now); got != tc.want {
			t.Errorf("%s: lookback %s, want %s", tc.name, got, tc.want)
		}
	}
	// A weekday digest looks back over the weekend on Monday.
	wk := config.Digest{Name: "weekday", Schedule: "0 7 * * 1-5", Timezone: "Europe/London"}
	if got := lookback(wk, time.Date(2026, 11, 30, 9, 0, 0, 0, london)); got != 72*time.Hour {
		t.Errorf("Monday: %s, want 72h", got)
	}
	// A digest's own lookback wins.
	d.Lookback = config.Duration(6 * time.Hour)
	if got := lookback(d, time.Date(2026, 3, 29, 9, 0, 0, 0, london)); got != 6*time.Hour {
		t.Errorf("configured lookback: %s", got)
	}
}
