package main

import (
	"runtime/debug"
	"testing"
)

// current returns the collector's percent and memory limit without changing
// them.
func current() (percent int, limit int64) {
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

func TestBulkGCAppliesAndRestores(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	p0, l0 := current()
	restore := bulkGC(false)
	p, l := current()
	if p != bulkGCPercent {
		t.Errorf("GC percent %d during a bulk fold, want %d", p, bulkGCPercent)
	}
	if l < bulkHeapBudget || l > bulkHeapBudget+1<<30 { // a test's heap is far below 1 GiB
		t.Errorf("memory limit %d during a bulk fold, want the heap plus %d", l, bulkHeapBudget)
	}
	restore()
	if p, l := current(); p != p0 || l != l0 {
		t.Errorf("after restore: percent %d limit %d, want %d %d", p, l, p0, l0)
	}

	restore = bulkGC(true)
	if _, le := current(); le < l+embeddedNATSBudget-16<<20 {
		t.Errorf("limit with NATS embedded %d, want about %d more than without (%d)", le, embeddedNATSBudget, l)
	}
	restore()
}

func TestBulkGCLeavesTheEnvironmentsChoice(t *testing.T) {
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	p0, l0 := current()
	restore := bulkGC(true)
	defer restore()
	if p, l := current(); p != p0 || l != l0 {
		t.Errorf("with GOGC and GOMEMLIMIT set: percent %d limit %d, want them unchanged (%d %d)", p, l, p0, l0)
	}
}
