package ingest_test

import (
	"bytes"
	"context"
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
	var out bytes.Buffer
	res, err := ingest.RunBench(context.Background(), ingest.BenchOptions{
		JS: env.js, Seeds: seeds, Concurrency: 4, Requests: 200, Duration: 5 * time.Second, Label: "test",
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []ingest.BenchPhase{res.Raw, res.Ceiling, res.Full} {
		if p.Requests != 200 || p.Errors != 0 || p.PerSec <= 0 || p.P99 < p.P50 {
			t.Errorf("phase %+v", p)
		}
	}
	if res.Ratio <= 0 {
		t.Errorf("ratio %v", res.Ratio)
	}
	// Every full-path request was new: 200 raw + 200 full stored.
	if n := len(env.stored(t)); n != 400 {
		t.Errorf("stored %d, want 400", n)
	}
	for _, want := range []string{"raw", "ceiling", "full", "req/s", "p99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}
