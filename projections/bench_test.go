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
func BenchmarkRebuild(b *testing.B) {
	e := mustEnv(b)
	calls := simulate.Generate(simulate.Options{Seed: 1, Orders: 3000, DupRate: 0.05, RetryRate: 0.02, Shuffle: true})
	for _, c := range calls {
		m := nats.NewMsg("xportcn.cb.1688.bench._")
		m.Data = c.Body
		m.Header.Set(proto.HeaderReceivedAt, time.UnixMilli(c.DeliverAt).UTC().Format(time.RFC3339Nano))
		if _, err := e.js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
	}
	<-e.js.PublishAsyncComplete()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := projections.Rebuild(context.Background(), projections.RebuildConfig{
			JS: e.js, Stream: streamName, Dir: filepath.Join(b.TempDir(), "p"), Logger: quiet(),
		})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(len(calls)*b.N)/b.Elapsed().Seconds(), "callbacks/s")
}
