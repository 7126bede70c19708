package projections

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"refundledger/ledger/simulate"
	"refundledger/proto"
)

// BenchmarkFoldAndCommit measures what a rebuild does after decoding, without
// NATS: folding ~106k simulated callbacks (the size of BenchmarkRebuild100k)
// in batches into a fresh bulk store and committing each batch. The decoding
// is done outside the timer. It isolates the fold and Pebble from the noise
// of a NATS server sharing the machine, to compare changes to either.
func BenchmarkFoldAndCommit(b *testing.B) {
	calls := simulate.Generate(simulate.Options{Seed: 1, Orders: 15000, DupRate: 0.05, RetryRate: 0.02, Shuffle: true})
	msgs := make([]Message, len(calls))
	for i, c := range calls {
		h := nats.Header{}
		h.Set(proto.HeaderReceivedAt, time.UnixMilli(c.DeliverAt).UTC().Format(time.RFC3339Nano))
		msgs[i] = Message{Seq: uint64(i + 1), Subject: "xportcn.cb.1688.bench._", Header: h, Data: c.Body}
	}
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var batches [][]decoded
		for lo := 0; lo < len(msgs); lo += DefaultMaxBatch {
			batches = append(batches, decodeAll(msgs[lo:min(lo+DefaultMaxBatch, len(msgs))], nil))
		}
		store, err := openBulkStore(filepath.Join(b.TempDir(), "p"), nil)
		if err != nil {
			b.Fatal(err)
		}
		p := &Projector{cfg: Config{Store: store, MaxBatch: DefaultMaxBatch}, written: newWrittenKeys()}
		p.counts.Store(&Counts{})
		before := cpuTime()
		b.StartTimer()
		var recent []*batch
		for _, msgs := range batches {
			bt, err := p.foldBatch(recent, msgs)
			if err != nil {
				b.Fatal(err)
			}
			bt.seal()
			recent = p.keepRecent(recent, bt)
			if err := bt.commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		cpu += cpuTime() - before
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(calls)*b.N)/b.Elapsed().Seconds(), "callbacks/s")
	b.ReportMetric(cpu.Seconds()*1e5/float64(len(calls)*b.N), "cpu-s/100k")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
