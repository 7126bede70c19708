package projections

import (
	"encoding/binary"
	"fmt"
	"testing"

	"refundledger/ledger"
)

// TestOutboxReadsBothLayouts: a store written by layout 1 (a key per fact)
// keeps serving its relay while it is rebuilt for layout 2 (a key per
// callback), so the outbox reader reads both, in order, from any position.
func TestOutboxReadsBothLayouts(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fact := func(seq uint64, n int) ledger.Fact {
		return ledger.Fact{ID: fmt.Sprintf("f-%d-%d", seq, n), Kind: ledger.FactAnomaly, Platform: "1688", OrderID: "1",
			Anomaly: &ledger.Anomaly{Code: "c"}}
	}
	layout1 := func(seq uint64, n int) {
		k := binary.BigEndian.AppendUint64([]byte("outbox/"), seq)
		k = fmt.Appendf(append(k, '/'), "%04d", n)
		f := fact(seq, n)
		if err := s.db.Set(k, encodeFact(nil, &f), nil); err != nil {
			t.Fatal(err)
		}
	}
	layout2 := func(seq uint64, facts int) {
		var l factList
		for n := range facts {
			f := fact(seq, n)
			l.add(&f)
		}
		if err := s.db.Set(outboxKey(seq), l.appendTo(nil), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Facts (seq, n) in outbox order.
	layout1(3, 0)
	layout1(3, 1)
	layout1(4, 0)
	layout2(5, 3)
	layout2(7, 1)
	layout2(300, 2) // 300 > 255: the key's bytes order numerically
	all := [][2]int{{3, 0}, {3, 1}, {4, 0}, {5, 0}, {5, 1}, {5, 2}, {7, 0}, {300, 0}, {300, 1}}

	for i := -1; i < len(all); i++ {
		seq, n := uint64(0), -1
		if i >= 0 {
			seq, n = uint64(all[i][0]), all[i][1]
		}
		for _, limit := range []int{1, 2, 100} {
			got, err := s.OutboxAfter(seq, n, limit)
			if err != nil {
				t.Fatal(err)
			}
			want := all[i+1:]
			if len(want) > limit {
				want = want[:limit]
			}
			if len(got) != len(want) {
				t.Fatalf("OutboxAfter(%d, %d, %d): %d facts, want %d", seq, n, limit, len(got), len(want))
			}
			for j, e := range got {
				w := fact(uint64(want[j][0]), want[j][1])
				if e.Seq != uint64(want[j][0]) || e.N != want[j][1] || e.Fact.ID != w.ID {
					t.Fatalf("OutboxAfter(%d, %d, %d)[%d] = (%d, %d, %s), want (%d, %d, %s)",
						seq, n, limit, j, e.Seq, e.N, e.Fact.ID, want[j][0], want[j][1], w.ID)
				}
			}
		}
	}
	// Outbox(seq, ...) starts with the first fact after callback seq.
	if got, err := s.Outbox(4, 1); err != nil || len(got) != 1 || got[0].Seq != 5 || got[0].N != 0 {
		t.Fatalf("Outbox(4, 1) = %+v, %v; want fact (5, 0)", got, err)
	}
	for _, from := range []uint64{0, 3, 5} {
		if got, err := s.OutboxAfter(from, -1, 0); err != nil || len(got) != 0 {
			t.Fatalf("OutboxAfter(%d, -1, 0) = %+v, %v; want nothing", from, got, err)
		}
	}
	if err := s.db.Set([]byte("outbox/short"), []byte{formatFactsV1, 0}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OutboxAfter(0, -1, 100); err == nil {
		t.Fatal("a malformed outbox key read without an error")
	}
}
