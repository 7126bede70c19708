package ledger_test

import (
	"encoding/json"
	"testing"

	"refundledger/ledger"
	"refundledger/ledger/simulate"
	"refundledger/proto"
)

// TestRecordJSONRoundTrip: the projection stores records as JSON; a record
// read back must fold the next callback exactly as the one kept in memory.
func TestRecordJSONRoundTrip(t *testing.T) {
	opts := simulate.Options{Seed: 1, Orders: 8, RetryRate: 0.3, DupRate: 0.2, Shuffle: true}
	mem, disk := newBook(), newBook()
	for _, c := range simulate.Generate(opts) {
		mem.apply(t, c.Body)
		disk.apply(t, c.Body)
		for k, rec := range disk.refunds {
			var back ledger.RefundRecord
			if err := json.Unmarshal([]byte(mustJSON(t, rec)), &back); err != nil {
				t.Fatal(err)
			}
			disk.refunds[k] = &back
		}
		for k, rec := range disk.orders {
			var back ledger.OrderRecord
			if err := json.Unmarshal([]byte(mustJSON(t, rec)), &back); err != nil {
				t.Fatal(err)
			}
			disk.orders[k] = &back
		}
	}
	t.Run("SameRecords", func(t *testing.T) {
		for _, k := range keys(mem.refunds) {
			if a, b := mustJSON(t, mem.refunds[k]), mustJSON(t, disk.refunds[k]); a != b {
				t.Errorf("refund %s:\nmemory %s\n  disk %s", k, a, b)
			}
		}
		for _, k := range keys(mem.orders) {
			if a, b := mustJSON(t, mem.orders[k]), mustJSON(t, disk.orders[k]); a != b {
				t.Errorf("order %s:\nmemory %s\n  disk %s", k, a, b)
			}
		}
	})
	t.Run("SameFacts", func(t *testing.T) {
		if a, b := mustJSON(t, mem.facts), mustJSON(t, disk.facts); a != b {
			t.Errorf("facts differ:\nmemory %s\n  disk %s", a, b)
		}
	})
}

// TestApplyRefundDoesNotMutateInput: records are values; an old record stays
// valid after a newer one is derived from it.
func TestApplyRefundDoesNotMutateInput(t *testing.T) {
	b := mustRead(t, "../testdata/xportcn/1688-refund-refundonly-success.json")
	c, err := proto.DecodeCallback(b)
	if err != nil || c.Refund == nil {
		t.Fatal(err, c.BodyErr)
	}
	rec, _ := ledger.ApplyRefund(ledger.RefundRecord{}, c.Platform, *c.Refund, ledger.Delivery{})
	before := mustJSON(t, rec)
	other := *c.Refund
	other.Status, other.Operations = "refundclose", append([]proto.Operation{{ID: "1", At: 1}}, other.Operations...)
	ledger.ApplyRefund(rec, c.Platform, other, ledger.Delivery{})
	if after := mustJSON(t, rec); after != before {
		t.Fatalf("input record changed:\n%s\n%s", before, after)
	}
}
