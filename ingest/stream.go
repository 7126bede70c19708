package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream that holds every callback received.
const StreamName = "XPORTCN_CALLBACKS"

// StreamSubjects is the subject filter of the stream. Routed callbacks use
// five tokens (see Subject); quarantined bodies use QuarantineSubject (three
// tokens), so "xportcn.cb.*.*.*" selects only routed callbacks.
const StreamSubjects = "xportcn.cb.>"

// DuplicateWindow is the stream's deduplication window (Nats-Msg-Id).
//
// Xportcn retries a failed push every 30 minutes, at most 5 times, so a
// message can arrive again up to ~2.5 h after its first attempt; 3 h covers
// that horizon with half an hour to spare, so a retry of a message that was
// stored (but whose 200 got lost) is recognised as a duplicate.
//
// # Memory cost
//
// The server keeps one entry per message published within the window, in
// memory, on every replica: the Nats-Msg-Id string (about 25-70 bytes here)
// plus roughly 80-100 bytes of map and bookkeeping overhead, so ~150 bytes per
// message. At a sustained R messages per second that is R × 10 800 entries:
// 10 msg/s ≈ 108 000 entries ≈ 16 MB; 100 msg/s ≈ 1.08 M entries ≈ 160 MB.
// Beyond the window, a late retry is stored a second time; that is harmless
// because the fold depends on the set of callbacks, not on their repetition.
const DuplicateWindow = 3 * time.Hour

// StreamConfig returns the configuration of StreamName: subjects
// StreamSubjects, file storage, the given number of replicas (values below 1
// mean 1), no age, count or size limits (a ledger's record is never discarded),
// deletes and purges denied, and DuplicateWindow for deduplication.
func StreamConfig(replicas int) jetstream.StreamConfig {
	if replicas < 1 {
		replicas = 1
	}
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Xportcn callbacks as received: raw bytes and receipt headers, kept forever",
		Subjects:    []string{StreamSubjects},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxMsgs:     -1,
		MaxBytes:    -1,
		MaxAge:      0,
		Discard:     jetstream.DiscardOld,
		Duplicates:  DuplicateWindow,
		DenyDelete:  true,
		DenyPurge:   true,
	}
}

// EnsureStream creates StreamName with StreamConfig(replicas), or updates an
// existing stream to that configuration, except that it never lowers the
// stream's replicas: a node started without --replicas beside a cluster's
// R3 stream must not quietly make it R1 (raising them is an upgrade, and
// done). It is idempotent and safe to call from every ingester at start-up.
func EnsureStream(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.Stream, error) {
	cfg := StreamConfig(replicas)
	have, err := StreamReplicas(ctx, js, StreamName)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: %w", StreamName, err)
	}
	cfg.Replicas = max(cfg.Replicas, have)
	s, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: %w", StreamName, err)
	}
	return s, nil
}

// StreamReplicas returns the replicas of the stream name, 0 when it does not
// exist.
func StreamReplicas(ctx context.Context, js jetstream.JetStream, name string) (int, error) {
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return s.CachedInfo().Config.Replicas, nil
}
