package projections_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"refundledger/ledger/simulate"
	"refundledger/projections"
)

// TestEventsMatchTheirSchema publishes the facts of the fixtures and of
// simulated traffic (every lifecycle, duplicates, retries) and validates every
// event in REFUND_EVENTS against proto/schema/fact.schema.json, the contract
// downstream services code against.
func TestEventsMatchTheirSchema(t *testing.T) {
	raw, err := os.ReadFile("../proto/schema/fact.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("fact.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("fact.schema.json")
	if err != nil {
		t.Fatal(err)
	}

	e := mustEnv(t)
	ctx := context.Background()
	if _, err := projections.EnsureEventsStream(ctx, e.js, 1); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"1688-refund-refundonly-success.json", "1688-refund-return-success-stringtimes.json",
		"1688-order-create.json", "1688-order-price-modify.json", "1688-order-pay-success.json", "1688-order-cancel.json"} {
		e.publish(t, fixture(t, name))
	}
	// Anomalies: an operation that comes back changed, and a refund of
	// 167.00 on the fixtures' order paid 100.00 (over_refund).
	seed := fixture(t, "1688-refund-refundonly-success.json")
	e.publish(t, bytes.Replace(seed, []byte(`"operateRemark": "退款成功"`), []byte(`"operateRemark": "refund ok"`), 1))
	e.publish(t, overRefund(t))
	e.publishSimulated(t, simulate.Options{Seed: 11, Orders: 120, DupRate: 0.2, RetryRate: 0.2, Shuffle: true})
	store, outbox := e.projectAll(t)
	e.relayUntil(t, store, len(outbox), 1)

	s, err := e.js.Stream(ctx, projections.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for seq := uint64(1); seq <= uint64(len(outbox)); seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Fatalf("event %d on %s does not match fact.schema.json: %v\n%s", seq, m.Subject, err, m.Data)
		}
		kinds[v.(map[string]any)["kind"].(string)]++
	}
	for _, k := range []string{"opened", "transition", "succeeded", "closed", "posting", "anomaly", "status_changed", "price_set", "price_corrected"} {
		if kinds[k] == 0 {
			t.Errorf("no %s event was checked (got %v)", k, kinds)
		}
	}
}
