package ingest_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"refundledger/ingest"
)

func TestRunBench(t *testing.T) {
	env := mustStartNATS(t)
	var seeds [][]byte
	for _, n := range fixtureNames(t) {
		seeds = append(seeds, mustReadFixture(t, n))
	}
	res, err := ingest.RunBench(context.Background(), ingest.BenchOptions{
		JS: env.js, Seeds: seeds, Concurrency: 4, Requests: 200, Duration: 5 * time.Second, Rounds: 2, Label: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range slices.Concat(res.Raw, []ingest.BenchPhase{res.Ceiling, res.Full}) {
		if p.Requests != 200 || p.Errors != 0 || p.PerSec <= 0 || p.P99 < p.P50 {
			t.Errorf("phase %+v", p)
		}
	}
	if res.Ratio <= 0 {
		t.Errorf("ratio %v", res.Ratio)
	}
	// Every raw and full-path request was new: 200 per raw mode + 200 full stored.
	if n, want := len(env.stored(t)), 200*(len(res.Raw)+1); n != want {
		t.Errorf("stored %d, want %d", n, want)
	}
	var out bytes.Buffer
	if err := ingest.PrintBench(&out, []ingest.BenchResult{res}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"raw", "ceiling", "full", "req/s", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}
