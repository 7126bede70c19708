package proto_test

import (
	"os"
	"testing"

	"refundledger/ledger/simulate"
	"refundledger/proto"
)

// BenchmarkDecodeCallback decodes the 5 KB seed refund (indented, body an
// object) and a simulated mix (compact; a third of the bodies JSON-encoded
// strings; every time form).
func BenchmarkDecodeCallback(b *testing.B) {
	seed, err := os.ReadFile("../testdata/xportcn/1688-refund-refundonly-success.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Seed", func(b *testing.B) {
		b.SetBytes(int64(len(seed)))
		b.ReportAllocs()
		for b.Loop() {
			if c, err := proto.DecodeCallback(seed); err != nil || c.Refund == nil {
				b.Fatal(err, c.BodyErr)
			}
		}
	})
	var mix [][]byte
	size := 0
	for _, c := range simulate.Generate(simulate.Options{Seed: 42, Orders: 90, RetryRate: 0.2, DupRate: 0.1, Shuffle: true}) {
		mix = append(mix, c.Body)
		size += len(c.Body)
	}
	b.Run("SimulatedMix", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			for _, m := range mix {
				if c, err := proto.DecodeCallback(m); err != nil || c.BodyErr != nil {
					b.Fatal(err, c.BodyErr)
				}
			}
		}
	})
}

// BenchmarkDecodeRoute is the ingester's hot path on the 5 KB seed refund:
// the one-pass DecodeRoute against the two passes it replaced
// (DecodeEnvelope, then SniffOrderID on the body), in the same run.
func BenchmarkDecodeRoute(b *testing.B) {
	seed, err := os.ReadFile("../testdata/xportcn/1688-refund-refundonly-success.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("OnePass", func(b *testing.B) {
		b.SetBytes(int64(len(seed)))
		b.ReportAllocs()
		for b.Loop() {
			if r, err := proto.DecodeRoute(seed); err != nil || r.OrderID == "" {
				b.Fatal(err, r.OrderID)
			}
		}
	})
	b.Run("TwoPasses", func(b *testing.B) {
		b.SetBytes(int64(len(seed)))
		b.ReportAllocs()
		for b.Loop() {
			env, err := proto.DecodeEnvelope(seed)
			if err != nil || proto.SniffOrderID(env.Body) == "" {
				b.Fatal(err)
			}
		}
	})
}
