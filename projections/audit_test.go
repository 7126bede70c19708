package projections_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"refundledger/projections"
)

func TestAudit(t *testing.T) {
	e := mustEnv(t)
	for i := range 12 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	e.publish(t, []byte("not json"))
	store := mustOpenStore(t, e.dir)
	defer store.Close()
	e.project(t, store)
	// Callbacks stored after the checkpoint are not the projection's business yet.
	e.publish(t, variant(t, 50, "refundsuccess"))
	audit := func() projections.AuditReport {
		rep, err := projections.Audit(context.Background(), store, projections.AuditConfig{JS: e.js, Stream: streamName, Scratch: filepath.Join(t.TempDir(), "scratch"), Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	t.Run("OK", func(t *testing.T) {
		if rep := audit(); !rep.OK || rep.Checkpoint != 13 || rep.Keys == 0 || rep.Differences != 0 {
			t.Fatalf("%+v", rep)
		}
	})

	// A projection of another layout (or fold version) is about to be
	// rebuilt: the audit says so instead of listing every key that differs.
	t.Run("ErrProjectionOfAnotherLayout", func(t *testing.T) {
		if err := store.SetLayout(""); err != nil {
			t.Fatal(err)
		}
		defer store.SetLayout(strconv.Itoa(projections.Layout))
		_, err := projections.Audit(context.Background(), store, projections.AuditConfig{JS: e.js, Stream: streamName, Scratch: filepath.Join(t.TempDir(), "scratch"), Logger: quiet()})
		if err == nil || !strings.Contains(err.Error(), "layout 1") || !strings.Contains(err.Error(), "rebuilt") {
			t.Fatalf("audit of a layout 1 projection: %v, want an error saying it is to be rebuilt", err)
		}
	})

	t.Run("ErrChangedRecord", func(t *testing.T) {
		if err := store.Corrupt("refund/1688/TQ900003", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if err := store.Corrupt("refund/1688/TQ999", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		rep := audit()
		if rep.OK || rep.Differences != 2 || rep.Diffs[0] != (projections.AuditDiff{Key: "refund/1688/TQ900003", Kind: "different"}) ||
			rep.Diffs[1] != (projections.AuditDiff{Key: "refund/1688/TQ999", Kind: "extra"}) {
			t.Fatalf("%+v", rep)
		}
	})
}

// TestAuditStoppedIsAnErrorNotAVerdict: an audit whose context ends (its
// client gone, the service shutting down) stops with an error; it never
// reports the part it compared as a verdict.
func TestAuditStoppedIsAnErrorNotAVerdict(t *testing.T) {
	e := mustEnv(t)
	for i := range 12 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	store := mustOpenStore(t, e.dir)
	defer store.Close()
	e.project(t, store)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	scratch := filepath.Join(t.TempDir(), "scratch")
	rep, err := projections.Audit(ctx, store, projections.AuditConfig{JS: e.js, Stream: streamName, Scratch: scratch, Logger: quiet()})
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("a stopped audit: %+v, %v; want the cancellation as an error", rep, err)
	}
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Errorf("the scratch fold is left behind: %v", err)
	}
}
