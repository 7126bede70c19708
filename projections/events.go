package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ledger"
	"refundledger/proto"
)

// EventsStream is the stream downstream services consume. Subjects:
//
//	refunds.<platform>.<kind>.<orderId>.<refundId>
//	orders.<platform>.<kind>.<orderId>
//
// kind is a ledger.Fact kind (opened, transition, succeeded, closed, posting,
// anomaly, status_changed, price_set, price_corrected); a missing id is "_". The
// payload is the ledger.Fact as JSON; Nats-Msg-Id is the fact's id.
const EventsStream = "REFUND_EVENTS"

// Headers on every event, besides Nats-Msg-Id: where the fact sits in the
// outbox, which is how a relay knows where to resume.
const (
	HeaderSourceSeq = "Refundledger-Source-Seq" // stream sequence of the callback that made the fact true
	HeaderFactIndex = "Refundledger-Fact-Index" // the fact's index among that callback's facts
	// HeaderFoldVersion is the ledger.FoldVersion of the projection whose
	// outbox the fact came from (absent on events published before it was
	// added). A relay whose projection has another version publishes what
	// the new fold adds to the past first (backfill.go).
	HeaderFoldVersion = "Refundledger-Fold-Version"
	// HeaderBackfill is set on an event a backfill published: the stream
	// sequence of the callback that made it true. All but the last of a
	// backfill's events repeat the place and fold version of the stream's
	// last event as the backfill last read it, so that a relay stopped
	// halfway backfills again instead of resuming inside it; the last names
	// the new version and the last outbox place walked (backfill.go).
	HeaderBackfill = "Refundledger-Backfill-Source-Seq"
)

// EventsStreamConfig returns the configuration of EventsStream: file
// storage, kept without limits (facts are small and are the ledger's public
// history), deletes denied.
func EventsStreamConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        EventsStream,
		Description: "refundledger facts for downstream services, each published once",
		Subjects:    []string{"refunds.>", "orders.>"},
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		Duplicates:  2 * time.Minute,
		DenyDelete:  true,
		DenyPurge:   true,
	}
}

// EnsureEventsStream creates or updates EventsStream. Like
// ingest.EnsureStream it never lowers the stream's replicas.
func EnsureEventsStream(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Stream, error) {
	cfg := EventsStreamConfig(replicas)
	have, err := streamReplicas(ctx, js, EventsStream)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: %w", EventsStream, err)
	}
	cfg.Replicas = max(cfg.Replicas, have)
	s, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: %w", EventsStream, err)
	}
	return s, nil
}

// streamReplicas returns the replicas of the stream name, 0 when it does not
// exist (as ingest.StreamReplicas, which this package does not import).
func streamReplicas(ctx context.Context, js jetstream.JetStream, name string) (int, error) {
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return s.CachedInfo().Config.Replicas, nil
}

// EventSubject returns the subject a fact is published on.
func EventSubject(f ledger.Fact) string {
	if f.IsRefund() {
		return "refunds." + proto.SubjectToken(string(f.Platform)) + "." + proto.SubjectToken(f.Kind) + "." + proto.SubjectToken(f.OrderID) + "." + proto.SubjectToken(f.RefundID)
	}
	return "orders." + proto.SubjectToken(string(f.Platform)) + "." + proto.SubjectToken(f.Kind) + "." + proto.SubjectToken(f.OrderID)
}
