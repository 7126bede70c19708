package projections_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ledger"
	"refundledger/projections"
	"refundledger/proto"
)

func TestProjector(t *testing.T) {
	t.Run("FoldsFixtures", func(t *testing.T) {
		e := mustEnv(t)
		for _, name := range []string{"1688-refund-refundonly-success.json", "1688-order-create.json", "1688-order-pay-success.json"} {
			e.publish(t, fixture(t, name))
		}
		store := mustOpenStore(t, e.dir)
		defer store.Close()
		e.project(t, store)
		rec, err := store.Refund(proto.Platform1688, "TQ142969441872889407")
		if err != nil {
			t.Fatal(err)
		}
		if rec.State.Status != ledger.StatusSuccess || rec.State.Booked != 16700 {
			t.Fatalf("refund %+v", rec.State)
		}
		order, err := store.Order(proto.Platform1688, "3305075341149134260")
		if err != nil {
			t.Fatal(err)
		}
		if !order.State.Paid || order.State.Current == nil || order.State.Current.Status != "WAITING_FOR_SENT" {
			t.Fatalf("order %+v", order.State)
		}
		if _, err := store.Refund(proto.Platform1688, "TQ1"); !errors.Is(err, projections.ErrNotFound) {
			t.Fatalf("unknown refund: %v", err)
		}
	})

	t.Run("BadInputIsQuarantinedAndDoesNotBlock", func(t *testing.T) {
		e := mustEnv(t)
		e.publish(t, []byte(`{"messageType":"ORDER_BUYER_VIEW_ORDER_BUYER_REFUND","messagePlatform":1,"messageBody":{"refundOperationList":"nope"}}`))
		e.publish(t, []byte(`not json`))
		e.publish(t, []byte(`{"any":"thing"}`), proto.HeaderQuarantine, "not an envelope")
		e.publish(t, []byte(`{"messageType":"SOMETHING_NEW","messagePlatform":1,"messageBody":{}}`))
		e.publish(t, fixture(t, "1688-refund-refundonly-success.json"))
		store := mustOpenStore(t, e.dir)
		defer store.Close()
		p := e.project(t, store)
		c := p.Counts()
		if c.Messages != 5 || c.Quarantined != 3 || c.Unknown != 1 || c.Refunds != 1 {
			t.Fatalf("counts %+v", c)
		}
		q, err := store.Quarantine(0, 10)
		if err != nil || len(q) != 3 || q[0].Seq != 1 || q[0].Reason == "" || q[2].Reason != "ingest: not an envelope" {
			t.Fatalf("quarantine %+v %v", q, err)
		}
		if _, err := store.Refund(proto.Platform1688, "TQ142969441872889407"); err != nil {
			t.Fatalf("the good callback after bad ones: %v", err)
		}
	})

	t.Run("RestartsFoldEachMessageOnce", func(t *testing.T) {
		e := mustEnv(t)
		store := mustOpenStore(t, e.dir)
		for i := range 30 {
			e.publish(t, variant(t, i%10, []string{"waitselleragree", "refundsuccess", "refundclose"}[i%3]))
			if i%7 == 6 { // projector restarts between writes
				e.project(t, store)
			}
		}
		e.project(t, store)
		e.project(t, store) // a restart with nothing new
		incremental := dump(t, store)
		store.Close()

		fresh := mustOpenStore(t, t.TempDir())
		defer fresh.Close()
		e.project(t, fresh)
		if got := dump(t, fresh); got != incremental {
			t.Fatalf("a projection folded across restarts differs from a clean fold:\n%.600s\n--- clean ---\n%.600s", incremental, got)
		}
	})
}

