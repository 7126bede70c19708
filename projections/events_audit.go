package projections

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// EventsReport is the outcome of AuditEvents: what downstream services were
// given (REFUND_EVENTS) checked against what the projection says they must
// have (its outbox), fact id by fact id.
type EventsReport struct {
	Events  int    `json:"events"`  // events read
	Reached uint64 `json:"reached"` // the last callback (stream sequence) an event names
	// Facts is the outbox facts of callbacks up to Reached: each must be in
	// the events stream. Pending is those of later callbacks (and of
	// Reached itself not published yet): the relay has not got there.
	Facts   int `json:"facts"`
	Pending int `json:"pending"`
	// Missing: facts up to Reached that no event carries. Repeated: fact
	// ids that more than one event carries (each id counted once).
	// Unknown: events whose fact is not in the outbox (derived by another
	// fold version and no longer; not an error: facts are history).
	Missing  int          `json:"missing"`
	Repeated int          `json:"repeated"`
	Unknown  int          `json:"unknown"`
	Examples []EventsDiff `json:"examples"` // the first problems, at most MaxDiffs
	OK       bool         `json:"ok"`       // nothing missing, nothing repeated
}

// EventsDiff is one problem AuditEvents found.
type EventsDiff struct {
	Problem string `json:"problem"` // "missing" or "repeated"
	FactID  string `json:"factId"`
	Seq     uint64 `json:"seq,omitempty"` // the callback of a missing fact
}

// AuditEvents reads the fact id of every event in stream (headers only) and
// then store's outbox, and reports facts that downstream never got and
// facts it got twice: the relay's promise, each fact exactly once, checked.
// It holds ~40 MB per million events while it runs. maxDiffs bounds the
// examples listed (0: 20).
func AuditEvents(ctx context.Context, store *Store, stream jetstream.Stream, maxDiffs int) (EventsReport, error) {
	if maxDiffs <= 0 {
		maxDiffs = 20
	}
	rep := EventsReport{Examples: []EventsDiff{}}
	note := func(d EventsDiff) {
		if len(rep.Examples) < maxDiffs {
			rep.Examples = append(rep.Examples, d)
		}
	}
	key := newIDSet().key // 128-bit hashes of ids, as the backfill keeps them
	// Per fact id: how many events carry it, and whether the outbox has it.
	type seen struct {
		events  uint32
		inStore bool
	}
	ids := map[[2]uint64]*seen{}
	_, err := readEventHeaders(ctx, stream, 0, func(_ uint64, h nats.Header) {
		rep.Events++
		id := h.Get(jetstream.MsgIDHeader)
		k := key(id)
		s := ids[k]
		if s == nil {
			s = &seen{}
			ids[k] = s
		}
		if s.events++; s.events == 2 {
			rep.Repeated++
			note(EventsDiff{Problem: "repeated", FactID: id})
		}
		rep.Reached = max(rep.Reached, eventCallback(h))
	})
	if err != nil {
		return rep, fmt.Errorf("audit events: %w", err)
	}
	afterSeq, afterN := uint64(0), -1
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		entries, err := store.OutboxAfter(afterSeq, afterN, 1000)
		if err != nil {
			return rep, fmt.Errorf("audit events: %w", err)
		}
		if len(entries) == 0 {
			break
		}
		for i := range entries {
			e := &entries[i]
			s := ids[key(e.Fact.ID)]
			if s != nil {
				s.inStore = true
			}
			switch {
			case e.Seq > rep.Reached || (s == nil && e.Seq == rep.Reached):
				// Not reached yet, or the callback the relay is publishing.
				rep.Pending++
			case s == nil:
				rep.Facts++
				rep.Missing++
				note(EventsDiff{Problem: "missing", FactID: e.Fact.ID, Seq: e.Seq})
			default:
				rep.Facts++
			}
		}
		tail := entries[len(entries)-1]
		afterSeq, afterN = tail.Seq, tail.N
	}
	for _, s := range ids {
		if !s.inStore {
			rep.Unknown++
		}
	}
	rep.OK = rep.Missing == 0 && rep.Repeated == 0
	return rep, nil
}
