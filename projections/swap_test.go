package projections

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// storeAt opens a store in dir (a bulk one when bulk) holding checkpoint cp.
func storeAt(t *testing.T, dir string, bulk bool, cp uint64) *Store {
	t.Helper()
	open := OpenStore
	if bulk {
		open = openBulkStore
	}
	s, err := open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(keyCheckpoint, binary.BigEndian.AppendUint64(nil, cp), s.writeOptions()); err != nil {
		t.Fatal(err)
	}
	return s
}

// failOpens makes the next n Pebble opens fail (the directory exists).
func failOpens(t *testing.T, n int) {
	t.Helper()
	testPebbleOptions = func(o *pebble.Options) {
		if n > 0 {
			n--
			o.ErrorIfExists = true
		}
	}
	t.Cleanup(func() { testPebbleOptions = nil })
}

func mustCheckpoint(t *testing.T, s *Store, want uint64) {
	t.Helper()
	got, err := s.Checkpoint()
	if err != nil || got != want {
		t.Fatalf("checkpoint %d, %v; want %d", got, err, want)
	}
}

// TestFailedSwapKeepsServingTheOldProjection: when the rebuilt projection
// cannot be opened in the live one's place, both go back where they were and
// the store goes on serving the old one.
func TestFailedSwapKeepsServingTheOldProjection(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pebble")
	live := storeAt(t, dir, false, 7)
	rebuilt := storeAt(t, dir+".rebuild", true, 9)
	failOpens(t, 1) // the rebuilt projection's, in the live one's place
	if err := live.Replace(rebuilt); err == nil || !strings.Contains(err.Error(), "open the rebuilt projection") {
		t.Fatalf("Replace: %v, want the rebuilt projection's open to fail", err)
	}
	mustCheckpoint(t, live, 7)
	if _, err := live.OutboxAfter(0, -1, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + ".prev"); !os.IsNotExist(err) {
		t.Errorf("the old projection is still aside in .prev: %v", err)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	again := storeAt(t, dir+".rebuild", false, 9) // still there, and whole
	mustCheckpoint(t, again, 9)
	again.Close()
}

// TestSwapThatCannotReopenAnythingBreaksTheStoreWithoutAPanic: when not
// even the old database opens again, every use of the store returns the
// error; none reaches the closed database (Pebble would panic).
func TestSwapThatCannotReopenAnythingBreaksTheStoreWithoutAPanic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pebble")
	live := storeAt(t, dir, false, 7)
	rebuilt := storeAt(t, dir+".rebuild", true, 9)
	failOpens(t, 2)
	err := live.Replace(rebuilt)
	if err == nil || !strings.Contains(err.Error(), "reopen") {
		t.Fatalf("Replace: %v, want the reopen's failure", err)
	}
	if _, err := live.Checkpoint(); err == nil {
		t.Error("Checkpoint of a broken store: no error")
	}
	if _, err := live.OutboxAfter(0, -1, 10); err == nil {
		t.Error("OutboxAfter of a broken store: no error")
	}
	if _, err := live.ListRefunds(RefundFilter{Limit: 10}); err == nil {
		t.Error("ListRefunds of a broken store: no error")
	}
	if err := live.flush(); err == nil {
		t.Error("flush of a broken store: no error")
	}
	b := newBatch(live, Counts{})
	b.last = 8
	if err := b.commit(); err == nil {
		t.Error("commit into a broken store: no error")
	}
	if err := live.Close(); err != nil {
		t.Errorf("Close of a broken store: %v", err)
	}
}

// TestSwapClearsWhatAnEarlierOneLeftAside: a .prev that an earlier swap
// could not delete does not stop the next one, which deletes it.
func TestSwapClearsWhatAnEarlierOneLeftAside(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pebble")
	if err := os.MkdirAll(filepath.Join(dir+".prev", "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	live := storeAt(t, dir, false, 7)
	if err := live.Replace(storeAt(t, dir+".rebuild", true, 9)); err != nil {
		t.Fatal(err)
	}
	mustCheckpoint(t, live, 9)
	if _, err := os.Stat(dir + ".prev"); !os.IsNotExist(err) {
		t.Errorf(".prev is still there: %v", err)
	}
	live.Close()
}