// dump renders everything a projection holds that a rebuild must reproduce.
func dump(t testing.TB, s *projections.Store) string {
	t.Helper()
	var out string
	page, err := s.ListRefunds(projections.RefundFilter{Limit: projections.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	out += mustJSON(t, page)
	facts, err := s.Outbox(0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	out += mustJSON(t, facts)
	cp, _ := s.Checkpoint()
	c, _ := s.Counts()
	return out + mustJSON(t, []any{cp, c})
}

// A projector started while NATS is away waits for it instead of returning
// (which would stop serve), then folds; an audit's does not wait.
func TestProjectorWaitsForNATS(t *testing.T) {
	srv := newRestartableNATS(t)
	js := srv.connect(t)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: streamName, Subjects: []string{"xportcn.cb.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	e := &env{js: js, dir: t.TempDir()}
	e.publish(t, variant(t, 1, "refundsuccess"))
	store := mustOpenStore(t, e.dir)
	defer store.Close()
	p, err := projections.NewProjector(projections.Config{JS: js, Stream: streamName, Store: store, Logger: quiet(), WaitForNATS: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.stop()
	// Without WaitForNATS (an audit's reference fold) it fails instead.
	scratch := mustOpenStore(t, t.TempDir())
	defer scratch.Close()
	impatient, err := projections.NewProjector(projections.Config{JS: js, Stream: streamName, Store: scratch, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := impatient.Run(context.Background()); err == nil {
		t.Fatal("a projector without WaitForNATS returned no error with NATS away")
	}
	requireRidesOutNATS(t, srv, "projector", p.Run, func() bool { return p.Checkpoint() >= 1 })
}

// TestStreamSeqAgreesWithMetadata reads the deliveries of an ordered consumer,
// the projector's kind, and compares the stream sequence the projector reads
// from the reply subject with jetstream's own parser.
func TestStreamSeqAgreesWithMetadata(t *testing.T) {
	e := mustEnv(t)
	const n = 50
	for i := range n {
		e.publish(t, variant(t, i%3, "waitselleragree"))
	}
	ctx := context.Background()
	stream, err := e.js.Stream(ctx, streamName)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 7})
	if err != nil {
		t.Fatal(err)
	}
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	for want := uint64(7); want <= n; want++ {
		msg, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		got, err := projections.StreamSeq(msg.Reply())
		if err != nil || got != meta.Sequence.Stream || got != want {
			t.Fatalf("StreamSeq(%q) = %d, %v; metadata says %d, want %d", msg.Reply(), got, err, meta.Sequence.Stream, want)
		}
	}
}

// TestACallbackWithTenThousandFactsIsFolded: a refund body of 5,100
// operations (387 KB, under the ingest limit) yields over 10,000 facts in
// one callback. The outbox takes them all under the callback's key, the
// projection goes on past it, and the outbox reads from the next callback
// on when asked for what follows it. (The outbox once refused more than
// 10,000 facts a callback, which stopped the projection at that callback
// for good.)
func TestACallbackWithTenThousandFactsIsFolded(t *testing.T) {
	e := mustEnv(t)
	ops := make([]string, 0, 5100)
	for i := 1; i <= cap(ops); i++ {
		ops = append(ops, fmt.Sprintf(`{"id":%d,"gmtCreate":%d,"beforeOperateStatus":"refundsuccess"}`, i, 1704853762000+int64(i)*1000))
	}
	e.publish(t, []byte(`{"messageType":"ORDER_BUYER_VIEW_ORDER_BUYER_REFUND","messagePlatform":1,"id":1,`+
		`"messageBody":{"refundId":"TQ1","orderId":5,"status":"refundsuccess","refundOperationList":[`+strings.Join(ops, ",")+`]}}`))
	e.publish(t, fixture(t, "1688-refund-refundonly-success.json"))
	store := mustOpenStore(t, e.dir)
	defer store.Close()
	e.project(t, store)
	all, err := store.Outbox(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	first := 0
	for _, f := range all {
		if f.Seq == 1 {
			if f.N != first {
				t.Fatalf("fact %d of callback 1 numbered %d", first, f.N)
			}
			first++
		}
	}
	if first <= 10000 || len(all) == first {
		t.Fatalf("%d facts of callback 1 and %d in all; want over 10,000, then callback 2's", first, len(all))
	}
	next, err := store.Outbox(1, 10)
	if err != nil || len(next) == 0 || next[0].Seq != 2 || next[0].N != 0 {
		t.Fatalf("after callback 1: %+v, %v; want callback 2's facts from the first", next, err)
	}
}
