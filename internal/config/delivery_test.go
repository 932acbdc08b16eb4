package config

import (
	"strings"
	"testing"
)

func TestDigestDelivery(t *testing.T) {
	c, err := Parse([]byte(`digests:
  - { name: a, schedule: "0 7 * * *" }
  - { name: b, schedule: "0 7 * * *", delivery: local }
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Digests[0].Delivery != DeliveryDigest || c.Digests[0].Local() || !c.Digests[1].Local() {
		t.Errorf("delivery: %q %q", c.Digests[0].Delivery, c.Digests[1].Delivery)
	}
	_, err = Parse([]byte(`digests: [ { name: a, schedule: "0 7 * * *", delivery: reader } ]`))
	if err == nil || !strings.Contains(err.Error(), "digests[0] (a).delivery") {
		t.Errorf("bad delivery: %v", err)
	}
}
