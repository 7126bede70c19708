package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"refundledger/projections"
)

// A relay's Position says every fact of that callback and those before is
// in REFUND_EVENTS: not while a publish fails halfway through a callback's
// facts (here the stream refuses more messages after its first fact).
func TestRelayPositionIsNotACallbackHalfPublished(t *testing.T) {
	e := mustEnv(t)
	proj, outbox := e.threeRefundsProjected(t)
	// The first fact of the first callback with more than one.
	first := -1
	for i := 0; i+1 < len(outbox); i++ {
		if outbox[i].Seq == outbox[i+1].Seq && outbox[i].N == 0 {
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatalf("no callback with two facts in %+v", outbox)
	}
	cfg := projections.EventsStreamConfig(1)
	cfg.MaxMsgs, cfg.Discard = int64(first+1), jetstream.DiscardNew
	if _, err := e.js.CreateStream(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	r := &projections.Relay{JS: e.js, Store: proj.Store, Logger: quiet(), Poll: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for start := time.Now(); e.eventCount() < first+1; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("relay stuck at %d of %d events", e.eventCount(), first+1)
		}
	}
	time.Sleep(50 * time.Millisecond) // it tries the next fact, and fails
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := r.Status().Position; got >= outbox[first].Seq {
		t.Fatalf("position %d, but callback %d has only %d of its facts in REFUND_EVENTS", got, outbox[first].Seq, 1)
	}
}

// A relay started again (a restart) with every fact already in
// REFUND_EVENTS reports the last callback as its position at once, not 0
// until it publishes something.
func TestARelayStartedAgainKnowsItsPosition(t *testing.T) {
	e := mustEnv(t)
	proj, outbox := e.threeRefundsProjected(t)
	if _, err := projections.EnsureEventsStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	e.relayUntil(t, proj.Store(), len(outbox), 1)

	r := &projections.Relay{JS: e.js, Store: proj.Store, Logger: quiet(), Poll: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	want := outbox[len(outbox)-1].Seq
	for start := time.Now(); r.Status().Position != want; time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("position %d, want %d (every fact is in REFUND_EVENTS)", r.Status().Position, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := r.Status(); st.Published != 0 {
		t.Fatalf("published %d facts again", st.Published)
	}
}

// threeRefundsProjected stores three refund callbacks and runs a projection
// until it has folded them; it returns the projection and its outbox.
func (e *env) threeRefundsProjected(t *testing.T) (*projections.Projection, []projections.OutboxEntry) {
	t.Helper()
	for i := range 3 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	proj := e.runProjection(t)
	outbox, err := proj.Store().Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return proj, outbox
}

// A relay whose projection has not folded the callback the stream's last
// event names does not take that callback for its position: its facts may
// be only partly in REFUND_EVENTS (another relay stopped halfway), and this
// projection cannot tell yet.
func TestARelayBehindTheStreamDoesNotClaimItsPosition(t *testing.T) {
	e := mustEnv(t)
	proj, outbox := e.threeRefundsProjected(t)
	if _, err := projections.EnsureEventsStream(context.Background(), e.js, 1); err != nil {
		t.Fatal(err)
	}
	e.relayUntil(t, proj.Store(), len(outbox), 1)
	last := outbox[len(outbox)-1].Seq

	behind := mustOpenStore(t, t.TempDir())
	defer behind.Close()
	e.projectUntil(t, behind, last-1)
	r := &projections.Relay{JS: e.js, Store: func() *projections.Store { return behind }, Logger: quiet(), Poll: 5 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // 20 polls
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := r.Status().Position; got >= last {
		t.Fatalf("position %d, but this projection has folded only up to %d", got, last-1)
	}
}
