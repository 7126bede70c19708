package ledger_test

import (
	"os"
	"testing"

	"refundledger/ledger"
	"refundledger/proto"
)

func mustSnapshot(t *testing.T, path string) (proto.Envelope, proto.RefundSnapshot) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env, err := proto.DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := proto.DecodeRefund(env.Body)
	if err != nil {
		t.Fatal(err)
	}
	return env, s
}

func TestApplyRefund(t *testing.T) {
	t.Run("SeedRefundOnlySuccess", func(t *testing.T) {
		env, s := mustSnapshot(t, "../testdata/xportcn/1688-refund-refundonly-success.json")
		rec, facts := ledger.ApplyRefund(ledger.RefundRecord{}, env.Platform, s, ledger.Delivery{Seq: 1})
		st := rec.State
		if st.Status != "refundsuccess" || !st.Terminal || st.Booked != 16700 || st.OrderID != "2044420321024880794" {
			t.Fatalf("state = %+v", st)
		}
		if len(st.Operations) != 2 || st.Operations[0].From != "" || st.Operations[0].To != "waitselleragree" ||
			st.Operations[1].From != "waitselleragree" || st.Operations[1].To != "refundsuccess" {
			t.Fatalf("operations = %+v", st.Operations)
		}
		if len(st.Anomalies) != 0 {
			t.Fatalf("anomalies = %+v", st.Anomalies)
		}
		if len(facts) != 5 { // opened, 2 transitions, succeeded, posting
			t.Fatalf("facts = %d: %+v", len(facts), facts)
		}
		again, more := ledger.ApplyRefund(rec, env.Platform, s, ledger.Delivery{Seq: 2})
		if len(more) != 0 || len(again.Postings) != 1 {
			t.Fatalf("re-applying the same snapshot emitted %d facts, %d postings", len(more), len(again.Postings))
		}
	})
}
