package digest

import (
	"testing"

	"github.com/heraldnews/herald/internal/model"
)

// A local page's readers that another planner got first are not counted
// as planned: the progress total is what was written.
func TestUncountDropped(t *testing.T) {
	mv := func(sub int64, status string) model.CursorMove {
		return model.CursorMove{Delivery: model.Delivery{SubscriberID: sub, Status: status}}
	}
	moves := []model.CursorMove{mv(1, model.DeliveryPending), mv(2, model.DeliverySkipped), mv(3, model.DeliveryPending), mv(4, model.DeliveryPending)}
	p := planPage{pending: 3, skipped: 1}
	p.uncount(moves, []int64{2, 3})
	if p.pending != 2 || p.skipped != 0 {
		t.Errorf("pending %d, skipped %d after dropping readers 2 and 3: want 2 and 0", p.pending, p.skipped)
	}
}
