package projections_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"refundledger/ledger/simulate"
)

// TestOutboxNumberingIsStable: the relay's position in REFUND_EVENTS is a
// fact's (stream sequence, index among its callback's facts), so a new
// binary must number the facts of a stream exactly as the one that published
// them. testdata/outbox-numbering.txt was written by layout 1 (commit
// acb215d, a key per fact) from this stream: fixtures, among them a refund
// whose callback also makes its order over-refunded (refund facts, then an
// order fact, in one callback), and simulated traffic with duplicates and
// retries.
func TestOutboxNumberingIsStable(t *testing.T) {
	e := mustEnv(t)
	for _, name := range []string{"1688-order-create.json", "1688-order-pay-success.json"} {
		e.publish(t, fixture(t, name))
	}
	e.publish(t, overRefund(t))
	e.publishSimulated(t, simulate.Options{Seed: 5, Orders: 150, DupRate: 0.1, RetryRate: 0.1, Shuffle: true})
	_, outbox := e.projectAll(t)
	var got strings.Builder
	for _, o := range outbox {
		fmt.Fprintf(&got, "%d %d %s\n", o.Seq, o.N, o.Fact.ID)
	}
	want, err := os.ReadFile("testdata/outbox-numbering.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		g, w := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("outbox fact %d is %q, layout 1 numbered it %q (%d facts, want %d)", i, g[i], w[i], len(g)-1, len(w)-1)
			}
		}
		t.Fatalf("%d facts, layout 1 had %d", len(g)-1, len(w)-1)
	}
}
