package ledger_test

import (
	"encoding/json"
	"testing"

	"refundledger/ledger"
	"refundledger/ledger/simulate"
	"refundledger/proto"
)

const seedPath = "../testdata/xportcn/1688-refund-refundonly-success.json"

func reportRate(b *testing.B, callbacksPerOp int) {
	b.ReportMetric(float64(callbacksPerOp*b.N)/b.Elapsed().Seconds(), "callbacks/s")
}

// decodeMap is the baseline: plain encoding/json into map[string]any, the
// body decoded a second time when it is a JSON string.
func decodeMap(raw []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if s, ok := m["messageBody"].(string); ok {
		var body map[string]any
		if err := json.Unmarshal([]byte(s), &body); err != nil {
			return nil, err
		}
		m["messageBody"] = body
	}
	return m, nil
}

// BenchmarkSeedCallback decodes and folds the seed callback (5 KB) into an
// empty record, against the encoding/json map baseline (decode only).
func BenchmarkSeedCallback(b *testing.B) {
	seed := mustRead(b, seedPath)
	b.Run("Baseline/encoding-json-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeMap(seed); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, 1)
	})
	b.Run("DecodeEnvelope+DecodeRefund+ApplyRefund", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			env, err := proto.DecodeEnvelope(seed)
			if err != nil {
				b.Fatal(err)
			}
			s, err := proto.DecodeRefund(env.Body)
			if err != nil {
				b.Fatal(err)
			}
			ledger.ApplyRefund(ledger.RefundRecord{}, env.Platform, s, ledger.Delivery{PushedAt: env.PushedAt})
		}
		reportRate(b, 1)
	})
	b.Run("DecodeCallback+ApplyRefund", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := proto.DecodeCallback(seed)
			if err != nil || c.Refund == nil {
				b.Fatal(err, c.BodyErr)
			}
			ledger.ApplyRefund(ledger.RefundRecord{}, c.Platform, *c.Refund, ledger.Delivery{PushedAt: c.PushedAt})
		}
		reportRate(b, 1)
	})
	b.Run("ApplyRefund", func(b *testing.B) {
		c, err := proto.DecodeCallback(seed)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			ledger.ApplyRefund(ledger.RefundRecord{}, c.Platform, *c.Refund, ledger.Delivery{})
		}
		reportRate(b, 1)
	})
}

// BenchmarkSimulatedMix decodes and folds 1000 simulated callbacks (orders
// and refund snapshots of every lifecycle, retries, duplicates, shuffled)
// into records, as a projection does.
func BenchmarkSimulatedMix(b *testing.B) {
	opts := simulate.Options{Seed: 42, Orders: 90, RetryRate: 0.2, DupRate: 0.1, Shuffle: true}
	var bodies [][]byte
	for _, c := range simulate.Generate(opts) {
		bodies = append(bodies, c.Body)
	}
	b.Logf("%d callbacks per op", len(bodies))
	b.Run("Baseline/encoding-json-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, body := range bodies {
				if _, err := decodeMap(body); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportRate(b, len(bodies))
	})
	b.Run("DecodeCallback+Apply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bk := newBook()
			for _, body := range bodies {
				bk.apply(b, body)
			}
		}
		reportRate(b, len(bodies))
	})
}
