package proto

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestParseTimeFastAgrees: whatever the fast path accepts, ParseTime reads to
// the same instant; dates out of range are left to ParseTime.
func TestParseTimeFastAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	inputs := []string{"", "0", "1704853762", "1704853762000", "20180423171116000+0800", "20180423171116999-0530",
		"20240229000000000+0000", "20230229000000000+0000", "20181323171116000+0800", "20180423241116000+0800",
		"20180423171160000+0800", "20180423171116000+2400", "20180423171116000+0860", "2026-05-20 15:40:00",
		"2026-02-30 15:40:00", "2026-05-20 15:40:60", "2026-05-20 24:00:00", "0000-01-01 00:00:00",
		"1900-02-29 00:00:00", "2000-02-29 23:59:59", "2026-05-20T15:40:00", "2026-5-20 15:40:00", " 1704853762000"}
	for range 20000 {
		inputs = append(inputs,
			fmt.Sprintf("%04d%02d%02d%02d%02d%02d%03d%c%02d%02d", r.IntN(10000), r.IntN(14), r.IntN(33), r.IntN(26),
				r.IntN(62), r.IntN(62), r.IntN(1000), "+-"[r.IntN(2)], r.IntN(26), r.IntN(62)),
			fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", r.IntN(10000), r.IntN(14), r.IntN(33), r.IntN(26), r.IntN(62), r.IntN(62)),
			fmt.Sprint(r.Int64N(1e16)))
	}
	for _, in := range inputs {
		got, ok := parseTimeFast([]byte(in))
		if !ok {
			continue
		}
		want, err := ParseTime(in)
		if err != nil || got != want {
			t.Fatalf("%q: fast %d, ParseTime %d (%v)", in, got, want, err)
		}
	}
}

func FuzzParseTimeFast(f *testing.F) {
	for _, s := range []string{"20180423171116000+0800", "2026-05-20 15:40:00", "1704853762000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := parseTimeFast([]byte(in))
		if !ok {
			return
		}
		if want, err := ParseTime(in); err != nil || got != want {
			t.Fatalf("%q: fast %d, ParseTime %d (%v)", in, got, want, err)
		}
	})
}
