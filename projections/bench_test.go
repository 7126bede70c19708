package projections_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"refundledger/ledger/simulate"
	"refundledger/projections"
	"refundledger/proto"
)

// BenchmarkRebuild measures a rebuild (decode, fold, Pebble) of a stream of
// simulated callbacks; `refundledger bench replay` is the full measurement.
func BenchmarkRebuild(b *testing.B) { benchRebuild(b, 3000) }

// BenchmarkRebuild100k is BenchmarkRebuild at the size `bench replay --n
// 100000` folds (about 106k callbacks). Besides the rate it reports the CPU
// time of the whole process (NATS server included) per 100k callbacks, which
// a noisy machine disturbs less than the wall time.
func BenchmarkRebuild100k(b *testing.B) { benchRebuild(b, 15000) }

func benchRebuild(b *testing.B, orders int) {
	e := mustEnv(b)
	calls := simulate.Generate(simulate.Options{Seed: 1, Orders: orders, DupRate: 0.05, RetryRate: 0.02, Shuffle: true})
	for _, c := range calls {
		m := nats.NewMsg("xportcn.cb.1688.bench._")
		m.Data = c.Body
		m.Header.Set(proto.HeaderReceivedAt, time.UnixMilli(c.DeliverAt).UTC().Format(time.RFC3339Nano))
		if _, err := e.js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
	}
	<-e.js.PublishAsyncComplete()
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := projections.CPUTime()
		s, err := projections.Rebuild(context.Background(), projections.RebuildConfig{
			JS: e.js, Stream: streamName, Dir: filepath.Join(b.TempDir(), "p"), Logger: quiet(),
		})
		if err != nil {
			b.Fatal(err)
		}
		cpu += projections.CPUTime() - before
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(calls)*b.N)/b.Elapsed().Seconds(), "callbacks/s")
	b.ReportMetric(cpu.Seconds()*1e5/float64(len(calls)*b.N), "cpu-s/100k")
}
