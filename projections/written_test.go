package projections

import (
	"fmt"
	"testing"
)

// The set never forgets a key, across the growth of its filters, and says
// "maybe" for few keys it was not given.
func TestWrittenKeys(t *testing.T) {
	w := newWrittenKeys()
	if w.mayContain([]byte("r/1688/1")) {
		t.Fatal("an empty set contains a key")
	}
	const n = 5*bloomFirstKeys + 123 // several filters
	key := func(i int) []byte { return fmt.Appendf(nil, "r/1688/%d", 900000000000000000+i) }
	for i := range n {
		w.add(string(key(i)))
		w.add(string(key(i / 2))) // written again: counted once
		if i%997 == 0 && !w.mayContain(key(i/2)) {
			t.Fatalf("after %d keys, key %d is missing", i+1, i/2)
		}
	}
	// 2^16 + 2^17 + 2^18 keys fit in three filters; a fourth would mean the
	// keys added twice were counted twice.
	if len(w.filters) != 3 {
		t.Fatalf("%d filters for %d keys, want 3", len(w.filters), n)
	}
	for i := range n {
		if !w.mayContain(key(i)) {
			t.Fatalf("key %d of %d is missing", i, n)
		}
	}
	fp := 0
	const probes = 100000
	for i := range probes {
		if w.mayContain(fmt.Appendf(nil, "o/1688/%d", i)) {
			fp++
		}
	}
	// Each filter is sized for about 1-2 % false positives; a key absent
	// from all of them is tested against every one.
	if rate := float64(fp) / probes; rate > 0.05 {
		t.Fatalf("%.1f %% false positives over %d filters", 100*rate, len(w.filters))
	}
	t.Logf("%d keys, %d filters, %d KiB, %.2f %% false positives", n, len(w.filters), w.bytes()>>10, 100*float64(fp)/probes)
}

func (w *writtenKeys) bytes() int {
	n := 0
	for _, f := range w.filters {
		n += len(f.blocks) * 64
	}
	return n
}
