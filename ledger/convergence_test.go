package ledger_test

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"refundledger/ledger"
	"refundledger/ledger/simulate"
)

// drawDeliveries draws one order's simulated callbacks, then a permutation of
// them with extra duplicates: the hostile delivery the fold must survive.
func drawDeliveries(t *rapid.T) (simulate.Scenario, [][]byte, [][]byte) {
	lc := rapid.SampledFrom(simulate.Lifecycles()).Draw(t, "lifecycle")
	opts := simulate.Options{
		Seed:       rapid.Uint64().Draw(t, "seed"),
		Orders:     1,
		RetryRate:  0.3,
		DupRate:    0.2,
		Lifecycles: []string{lc},
	}
	var inOrder [][]byte
	for _, c := range simulate.Generate(opts) {
		inOrder = append(inOrder, c.Body)
	}
	shuffled := rapid.Permutation(inOrder).Draw(t, "permutation")
	dups := rapid.SliceOfN(rapid.IntRange(0, len(shuffled)-1), 0, 8).Draw(t, "duplicates")
	for _, i := range dups {
		at := rapid.IntRange(0, len(shuffled)).Draw(t, "at")
		shuffled = append(shuffled[:at], append([][]byte{shuffled[i]}, shuffled[at:]...)...)
	}
	return simulate.NewScenario(opts, 0), inOrder, shuffled
}

func fold(t *rapid.T, bodies [][]byte) *book {
	b := newBook()
	for _, body := range bodies {
		b.apply(t, body)
	}
	return b
}

// factSet maps fact id to its JSON, failing when an id was emitted twice.
func factSet(t *rapid.T, facts []ledger.Fact) map[string]string {
	set := map[string]string{}
	for _, f := range facts {
		if _, dup := set[f.ID]; dup {
			t.Fatalf("fact %s emitted twice", f.ID)
		}
		set[f.ID] = mustJSON(t, f)
	}
	return set
}

func TestFoldConvergence(t *testing.T) {
	t.Run("AnyOrderAnyRepetition", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			_, inOrder, shuffled := drawDeliveries(t)
			a, b := fold(t, inOrder), fold(t, shuffled)
			for _, k := range keys(a.refunds) {
				if got, want := mustJSON(t, b.refunds[k].State), mustJSON(t, a.refunds[k].State); got != want {
					t.Fatalf("refund %s:\n got %s\nwant %s", k, got, want)
				}
			}
			for _, k := range keys(a.orders) {
				if got, want := mustJSON(t, b.orders[k].State), mustJSON(t, a.orders[k].State); got != want {
					t.Fatalf("order %s:\n got %s\nwant %s", k, got, want)
				}
			}
			fa, fb := factSet(t, a.facts), factSet(t, b.facts)
			for id, want := range fa {
				if got, ok := fb[id]; !ok {
					t.Fatalf("fact %s missing after reordering", id)
				} else if got != want && isRefundFact(want) {
					t.Fatalf("fact %s differs:\n got %s\nwant %s", id, got, want)
				}
			}
			for id, got := range fb {
				if _, ok := fa[id]; !ok {
					t.Fatalf("fact %s only after reordering: %s", id, got)
				}
			}
		})
	})
	t.Run("MatchesGroundTruth", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			sc, _, shuffled := drawDeliveries(t)
			b := fold(t, shuffled)
			checkTruth(t, b, sc)
		})
	})
	t.Run("BookedIsSumOfPostings", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			_, _, shuffled := drawDeliveries(t)
			b := newBook()
			for _, body := range shuffled {
				b.apply(t, body)
				for _, k := range keys(b.refunds) {
					st := b.refunds[k].State
					var sum int64
					for _, p := range st.Postings {
						sum += p.Amount
					}
					if sum != st.Booked {
						t.Fatalf("refund %s: booked %d, postings sum to %d", k, st.Booked, sum)
					}
					if st.Booked != 0 && st.Phase != ledger.PhaseSucceeded {
						t.Fatalf("refund %s: %d fen booked in phase %s", k, st.Booked, st.Phase)
					}
				}
			}
		})
	})
}

// isRefundFact: every fact id is emitted whatever the order of arrival, but
// an order fact states what was known when it was emitted (the time and
// message of a status first seen late, "price_set" for the totals first
// known), so only refund facts are also identical in content.
func isRefundFact(factJSON string) bool {
	return strings.Contains(factJSON, `"refundId":`)
}

// checkTruth compares a book that received every message of sc to the
// simulator's ground truth.
func checkTruth(t tb, b *book, sc simulate.Scenario) {
	t.Helper()
	for _, want := range sc.Refunds {
		rec := b.refunds[string(want.Platform)+"/"+want.RefundID]
		if rec == nil {
			t.Fatalf("refund %s never folded", want.RefundID)
			return
		}
		st := rec.State
		if st.Status != want.Status || st.Booked != want.Booked || len(st.Operations) != want.Operations ||
			st.OrderID != want.OrderID || len(st.Anomalies) != 0 {
			t.Fatalf("refund %s (%s): status %s booked %d ops %d order %s anomalies %v; want %s %d %d %s none",
				want.RefundID, want.Lifecycle, st.Status, st.Booked, len(st.Operations), st.OrderID, st.Anomalies,
				want.Status, want.Booked, want.Operations, want.OrderID)
		}
	}
	want := sc.Order
	rec := b.orders[string(want.Platform)+"/"+want.OrderID]
	if rec == nil || rec.State.Current == nil {
		t.Fatalf("order %s never folded", want.OrderID)
		return
	}
	st := rec.State
	if st.Current.Status != want.Status || st.Current.TotalAmount != want.TotalAmount ||
		st.Current.ShippingFee != want.ShippingFee || st.Paid != want.Paid || st.RefundedTotal != want.Refunded ||
		len(st.Anomalies) != 0 {
		t.Fatalf("order %s: status %s total %d shipping %d paid %v refunded %d anomalies %v; want %+v",
			want.OrderID, st.Current.Status, st.Current.TotalAmount, st.Current.ShippingFee, st.Paid,
			st.RefundedTotal, st.Anomalies, want)
	}
}
