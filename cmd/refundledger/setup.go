package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// setupTimeout bounds how long a starting node waits for JetStream to take
// its streams (a cluster that has just formed may need a while to elect
// leaders), and setupAttempt one try.
const (
	setupTimeout = 2 * time.Minute
	setupAttempt = 20 * time.Second
)

// untilReady runs step until it succeeds, retrying with a growing pause and
// logging each failure, for at most setupTimeout.
func untilReady(ctx context.Context, log *slog.Logger, what string, step func(context.Context) error) error {
	deadline := time.Now().Add(setupTimeout)
	pause := 250 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, setupAttempt)
		err := step(actx)
		cancel()
		if err == nil {
			return nil
		}
		if notClustered(err) {
			return fmt.Errorf("%s: %w: the NATS server is not part of a cluster, and --replicas above 1 needs one", what, err)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", what, err)
		}
		log.Warn("waiting for JetStream", "step", what, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// jsErrReplicasNotSupported is JetStream's error code for a replicated
// stream on a server outside a cluster ("replicas > 1 not supported in
// non-clustered mode"): waiting cannot mend it.
const jsErrReplicasNotSupported jetstream.ErrorCode = 10074

func notClustered(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsErrReplicasNotSupported
}

// ensure creates or updates a stream through untilReady.
func ensure(ctx context.Context, log *slog.Logger, name string, create func(context.Context) (jetstream.Stream, error)) (jetstream.Stream, error) {
	var s jetstream.Stream
	err := untilReady(ctx, log, "stream "+name, func(ctx context.Context) (err error) {
		s, err = create(ctx)
		return err
	})
	return s, err
}
