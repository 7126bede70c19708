package projections_test

import (
	"context"
	"path/filepath"
	"testing"

	"refundledger/projections"
)

// TestAuditReportsProgress: an audit with a Progress callback reports how far
// its fold of the stream has come, never backwards, against the live
// checkpoint, and ends exactly at it (once: only the last call is complete),
// so that `audit --data` can draw a progress bar.
func TestAuditReportsProgress(t *testing.T) {
	e := mustEnv(t)
	for i := range 40 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	store := mustOpenStore(t, e.dir)
	defer store.Close()
	e.project(t, store)
	e.publish(t, variant(t, 99, "refundsuccess")) // after the checkpoint: not the audit's
	type call struct{ folded, total uint64 }
	var calls []call
	rep, err := projections.Audit(context.Background(), store, projections.AuditConfig{
		JS: e.js, Stream: streamName, Scratch: filepath.Join(t.TempDir(), "scratch"), Logger: quiet(),
		Progress: func(folded, total uint64) { calls = append(calls, call{folded, total}) },
	})
	if err != nil || !rep.OK || rep.Checkpoint != 40 {
		t.Fatalf("audit: %+v, %v", rep, err)
	}
	if len(calls) < 2 {
		t.Fatalf("progress calls %v: want one at the start and one at the end", calls)
	}
	if last := calls[len(calls)-1]; last != (call{40, 40}) {
		t.Fatalf("last progress call %v, want {40 40}; all: %v", last, calls)
	}
	for i, c := range calls {
		if c.total != 40 || (i > 0 && c.folded < calls[i-1].folded) || (i < len(calls)-1 && c.folded >= c.total) {
			t.Fatalf("progress call %d of %v: want totals of 40, folded never going back and complete only in the last", i, calls)
		}
	}
}
