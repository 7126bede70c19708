package ledger_test

import (
	"fmt"
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"refundledger/ledger"
	"refundledger/proto"
)

// The convergence tests draw consistent histories from the simulator. These
// draw snapshots of one refund that contradict each other as freely as the
// decoder lets them: operations that come back changed, lists that lose or
// reorder operations, statuses that go back, amounts that change after
// success, success that a larger snapshot no longer shows, ties everywhere.
// Whatever the snapshots say, the state must depend on their set alone
// (REFUNDS.md 3.7), and the money on the state.

var hostileStatuses = []string{
	"", "waitselleragree", "waitbuyermodify", "waitbuyersend", "waitsellerreceive", "refundsuccess", "refundclose",
}

// drawHostileOps draws the pool of operations snapshots pick from: few ids,
// few distinct times (ties), and for each id up to two versions.
func drawHostileOps(t *rapid.T) [][2]proto.Operation {
	n := rapid.IntRange(1, 6).Draw(t, "operations")
	pool := make([][2]proto.Operation, n)
	for i := range pool {
		op := proto.Operation{
			ID:     strconv.Itoa(100 + i),
			At:     1_700_000_000_000 + 1000*int64(rapid.IntRange(0, 3).Draw(t, "at")),
			Type:   int64(rapid.SampledFrom([]int{1, 8, 10, 15, 19}).Draw(t, "type")),
			Remark: "op" + strconv.Itoa(i),
			Role:   int64(rapid.IntRange(1, 4).Draw(t, "role")),
			Before: rapid.SampledFrom(hostileStatuses).Draw(t, "before"),
		}
		op.After = op.Before
		changed := op
		if rapid.Bool().Draw(t, "changed") {
			changed.Remark += " (changed)"
			changed.Before = rapid.SampledFrom(hostileStatuses).Draw(t, "changedBefore")
		}
		pool[i] = [2]proto.Operation{op, changed}
	}
	return pool
}

// drawHostileSnapshot draws one snapshot of refund TQ1: any subset of the
// pool, any version of each, listed in any order.
func drawHostileSnapshot(t *rapid.T, pool [][2]proto.Operation) proto.RefundSnapshot {
	amount := rapid.SampledFrom([]int64{0, 1000, 2500})
	s := proto.RefundSnapshot{
		RefundID:       "TQ1",
		ID:             "1",
		OrderID:        rapid.SampledFrom([]string{"", "9001"}).Draw(t, "orderId"),
		Status:         rapid.SampledFrom(hostileStatuses[1:]).Draw(t, "status"),
		ApplyPayment:   2500,
		RefundPayment:  amount.Draw(t, "refundPayment"),
		RefundCarriage: amount.Draw(t, "refundCarriage"),
		CreatedAt:      1_700_000_000_000,
		ModifiedAt:     1_700_000_000_000 + 1000*int64(rapid.IntRange(0, 3).Draw(t, "modified")),
		CompletedAt:    1_700_000_000_000 + 1000*int64(rapid.IntRange(0, 1).Draw(t, "completed")),
	}
	for _, i := range rapid.Permutation(indices(len(pool))).Draw(t, "listed") {
		if rapid.Bool().Draw(t, "lists") {
			s.Operations = append(s.Operations, pool[i][rapid.IntRange(0, 1).Draw(t, "version")])
		}
	}
	return s
}

func indices(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

type hostileDelivery struct {
	snap proto.RefundSnapshot
	d    ledger.Delivery
}

// drawHostileDeliveries draws snapshots and their deliveries (each snapshot
// pushed one to three times, at times that need not agree).
func drawHostileDeliveries(t *rapid.T) []hostileDelivery {
	pool := drawHostileOps(t)
	var out []hostileDelivery
	for range rapid.IntRange(1, 5).Draw(t, "snapshots") {
		s := drawHostileSnapshot(t, pool)
		for range rapid.IntRange(1, 3).Draw(t, "pushes") {
			pushed := 1_700_000_000_000 + 1000*int64(rapid.IntRange(0, 5).Draw(t, "pushed"))
			out = append(out, hostileDelivery{snap: s, d: ledger.Delivery{PushedAt: pushed}})
		}
	}
	return out
}

func foldHostile(folder *ledger.Folder, ds []hostileDelivery) (ledger.RefundRecord, map[string]bool, error) {
	var rec ledger.RefundRecord
	ids := map[string]bool{}
	for _, x := range ds {
		var facts []ledger.Fact
		if folder != nil {
			rec, facts = folder.ApplyRefund(rec, proto.Platform1688, x.snap, x.d)
		} else {
			rec, facts = ledger.ApplyRefund(rec, proto.Platform1688, x.snap, x.d)
		}
		for _, f := range facts {
			if ids[f.ID] {
				return rec, ids, fmt.Errorf("fact %s emitted twice", f.ID)
			}
			ids[f.ID] = true
		}
	}
	return rec, ids, nil
}

// withoutSplit is the state with the postings left out: how the booked total
// is split into postings depends on what was seen when (the journal is
// append-only, REFUNDS.md 4); the total does not.
func withoutSplit(st ledger.Refund) ledger.Refund {
	st.Postings = nil
	return st
}

// moneyDue is what the state says must be booked: the authoritative refunded
// amounts once the refund reached success, else nothing.
func moneyDue(st ledger.Refund) int64 {
	for _, op := range st.Operations {
		if ledger.PhaseOf(op.To) == ledger.PhaseSucceeded {
			return st.Amounts.RefundPayment + st.Amounts.RefundCarriage
		}
	}
	if st.Phase == ledger.PhaseSucceeded {
		return st.Amounts.RefundPayment + st.Amounts.RefundCarriage
	}
	return 0
}

func TestFoldConvergenceHostile(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ds := drawHostileDeliveries(t)
		shuffled := rapid.Permutation(ds).Draw(t, "arrival")
		a, _, err := foldHostile(nil, ds)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := foldHostile(nil, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := mustJSON(t, withoutSplit(b.State)), mustJSON(t, withoutSplit(a.State)); got != want {
			t.Fatalf("state depends on arrival order:\n got %s\nwant %s", got, want)
		}
		if a.State.Booked != b.State.Booked {
			t.Fatalf("booked %d in one order, %d in another", a.State.Booked, b.State.Booked)
		}
		for _, rec := range []ledger.RefundRecord{a, b} {
			var sum int64
			for _, p := range rec.State.Postings {
				sum += p.Amount
			}
			if sum != rec.State.Booked {
				t.Fatalf("booked %d, postings sum to %d", rec.State.Booked, sum)
			}
			if due := moneyDue(rec.State); rec.State.Booked != due {
				t.Fatalf("booked %d, due %d (phase %s, amounts %+v, postings %+v)",
					rec.State.Booked, due, rec.State.Phase, rec.State.Amounts, rec.State.Postings)
			}
			// A stored record, which keeps no state, restores to the same.
			stored := rec
			stored.State = ledger.Refund{}
			if got, want := mustJSON(t, ledger.RestoreRefund(stored).State), mustJSON(t, rec.State); got != want {
				t.Fatalf("restored state differs:\n got %s\nwant %s", got, want)
			}
		}
		// A Folder reused across records folds as the plain functions do.
		var folder ledger.Folder
		c, _, err := foldHostile(&folder, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := mustJSON(t, c), mustJSON(t, b); got != want {
			t.Fatalf("Folder differs from ApplyRefund:\n got %s\nwant %s", got, want)
		}
	})
}
