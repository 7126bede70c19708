package projections

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestBulkStoreClosesWithAShallowL0: a rebuilt store is swapped in as a live
// store, which stops writes at 12 L0 sublevels; a rebuild compacts only from
// 8 and goes on flushing meanwhile, so Close compacts a deeper L0 first.
func TestBulkStoreClosesWithAShallowL0(t *testing.T) {
	for _, c := range []struct {
		flushes   int
		compacted bool
	}{{3, false}, {maxL0AtSwap + 4, true}} {
		t.Run(fmt.Sprintf("%dFlushes", c.flushes), func(t *testing.T) {
			// Pebble compacts small tables early on its own; a rebuild's
			// 32 MiB ones it lets pile up to 8 sublevels.
			testPebbleOptions = func(o *pebble.Options) { o.DisableAutomaticCompactions = true }
			defer func() { testPebbleOptions = nil }()
			dir := t.TempDir()
			s, err := openBulkStore(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Each flush writes the same keys: a table overlapping all the
			// others, one more sublevel.
			for f := range c.flushes {
				for k := range 100 {
					if err := s.db.Set(fmt.Appendf(nil, "refund/1688/TQ%d", k), fmt.Appendf(nil, "v%d", f), pebble.NoSync); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.db.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if got := s.db.Metrics().Levels[0].Sublevels; got != int32(c.flushes) {
				t.Fatalf("%d L0 sublevels before Close, want %d", got, c.flushes)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// A read-only database does not count sublevels; each flush
			// here wrote one table.
			got := db.Metrics().Levels[0].TablesCount
			if want := map[bool]int64{true: 0, false: int64(c.flushes)}[c.compacted]; got != want {
				t.Fatalf("%d L0 tables after Close, want %d", got, want)
			}
			v, closer, err := db.Get([]byte("refund/1688/TQ7"))
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			if want := fmt.Sprintf("v%d", c.flushes-1); string(v) != want {
				t.Fatalf("value %q after Close, want %q", v, want)
			}
		})
	}
}

// TestWriteBatchesAreReused: up to maxSpareBatches committed write batches
// come back from newWriteBatch, so that a fold does not grow a fresh batch
// buffer for every commit; one of a database that has been replaced is not.
func TestWriteBatchesAreReused(t *testing.T) {
	s, err := openBulkStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	taken := map[*pebble.Batch]bool{}
	var wbs []*pebble.Batch
	for range maxSpareBatches + 1 {
		wb, db := s.newWriteBatch()
		if db != s.db || taken[wb] {
			t.Fatal("newWriteBatch returned a batch in use or of another database")
		}
		taken[wb] = true
		wbs = append(wbs, wb)
	}
	for _, wb := range wbs {
		if err := wb.Set([]byte("k"), []byte("v"), nil); err != nil {
			t.Fatal(err)
		}
		if err := wb.Commit(pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		s.releaseWriteBatch(wb, s.db)
	}
	reused := 0
	for range maxSpareBatches + 1 {
		wb, _ := s.newWriteBatch()
		if taken[wb] {
			reused++
			if wb.Count() != 0 {
				t.Errorf("a reused batch holds %d entries", wb.Count())
			}
		}
	}
	if reused != maxSpareBatches {
		t.Errorf("%d batches reused, want %d", reused, maxSpareBatches)
	}

	other, err := openBulkStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	wb, db := other.newWriteBatch()
	s.releaseWriteBatch(wb, db) // as after a swap: the batch of a database s no longer has
	if got, _ := s.newWriteBatch(); got == wb {
		t.Error("newWriteBatch reused a batch of another database")
	}
}

// A store used after Close (a goroutine still running at shutdown) answers
// an error; Pebble itself would panic and take the process down.
func TestAClosedStoreAnswersErrors(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FoldVersion(); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("FoldVersion after Close: %v, want ErrStoreClosed", err)
	}
	if _, err := s.OutboxAfter(0, -1, 10); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("OutboxAfter after Close: %v, want ErrStoreClosed", err)
	}
	b := newBatch(s, Counts{})
	b.last = 1
	if err := b.commit(); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("commit after Close: %v, want ErrStoreClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
