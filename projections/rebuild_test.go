package projections_test

import (
	"context"
	"os"
	"testing"

	"refundledger/projections"
)

func TestRebuild(t *testing.T) {
	// A projection built by another fold version or written by another
	// layout (layout 1 wrote none) is rebuilt beside the live one.
	for _, c := range []struct {
		name  string
		stale func(*projections.Store) error
	}{
		{"NewFoldVersionRebuildsBesideAndSwaps", func(s *projections.Store) error { return s.SetFoldVersion("0999") }},
		{"NewLayoutRebuildsBesideAndSwaps", func(s *projections.Store) error { return s.SetLayout("") }},
		{"OtherLayoutRebuildsBesideAndSwaps", func(s *projections.Store) error { return s.SetLayout("7") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := mustEnv(t)
			for i := range 25 {
				e.publish(t, variant(t, i, []string{"waitselleragree", "refundsuccess"}[i%2]))
			}
			old := mustOpenStore(t, e.dir)
			e.project(t, old)
			want := dump(t, old)
			if err := c.stale(old); err != nil {
				t.Fatal(err)
			}
			stale, err := old.BuiltBy()
			if err != nil || stale.Current() {
				t.Fatalf("the altered store is current (%v, %v)", stale, err)
			}
			old.Close()

			p := e.runProjection(t)
			if got := dump(t, p.Store()); got != want {
				t.Fatalf("rebuilt projection differs (%d bytes, want %d):\n%.600s", len(got), len(want), got)
			}
			if built, err := p.Store().BuiltBy(); err != nil || !built.Current() || built == (projections.Built{}) {
				t.Fatalf("the live projection was built by %v (%v), not this binary", built, err)
			}
			if _, err := os.Stat(e.dir + ".rebuild"); !os.IsNotExist(err) {
				t.Fatalf("rebuild dir left behind: %v", err)
			}
		})
	}

	// A rebuild does not look up records it never wrote (Config.FreshStore);
	// one it wrote long enough ago to have left the projector's recent
	// batches must still be read back from the store.
	t.Run("ReadsBackRecordsWrittenLongBefore", func(t *testing.T) {
		e := mustEnv(t)
		e.publish(t, variant(t, 0, "waitselleragree"))
		for i := range 7000 { // more than the projector keeps in memory
			e.publish(t, variant(t, 1+i%3500, "waitselleragree"))
		}
		e.publish(t, variant(t, 0, "refundsuccess"))

		s, err := projections.Rebuild(context.Background(), projections.RebuildConfig{
			JS: e.js, Stream: streamName, Dir: t.TempDir() + "/rebuilt", Logger: quiet(), MaxBatch: 500,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		rec, err := s.Refund("1688", "TQ900000")
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Snapshots) != 2 || rec.State.Status != "refundsuccess" {
			t.Fatalf("refund 0 rebuilt from %d snapshots, status %q; want both snapshots, refundsuccess", len(rec.Snapshots), rec.State.Status)
		}
		requireSameAsLive(t, e, s)
	})

	// A rebuild resumed in a directory holding a build of the same fold
	// version (interrupted, or as here finished) goes on from its
	// checkpoint: the store holds records, so the projector must look every
	// record up.
	t.Run("ResumedLooksUpRecordsOfTheEarlierRun", func(t *testing.T) {
		e := mustEnv(t)
		for i := range 50 {
			e.publish(t, variant(t, i, "waitselleragree"))
		}
		dir := t.TempDir() + "/rebuilt"
		var last projections.RebuildProgress
		rebuild := func() *projections.Store {
			t.Helper()
			s, err := projections.Rebuild(context.Background(), projections.RebuildConfig{JS: e.js, Stream: streamName, Dir: dir, Logger: quiet(),
				Progress: func(p projections.RebuildProgress) { last = p }})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if err := rebuild().Close(); err != nil {
			t.Fatal(err)
		}
		e.publish(t, variant(t, 0, "refundsuccess")) // a refund of the first run
		s := rebuild()
		defer s.Close()
		if !last.Done || last.Checkpoint != 51 || last.Folded != 1 {
			t.Errorf("resumed run's last progress %+v: want done at 51 with 1 message folded by this run", last)
		}
		if c, _ := s.Counts(); c.Messages != 51 {
			t.Fatalf("%d messages folded, want 51", c.Messages)
		}
		rec, err := s.Refund("1688", "TQ900000")
		if err != nil || len(rec.Snapshots) != 2 {
			t.Fatalf("refund 0 resumed with %d snapshots (%v), want 2", len(rec.Snapshots), err)
		}
		requireSameAsLive(t, e, s)
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

// requireSameAsLive requires s to hold what a live projector folds from the
// whole stream into a new store.
func requireSameAsLive(t *testing.T, e *env, s *projections.Store) {
	t.Helper()
	live := mustOpenStore(t, t.TempDir())
	defer live.Close()
	e.project(t, live)
	if got, want := dump(t, s), dump(t, live); got != want {
		t.Fatalf("rebuilt projection differs from the live one:\n%.600s\n--- live ---\n%.600s", got, want)
	}
}
