package projections_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ledger"
	"refundledger/projections"
)

// eventHeaders returns the headers of every event in REFUND_EVENTS.
func (e *env) eventHeaders(t testing.TB) []map[string]string {
	t.Helper()
	ctx := context.Background()
	s, err := e.js.Stream(ctx, projections.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		h := map[string]string{}
		for _, k := range []string{jetstream.MsgIDHeader, projections.HeaderFoldVersion, projections.HeaderBackfill} {
			h[k] = m.Header.Get(k)
		}
		out = append(out, h)
	}
	return out
}

// A projection rebuilt by a new fold version may hold facts the old fold
// never derived, for callbacks long before the relay's position. The relay
// publishes them (and only them) before it goes on in order: downstream ends
// with every fact of the new outbox exactly once, also with two relays
// racing through the backfill, and a relay started again publishes nothing.
func TestRelayBackfillsWhatANewFoldAdds(t *testing.T) {
	e := mustEnv(t)
	if _, err := projections.EnsureEventsStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		e.publish(t, variant(t, i, []string{"refundsuccess", "waitselleragree"}[i%2]))
	}
	for _, name := range []string{"1688-order-create.json", "1688-order-pay-success.json"} {
		e.publish(t, fixture(t, name))
	}

	// The old fold: no posting facts, and another version.
	old, _ := e.projectAll(t)
	oldVersion := strconv.Itoa(ledger.FoldVersion - 1)
	if err := old.SetFoldVersion(oldVersion); err != nil {
		t.Fatal(err)
	}
	if err := old.DropOutboxFacts(func(f ledger.Fact) bool { return f.Kind == ledger.FactPostingBooked }); err != nil {
		t.Fatal(err)
	}
	oldOutbox, err := old.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	e.relayUntil(t, old, len(oldOutbox), 1)
	for i, h := range e.eventHeaders(t) {
		if h[projections.HeaderFoldVersion] != oldVersion {
			t.Fatalf("event %d (%s) has fold version %q, want %s", i, h[jetstream.MsgIDHeader], h[projections.HeaderFoldVersion], oldVersion)
		}
	}

	// The new fold, rebuilt from the stream.
	fresh := mustOpenStore(t, t.TempDir())
	defer fresh.Close()
	e.project(t, fresh)
	want, err := fresh.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	added := len(want) - len(oldOutbox)
	if added <= 0 {
		t.Fatal("the new fold adds nothing to the past: the test shows nothing")
	}

	requireEveryFactOnce := func(t *testing.T) {
		t.Helper()
		got := e.events(t)
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("fact %s published twice", id)
			}
			seen[id] = true
		}
		for _, w := range want {
			if !seen[w.Fact.ID] {
				t.Fatalf("fact %s (callback %d) never published", w.Fact.ID, w.Seq)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d events for the %d facts of the new outbox", len(got), len(want))
		}
	}
	t.Run("TwoRelaysPublishWhatIsMissingOnce", func(t *testing.T) {
		// A backfill stopped after its first event, as a crash leaves it.
		published := map[string]bool{}
		for _, id := range e.events(t) {
			published[id] = true
		}
		for _, w := range want {
			if published[w.Fact.ID] {
				continue
			}
			m := nats.NewMsg(projections.EventSubject(w.Fact))
			m.Data = []byte(mustJSON(t, w.Fact))
			m.Header.Set(jetstream.MsgIDHeader, w.Fact.ID)
			last := oldOutbox[len(oldOutbox)-1]
			m.Header.Set(projections.HeaderSourceSeq, strconv.FormatUint(last.Seq, 10))
			m.Header.Set(projections.HeaderFactIndex, strconv.Itoa(last.N))
			m.Header.Set(projections.HeaderFoldVersion, oldVersion)
			m.Header.Set(projections.HeaderBackfill, strconv.FormatUint(w.Seq, 10))
			if _, err := e.js.PublishMsg(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			break
		}
		e.relayUntil(t, fresh, len(want), 2)
		requireEveryFactOnce(t)
		backfilled := e.eventHeaders(t)[len(oldOutbox):]
		for i, h := range backfilled {
			if h[projections.HeaderBackfill] == "" {
				t.Fatalf("event %s was not backfilled", h[jetstream.MsgIDHeader])
			}
			// All but the last name the old version (a relay stopped
			// halfway backfills again); the last the new one, which ends it.
			version := oldVersion
			if i == len(backfilled)-1 {
				version = strconv.Itoa(ledger.FoldVersion)
			}
			if h[projections.HeaderFoldVersion] != version {
				t.Fatalf("backfilled event %d of %d (%s) names fold version %q, want %s",
					i+1, len(backfilled), h[jetstream.MsgIDHeader], h[projections.HeaderFoldVersion], version)
			}
		}
		if len(backfilled) != added {
			t.Fatalf("%d events backfilled, want the %d facts the new fold adds to the past", len(backfilled), added)
		}
	})
	t.Run("ThenInOrder", func(t *testing.T) {
		// A relay started again (a new process) finds the new version last
		// and publishes the next callback's facts in order.
		e.publish(t, variant(t, 99, "refundsuccess"))
		e.project(t, fresh)
		if want, err = fresh.Outbox(0, 1_000_000); err != nil {
			t.Fatal(err)
		}
		e.relayUntil(t, fresh, len(want), 1)
		requireEveryFactOnce(t)
		headers := e.eventHeaders(t)
		if last := headers[len(headers)-1]; last[projections.HeaderBackfill] != "" ||
			last[projections.HeaderFoldVersion] != strconv.Itoa(ledger.FoldVersion) {
			t.Fatalf("the last event %v was not published in order by the new fold", last)
		}
		if ids := e.events(t); ids[len(ids)-1] != want[len(want)-1].Fact.ID {
			t.Fatalf("the last event is %s, want the outbox's last fact %s", ids[len(ids)-1], want[len(want)-1].Fact.ID)
		}
	})
	t.Run("ARelayStartedAgainPublishesNothing", func(t *testing.T) {
		e.relayUntil(t, fresh, len(want), 1)
		requireEveryFactOnce(t)
	})
}
