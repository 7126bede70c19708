package projections

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The wait doubles from 100 ms to MaxNATSBackoff, a success starts over, and
// a run of failures is logged once per MaxNATSBackoff, not once per attempt.
func TestBackoff(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var b backoff
	var got []time.Duration
	for range 9 {
		got = append(got, b.next(log, "away", errors.New("timeout")))
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("waits %v, want %v ms", got, want)
		}
	}
	if n := strings.Count(logs.String(), "msg=away"); n != 1 {
		t.Fatalf("%d warnings for one run of failures, want 1:\n%s", n, &logs)
	}
	b.reset()
	if d := b.next(log, "away", errors.New("timeout")); d != 100*time.Millisecond {
		t.Fatalf("after a reset the wait is %v, want 100ms", d)
	}
	if n := strings.Count(logs.String(), "msg=away"); n != 2 {
		t.Fatalf("a new run of failures is not logged (%d warnings)", n)
	}
}
