package projections

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"refundledger/ledger"
	"refundledger/proto"
)

// benchRefunds is how many refunds BenchmarkQuery stores (issue: "p99 of
// GET /v1/refunds/... under 2 ms with 1M refunds stored").
var benchRefunds = envInt("REFUNDLEDGER_BENCH_REFUNDS", 1_000_000)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// benchStore opens (building it the first time) a projection holding n
// refunds, written through the projector's own batches. Set
// REFUNDLEDGER_BENCH_DIR to keep it between runs; building 1M refunds takes
// about a minute.
func benchStore(b *testing.B, n int) *Store {
	b.Helper()
	dir := os.Getenv("REFUNDLEDGER_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	dir = filepath.Join(dir, fmt.Sprintf("query-%d", n))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := OpenStore(dir, log)
	if err != nil {
		b.Fatal(err)
	}
	if cp, _ := s.Checkpoint(); cp == uint64(n) {
		return s
	}
	seed, err := os.ReadFile("../testdata/xportcn/1688-refund-refundonly-success.json")
	if err != nil {
		b.Fatal(err)
	}
	cb, err := proto.DecodeCallback(seed)
	if err != nil {
		b.Fatal(err)
	}
	statuses := []string{"waitselleragree", "waitbuyersend", "refundsuccess", "refundclose"}
	start := time.Now()
	for lo := 0; lo < n; lo += DefaultMaxBatch {
		bt := newBatch(s, Counts{})
		bt.last = uint64(lo)
		for i := lo; i < min(lo+DefaultMaxBatch, n); i++ {
			snap := *cb.Refund
			snap.RefundID = fmt.Sprintf("TQ%d", 900000000000000000+i)
			snap.OrderID = strconv.Itoa(7000000000000000000 + i/2)
			snap.Status = statuses[i%len(statuses)]
			m := decoded{Message: Message{Seq: uint64(i + 1)}, kind: kindRefund, env: cb.Envelope, refund: &snap,
				delivery: ledger.Delivery{Seq: uint64(i + 1)}}
			if err := bt.apply(&m); err != nil {
				b.Fatal(err)
			}
		}
		if err := bt.commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("stored %d refunds in %s", n, time.Since(start).Round(time.Second))
	return s
}

// BenchmarkQuery measures GET /v1/refunds/{platform}/{refundId} and a page of
// GET /v1/refunds?status= over loopback HTTP against a projection of
// benchRefunds refunds, and reports p50 and p99 latency.
func BenchmarkQuery(b *testing.B) {
	s := benchStore(b, benchRefunds)
	defer s.Close()
	p := &Projection{store: s}
	api := &API{Projection: p, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		LastSeq: func(context.Context) (uint64, error) { return uint64(benchRefunds), nil }}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	client := srv.Client()
	r := rand.New(rand.NewPCG(1, 2))
	for _, q := range []struct {
		name string
		url  func() string
	}{
		{"GetRefund", func() string {
			return fmt.Sprintf("%s/v1/refunds/1688/TQ%d", srv.URL, 900000000000000000+r.IntN(benchRefunds))
		}},
		{"ListByStatus", func() string { return srv.URL + "/v1/refunds?status=refundsuccess&limit=50" }},
	} {
		b.Run(q.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				t0 := time.Now()
				resp, err := client.Get(q.url())
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(benchRefunds), "refunds-stored")
		})
	}
}
