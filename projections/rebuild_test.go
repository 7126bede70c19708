package projections_test

import (
	"context"
	"os"
	"testing"

	"refundledger/projections"
)

func TestRebuild(t *testing.T) {
	t.Run("NewFoldVersionRebuildsBesideAndSwaps", func(t *testing.T) {
		e := mustEnv(t)
		for i := range 25 {
			e.publish(t, variant(t, i, []string{"waitselleragree", "refundsuccess"}[i%2]))
		}
		old := mustOpenStore(t, e.dir)
		e.project(t, old)
		want := dump(t, old)
		if err := old.SetFoldVersion("0999"); err != nil {
			t.Fatal(err)
		}
		old.Close()

		p := e.runProjection(t)
		if got := dump(t, p.Store()); got != want {
			t.Fatalf("rebuilt projection differs (%d bytes, want %d):\n%.600s", len(got), len(want), got)
		}
		if v, _ := p.Store().FoldVersion(); v == 999 {
			t.Fatal("the old projection is still live")
		}
		if _, err := os.Stat(e.dir + ".rebuild"); !os.IsNotExist(err) {
			t.Fatalf("rebuild dir left behind: %v", err)
		}
	})

	t.Run("ReportsProgressAndEndsCaughtUp", func(t *testing.T) {
		e := mustEnv(t)
		for i := range 3000 {
			e.publish(t, variant(t, i, "refundsuccess"))
		}
		var last projections.RebuildProgress
		calls := 0
		s, err := projections.Rebuild(context.Background(), projections.RebuildConfig{
			JS: e.js, Stream: streamName, Dir: t.TempDir() + "/rebuilt", Logger: quiet(), MaxBatch: 100,
			Progress: func(p projections.RebuildProgress) { last = p; calls++ },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if !last.Done || last.Target != 3000 || last.Checkpoint != 3000 || calls < 2 {
			t.Fatalf("progress %+v after %d calls", last, calls)
		}
		if cp, _ := s.Checkpoint(); cp != last.Checkpoint {
			t.Fatalf("store checkpoint %d, progress says %d", cp, last.Checkpoint)
		}
	})
}
