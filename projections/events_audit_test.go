package projections_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ledger"
	"refundledger/projections"
)

// AuditEvents checks the relay's promise: every fact of the outbox in
// REFUND_EVENTS, once. It names the facts an old fold never published, a
// fact published twice, and the old fold's facts the new one no longer
// derives; facts of callbacks the events do not reach yet are pending.
func TestAuditEvents(t *testing.T) {
	e := mustEnv(t)
	old, _, oldOutbox := e.oldFoldPublished(t) // the events lack the posting facts
	ctx := context.Background()
	stream, err := e.js.Stream(ctx, projections.EventsStream)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("WhatTheRelayPublished", func(t *testing.T) {
		rep, err := projections.AuditEvents(ctx, old, stream, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK || rep.Events != len(oldOutbox) || rep.Facts != len(oldOutbox) || rep.Pending != 0 || rep.Unknown != 0 {
			t.Fatalf("the old fold's own outbox: %+v", rep)
		}
	})

	fresh := mustOpenStore(t, t.TempDir())
	defer fresh.Close()
	e.project(t, fresh)
	full, err := fresh.Outbox(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	postings := 0
	for _, f := range full {
		if f.Fact.Kind == ledger.FactPostingBooked {
			postings++
		}
	}

	t.Run("FactsNeverPublished", func(t *testing.T) {
		rep, err := projections.AuditEvents(ctx, fresh, stream, 3)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK || rep.Missing != postings || rep.Repeated != 0 || len(rep.Examples) != 3 || rep.Examples[0].Problem != "missing" {
			t.Fatalf("want the %d postings missing: %+v", postings, rep)
		}
	})

	t.Run("AFactPublishedTwice", func(t *testing.T) {
		e.shortDedupWindow(t)
		again := oldOutbox[0]
		m := nats.NewMsg(projections.EventSubject(again.Fact))
		m.Data = []byte(mustJSON(t, again.Fact))
		m.Header.Set(jetstream.MsgIDHeader, again.Fact.ID)
		if _, err := e.js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
		rep, err := projections.AuditEvents(ctx, old, stream, 0)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK || rep.Repeated != 1 || rep.Missing != 0 || len(rep.Examples) != 1 ||
			rep.Examples[0] != (projections.EventsDiff{Problem: "repeated", FactID: again.Fact.ID}) {
			t.Fatalf("want %s repeated: %+v", again.Fact.ID, rep)
		}
	})

	t.Run("FactsNoLongerDerived", func(t *testing.T) {
		// A store that derives no transitions: the events of those are
		// unknown to it; not an error.
		none := mustOpenStore(t, t.TempDir())
		defer none.Close()
		e.project(t, none)
		outbox := e.makeOld(t, none, "1", ledger.FactRefundTransition)
		rep, err := projections.AuditEvents(ctx, none, stream, 0)
		if err != nil {
			t.Fatal(err)
		}
		transitions := 0
		for _, f := range oldOutbox {
			if f.Fact.Kind == ledger.FactRefundTransition {
				transitions++
			}
		}
		if rep.Unknown != transitions || rep.Missing != len(outbox)-(len(oldOutbox)-transitions) {
			t.Fatalf("want %d unknown: %+v", transitions, rep)
		}
	})
}
