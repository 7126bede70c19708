package main_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"refundledger/ledger"
)

// An upgrade to a new fold version, through the binary: serve started on
// data that the previous fold built (here, the same data with its stored
// fold version set back) rebuilds the projection beside the live one and
// swaps it in, and its relay checks the events stream against the new
// outbox. Every fact ends up in REFUND_EVENTS once, and callbacks after the
// upgrade come through: the relay does not stall on the way. (Within the
// stream's 2-minute duplicate window a fact published again would be
// dropped; projections' backfill tests shrink the window to see repeats.)
func TestServeUpgradesTheFoldVersion(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	for _, name := range []string{"1688-order-create.json", "1688-refund-refundonly-success.json", "1688-order-pay-success.json"} {
		if code, body := s.post(t, fixture(t, name)); code != 200 {
			t.Fatalf("post %s: %d %v", name, code, body)
		}
	}
	s.waitCaughtUp(t, 3)
	if facts := statusOf(t, s).Counts.Facts; s.eventCount(t, facts) != facts {
		t.Fatalf("before the upgrade: the events stream does not hold the %d facts", facts)
	}
	s.stop(t)

	db, err := pebble.Open(filepath.Join(dir, "pebble"), &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("meta/foldversion"), []byte(strconv.Itoa(ledger.FoldVersion-1)), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = startServe(t, dir)
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		st := statusOf(t, s)
		if st.FoldVersion == ledger.FoldVersion && st.Rebuild == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no rebuild to fold version %d: %+v", ledger.FoldVersion, st)
		}
	}
	if code, body := s.post(t, fixture(t, "1688-refund-return-success-stringtimes.json")); code != 200 {
		t.Fatalf("post after the upgrade: %d %v", code, body)
	}
	s.waitCaughtUp(t, 4)
	st := statusOf(t, s)
	if n := s.eventCount(t, st.Counts.Facts); n != st.Counts.Facts {
		t.Fatalf("after the upgrade: %d events for the %d facts of the outbox", n, st.Counts.Facts)
	}
	js := mustJetStream(t, s.nats)
	events, err := js.Stream(context.Background(), "REFUND_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for seq := uint64(1); seq <= st.Counts.Facts; seq++ {
		m, err := events.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		id := m.Header.Get("Nats-Msg-Id")
		if seen[id] {
			t.Fatalf("fact %s published twice", id)
		}
		seen[id] = true
	}
	if st.Relay == nil || st.Relay.Backfilling {
		t.Fatalf("relay status after the upgrade: %+v", st.Relay)
	}
	s.stop(t)
}

type serveStatus struct {
	FoldVersion int
	Rebuild     *struct{ Checkpoint, Target uint64 }
	Counts      struct{ Facts uint64 }
	Relay       *struct {
		Published, Position uint64
		Backfilling         bool
	}
}

func statusOf(t *testing.T, s *service) serveStatus {
	t.Helper()
	code, b := s.get(t, "/v1/status")
	var st serveStatus
	if code != 200 || json.Unmarshal(b, &st) != nil {
		t.Fatalf("/v1/status: %d %s", code, b)
	}
	return st
}
