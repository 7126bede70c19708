package projections

import (
	"context"
	"log/slog"
	"time"
)

// MaxNATSBackoff is the longest the projector, a rebuild and the relay wait
// between attempts while NATS cannot answer (unreachable, timing out, a
// cluster electing a stream's leader). They wait NATS out rather than
// return, because serve stops when one of them returns.
const MaxNATSBackoff = 5 * time.Second

// natsError marks a failure of NATS that waiting may mend.
type natsError struct{ err error }

func (e *natsError) Error() string { return e.err.Error() }
func (e *natsError) Unwrap() error { return e.err }

func natsErr(err error) error { return &natsError{err: err} }

// backoff paces the attempts while NATS cannot answer: the wait doubles from
// 100 ms up to MaxNATSBackoff, and a warning is logged at most once per
// MaxNATSBackoff. The zero value is ready to use.
type backoff struct {
	wait   time.Duration
	logged time.Time
}

// next logs err (when it has not logged for a while) and returns how long
// to wait before the next attempt.
func (b *backoff) next(log *slog.Logger, msg string, err error) time.Duration {
	b.wait = min(max(2*b.wait, 100*time.Millisecond), MaxNATSBackoff)
	b.warn(log, msg, err, b.wait)
	return b.wait
}

// warn logs err unless it logged less than MaxNATSBackoff ago.
func (b *backoff) warn(log *slog.Logger, msg string, err error, retryIn time.Duration) {
	if now := time.Now(); now.Sub(b.logged) >= MaxNATSBackoff {
		b.logged = now
		log.Warn(msg, "err", err, "retry_in", retryIn)
	}
}

// reset starts over after a success.
func (b *backoff) reset() { b.wait, b.logged = 0, time.Time{} }

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
